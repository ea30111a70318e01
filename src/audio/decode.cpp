#include "audio/decode.h"

#include <sndfile.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>

#include "audio/resample.h"
#include "audio/sample_guard.h"

namespace escd {
namespace {

constexpr sf_count_t kDecodeChunkFrames = 65536;

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

// libsndfile accepts a WAV/AIFF whose data chunk is cut short and quietly shortens it; its log
// then shows the chunk line as e.g. "data : 32000 (should be 16000)".
bool log_reports_truncation(SNDFILE* file) {
  char log[8192] = {0};
  sf_command(file, SFC_GET_LOG_INFO, log, sizeof(log));
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    const bool data_chunk = line.rfind("data", 0) == 0 || line.rfind("SSND", 0) == 0;
    if (data_chunk && line.find("should be") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::vector<float> mix_to_mono(const float* interleaved, size_t frames, int channels) {
  std::vector<float> mono(frames);
  if (channels == 1) {
    std::copy(interleaved, interleaved + frames, mono.begin());
    return mono;
  }
  // Summed in double: in float, channels near full range of the type would overflow to Inf.
  for (size_t i = 0; i < frames; ++i) {
    double sum = 0.0;
    for (int c = 0; c < channels; ++c) sum += interleaved[i * channels + c];
    mono[i] = static_cast<float>(sum / channels);
  }
  return mono;
}

DecodedAudio decode_audio_file(const std::string& path, int target_rate) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw AudioError(path, "no such file");
  if (fs::is_directory(status)) throw AudioError(path, "is a directory, not an audio file");
  if (fs::file_size(path, ec) == 0) throw AudioError(path, "file is empty (0 bytes)");

  SF_INFO info{};
  SndfilePtr file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) {
    throw AudioError(path, std::string("not a readable audio file (libsndfile: ") + sf_strerror(nullptr) + ")");
  }
  if (info.channels <= 0 || info.samplerate <= 0) {
    throw AudioError(path, "invalid header: " + std::to_string(info.channels) + " channels at " +
                               std::to_string(info.samplerate) + " Hz");
  }
  if (info.samplerate < kMinFileRate || info.samplerate > kMaxFileRate) {
    throw AudioError(path, "sample rate " + std::to_string(info.samplerate) + " Hz is outside " +
                               std::to_string(kMinFileRate) + ".." + std::to_string(kMaxFileRate) + " Hz");
  }
  if (info.frames <= 0) throw AudioError(path, "contains no audio frames");
  if (log_reports_truncation(file.get())) {
    throw AudioError(path, "truncated: the header declares more audio than the file holds");
  }

  // The header's frame count is a claim, not a fact: refuse absurd ones outright, and grow the
  // buffer with what actually decodes, so a 100-byte file cannot make us allocate gigabytes.
  if (static_cast<double>(info.frames) * info.channels > static_cast<double>(kMaxDecodedSamples)) {
    throw AudioError(path, "header declares " + std::to_string(info.frames) + " frames of " +
                               std::to_string(info.channels) + " channels, more than the " +
                               std::to_string(kMaxDecodedSamples) + " samples decode_audio_file accepts");
  }
  const auto channels = static_cast<size_t>(info.channels);
  std::vector<float> interleaved;
  sf_count_t got = 0;
  while (got < info.frames) {
    const sf_count_t want = std::min<sf_count_t>(kDecodeChunkFrames, info.frames - got);
    interleaved.resize(static_cast<size_t>(got + want) * channels);
    const sf_count_t n = sf_readf_float(file.get(), interleaved.data() + static_cast<size_t>(got) * channels, want);
    if (n <= 0) break;
    got += n;
  }
  interleaved.resize(static_cast<size_t>(got) * channels);
  if (got != info.frames) {
    throw AudioError(path, "truncated: header declares " + std::to_string(info.frames) + " frames, only " +
                               std::to_string(got) + " could be decoded (" + sf_strerror(file.get()) + ")");
  }

  DecodedAudio out;
  out.source_rate = info.samplerate;
  out.source_channels = info.channels;
  out.sample_rate = target_rate;
  SampleGuardCounts guarded;
  guard_samples(interleaved.data(), interleaved.size(), guarded);
  out.non_finite_replaced = guarded.non_finite;
  out.out_of_range_clamped = guarded.clamped;
  if (guarded.non_finite + guarded.clamped > 0) {
    spdlog::warn("{}: replaced {} non-finite samples with 0, clamped {} beyond +-{}", path, guarded.non_finite,
                 guarded.clamped, kMaxSampleMagnitude);
  }
  std::vector<float> mono = mix_to_mono(interleaved.data(), static_cast<size_t>(got), info.channels);
  out.samples = resample_offline(mono, info.samplerate, target_rate);
  return out;
}

}  // namespace escd
