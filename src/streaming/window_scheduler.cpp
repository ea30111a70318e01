#include "streaming/window_scheduler.h"

#include "streaming/staggered_windows.h"
#include "streaming/window_recompute.h"

namespace escd {

std::unique_ptr<WindowScheduler> make_window_scheduler(SequenceClassifier& model, int64_t window_frames,
                                                       int64_t hop_frames) {
  if (model.streams_recurrently()) return std::make_unique<StaggeredWindows>(model, window_frames, hop_frames);
  return std::make_unique<WindowRecompute>(model, window_frames, hop_frames);
}

}  // namespace escd
