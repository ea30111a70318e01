// Raw interleaved PCM from a file descriptor (`escd --input - --format s16le --rate R --channels C`),
// e.g. `arecord -t raw ... | escd --input -` or `ffmpeg ... -f s16le - | escd --input -`.
//
// Formats, little-endian, with arecord's name for each (also accepted, any case):
//   s16le    S16_LE    16-bit signed
//   s24_le   S24_LE    24-bit signed in the low three bytes of a 4-byte word (the top byte is ignored)
//   s24_3le  S24_3LE   24-bit signed packed in 3 bytes (what ffmpeg calls s24le)
//   s32le    S32_LE    32-bit signed
//   f32le    FLOAT_LE  32-bit float
// A bare "s24le" is refused: arecord's S24_LE and ffmpeg's s24le are different layouts.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "audio/audio_source.h"

namespace escd {

enum class PcmFormat { S16LE, S24LE, S24_3LE, S32LE, F32LE };

// One of the names above (any case). Throws std::invalid_argument naming the bad value and the choices.
PcmFormat parse_pcm_format(const std::string& name);
const char* pcm_format_name(PcmFormat format);
size_t pcm_sample_bytes(PcmFormat format);

class RawPcmSource : public AudioSource {
 public:
  // Reads from fd (not owned, not closed). Throws std::invalid_argument for a rate outside
  // 1..768000 Hz or a channel count outside 1..64, std::runtime_error if the wake-up pipe fails.
  RawPcmSource(PcmFormat format, int rate, int channels, int fd = STDIN_FILENO, std::string name = "stdin");
  ~RawPcmSource() override;
  RawPcmSource(const RawPcmSource&) = delete;
  RawPcmSource& operator=(const RawPcmSource&) = delete;

  int sample_rate() const override { return rate_; }
  int channels() const override { return channels_; }
  // Returns as soon as at least one whole frame has arrived (a sample or frame split across pipe
  // reads is kept for the next call), or 0 at the timeout, on interrupt(), or at end of input.
  size_t read(std::vector<float>& out, size_t max_frames, std::chrono::milliseconds timeout) override;
  bool finished() const override { return finished_.load(); }
  SourceStats stats() const override;
  void interrupt() override;

 private:
  size_t decode_frames(std::vector<float>& out, size_t max_frames);

  PcmFormat format_;
  int rate_;
  int channels_;
  int fd_;
  size_t frame_bytes_;
  std::vector<uint8_t> pending_;  // bytes read but not yet delivered (at most one read's worth)
  int wake_pipe_[2] = {-1, -1};   // interrupt() writes a byte to make poll() return
  std::atomic<bool> finished_{false};
  mutable std::mutex stats_mutex_;
  SourceStats stats_;
};

}  // namespace escd
