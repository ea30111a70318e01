#include "silence_watch.h"

#include <cmath>

namespace escd::daemon {
namespace {

// -120 dBFS: below half a 24-bit step and far below a 16-bit one (3e-5), so only true digital
// silence (and a resampler's numerical dust on it) counts, never a quiet room.
constexpr float kSilentAmplitude = 1e-6f;

}  // namespace

SilenceWatch::SilenceWatch(double report_after_s, int rate)
    : report_after_(static_cast<uint64_t>(std::llround(report_after_s * rate))), rate_(rate) {}

SilenceWatch::Change SilenceWatch::feed(const float* samples, size_t n) {
  const bool was_silent = silent();
  bool ended = false;
  for (size_t i = 0; i < n; ++i) {
    if (std::fabs(samples[i]) <= kSilentAmplitude) {
      ++run_;
    } else {
      ended = ended || run_ >= report_after_;
      run_ = 0;
    }
  }
  // Blocks are a few ms long: one change per block is all a report once per second can show.
  if (!was_silent && silent()) {
    ++silences_;
    return Change::kStarted;
  }
  if (was_silent && (ended || !silent())) return Change::kEnded;
  return Change::kNone;
}

}  // namespace escd::daemon
