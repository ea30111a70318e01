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
  size_t out_of_range_clamped = 0;  // samples beyond +-kMaxSampleMagnitude, clamped (audio/sample_guard.h)
};

// The sample rates files may have: libsamplerate converts by ratios of at most 256 either way, and
// no real recording lies outside this range. Others are an AudioError, not a resampler failure.
constexpr int kMinFileRate = 1000;
constexpr int kMaxFileRate = 768000;

// The most samples (frames x channels) decode_audio_file accepts from one file: 2^27, 512 MB of
// float, e.g. 70 minutes of 16 kHz stereo. Longer recordings are streamed (escd --input), not decoded whole.
constexpr size_t kMaxDecodedSamples = size_t(1) << 27;

// Reads anything libsndfile reads (WAV, FLAC, OGG, AIFF...), mixes channels down to mono (mean),
// and resamples to target_rate with libsamplerate's best-quality sinc converter.
// Throws AudioError for a missing, empty, truncated, too long or non-audio file.
DecodedAudio decode_audio_file(const std::string& path, int target_rate = 16000);

// Mixes interleaved frames of `channels` channels down to mono by averaging.
std::vector<float> mix_to_mono(const float* interleaved, size_t frames, int channels);

}  // namespace escd
