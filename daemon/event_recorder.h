// Event recordings, the processing loop's side: keeps the last seconds of audio for the pre-roll,
// follows each recorded event with the audio as it arrives until its post-roll is complete, and hands
// everything to the RecordingWriter (which alone touches the disk). Stream times (s) place samples:
// the sample pushed after realign(t) is at time t, and the ones after it follow at `rate`.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "audio_history.h"
#include "recording_options.h"
#include "recording_writer.h"

namespace escd::daemon {

// Where an event's audio went, for its end message: the file (relative to the recordings
// directory) and the stream times it covers.
struct RecordingSpan {
  std::string file;
  double start = 0, end = 0;
  bool truncated = false;  // the event outlasted max_event_s; the file stops there
};

class EventRecorder {
 public:
  // `rate`: the rate of what push() gets. `writer` outlives this recorder.
  EventRecorder(const RecordingOptions& options, int rate, RecordingWriter& writer);

  // Audio as it arrives (mono).
  void push(const float* samples, size_t n);
  // The next sample pushed is at stream time `t` (after a gap in the input). Recordings whose event
  // has ended are finished with what they have: their post-roll would be audio from after the gap.
  void realign(double t);

  // An event of `model` started at stream time `t`, at wall-clock time `wall`. Records it from
  // pre_roll_s before `t` (or from the oldest audio held, at start-up) unless the model is not
  // one of the recorded ones.
  void start(const std::string& model, int class_index, const std::string& label, double score, double t,
             std::chrono::system_clock::time_point wall);
  // The event ended at `t`: its recording goes on until post_roll_s after `t` (without `post_roll`,
  // when no more audio is coming: shutdown, a lost input). Returns where it is (nothing when the
  // event was not recorded).
  std::optional<RecordingSpan> end(const std::string& model, int class_index, double t, bool post_roll = true);
  // Finishes every recording now, post-rolls cut short (shutdown).
  void finish_all();

  // esc.recording.<model> messages for the recordings the writer has finished since the last call:
  // (model, body).
  std::vector<std::pair<std::string, nlohmann::json>> finished();
  // For esc.health: the writer's counters and the recordings in progress.
  nlohmann::json stats() const;

 private:
  struct Active {
    uint64_t id;
    std::string model, label, file;
    int class_index;
    uint64_t first, next, limit;  // sample indices: the first recorded, the next to send, one past the last allowed
    bool ended = false;           // limit is the post-roll's end
  };
  uint64_t index_at(double t) const;
  double time_at(uint64_t index) const;
  // Sends what `a` still needs of the audio held; returns false once it is finished or dropped.
  bool feed(Active& a);

  RecordingOptions options_;
  int rate_;
  RecordingWriter& writer_;
  AudioHistory history_;
  uint64_t anchor_index_ = 0;  // history index of the sample at stream time anchor_time_
  double anchor_time_ = 0;
  uint64_t next_id_ = 1;
  int64_t last_name_ms_ = 0;   // the wall-clock millisecond in the last file name
  std::map<uint64_t, Active> active_;                                     // by id
  std::map<uint64_t, std::pair<std::string, std::string>> identities_;  // id -> (model, label), until finished()
  std::map<std::pair<std::string, int>, RecordingSpan> outlasted_;     // finished at max_event_s, event still on
};

}  // namespace escd::daemon
