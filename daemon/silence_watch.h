// Digital silence on the input: a microphone that is muted, or a capture stream that the sound
// server silently moved to another source, delivers exact zeros with no error at all (the capture
// tests reproduce both with a private PulseAudio server). A real microphone's noise floor never does, so a long enough run
// of (near-)zero samples is reported in esc.health and logged; predictions go on (they describe the
// audio truthfully), and subscribers can tell "quiet room" from "no microphone" by `input.silent`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace escd::daemon {

class SilenceWatch {
 public:
  // report_after_s: how long a run of digital silence lasts before it is reported.
  explicit SilenceWatch(double report_after_s = 5.0, int rate = 16000);

  enum class Change { kNone, kStarted, kEnded };
  // Feeds the stream's samples (16 kHz mono); says when a reported silence starts or ends.
  Change feed(const float* samples, size_t n);

  bool silent() const { return run_ >= report_after_; }
  double silent_seconds() const { return static_cast<double>(run_) / rate_; }  // current run
  uint64_t silences() const { return silences_; }  // runs reported since the start

 private:
  uint64_t report_after_;
  int rate_;
  uint64_t run_ = 0;  // consecutive silent samples
  uint64_t silences_ = 0;
};

}  // namespace escd::daemon
