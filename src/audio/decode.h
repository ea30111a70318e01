// Decoding audio files to the project's canonical form: float32 mono at a target rate (16 kHz).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace escd {

// Thrown for any file that cannot be turned into audio; what() names the file and the reason.
class AudioError : public std::runtime_error {
 public:
  AudioError(const std::string& path, const std::string& reason)
      : std::runtime_error(path + ": " + reason), path_(path), reason_(reason) {}
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string path_;
  std::string reason_;
};

struct DecodedAudio {
  std::vector<float> samples;  // mono, at sample_rate
  int sample_rate = 0;
  int source_rate = 0;         // the file's own rate and channel count, for reporting
  int source_channels = 0;
  size_t non_finite_replaced = 0;  // NaN/Inf samples in the file, replaced by 0 (and logged)
};

// Reads anything libsndfile reads (WAV, FLAC, OGG, AIFF...), mixes channels down to mono (mean),
// and resamples to target_rate with libsamplerate's best-quality sinc converter.
// Throws AudioError for a missing, empty, truncated or non-audio file.
DecodedAudio decode_audio_file(const std::string& path, int target_rate = 16000);

// Mixes interleaved frames of `channels` channels down to mono by averaging.
std::vector<float> mix_to_mono(const float* interleaved, size_t frames, int channels);

}  // namespace escd
