// Where escd's audio comes from: a microphone (PortAudio), a file, or raw PCM on stdin. Every source
// delivers interleaved float32 frames at its own rate and channel count; the pipeline mixes to mono
// and resamples to 16 kHz, so all sources share one path.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace escd {

struct SourceStats {
  uint64_t frames_delivered = 0;   // frames returned by read()
  uint64_t device_overflows = 0;   // input overflow flags reported by the device/driver
  uint64_t ring_overflows = 0;     // frames dropped because the consumer did not keep up
  uint64_t reconnects = 0;         // successful re-opens after a lost device
  uint64_t reconnect_attempts = 0; // failed re-open attempts (with backoff) since the last loss
  // Times the delivered audio stopped being one contiguous stream (device lost, an overflow and the
  // backlog dropped): the consumer must not let a window span one, or it would mix old and new audio.
  uint64_t discontinuities = 0;
  uint64_t non_finite_replaced = 0;  // NaN/Inf samples (float files, f32le PCM) replaced by 0
  uint64_t out_of_range_clamped = 0;  // finite samples beyond +-kMaxSampleMagnitude (audio/sample_guard.h)
  bool connected = true;           // false while a device is lost and being retried
  std::string device;              // device name (or file path, or "stdin")
  std::string last_error;          // most recent error, for health reports
};

class AudioSource {
 public:
  virtual ~AudioSource() = default;
  virtual int sample_rate() const = 0;
  virtual int channels() const = 0;
  // Appends up to max_frames interleaved frames to `out`, waiting at most `timeout` for data.
  // Returns the number of frames appended (0 on timeout or at the end of input).
  virtual size_t read(std::vector<float>& out, size_t max_frames, std::chrono::milliseconds timeout) = 0;
  // True once a finite source (file, stdin) has delivered everything; live sources never finish.
  virtual bool finished() const = 0;
  virtual SourceStats stats() const = 0;
  // Asks a blocking read() to return early (shutdown). Safe from another thread.
  virtual void interrupt() {}
};

}  // namespace escd
