#include "audio/decode.h"

#include <sndfile.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>

#include "audio/resample.h"

namespace escd {
namespace {

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
  const float scale = 1.0f / static_cast<float>(channels);
  for (size_t i = 0; i < frames; ++i) {
    float sum = 0.0f;
    for (int c = 0; c < channels; ++c) sum += interleaved[i * channels + c];
    mono[i] = sum * scale;
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
  if (info.frames <= 0) throw AudioError(path, "contains no audio frames");
  if (log_reports_truncation(file.get())) {
    throw AudioError(path, "truncated: the header declares more audio than the file holds");
  }

  std::vector<float> interleaved(static_cast<size_t>(info.frames) * info.channels);
  const sf_count_t got = sf_readf_float(file.get(), interleaved.data(), info.frames);
  if (got != info.frames) {
    throw AudioError(path, "truncated: header declares " + std::to_string(info.frames) + " frames, only " +
                               std::to_string(got) + " could be decoded (" + sf_strerror(file.get()) + ")");
  }

  DecodedAudio out;
  out.source_rate = info.samplerate;
  out.source_channels = info.channels;
  out.sample_rate = target_rate;
  std::vector<float> mono = mix_to_mono(interleaved.data(), static_cast<size_t>(got), info.channels);
  // Float files can hold NaN/Inf; one of them would poison every frame it touches. Zero them, count.
  for (float& s : mono) {
    if (!std::isfinite(s)) {
      s = 0.0f;
      ++out.non_finite_replaced;
    }
  }
  if (out.non_finite_replaced > 0) {
    spdlog::warn("{}: replaced {} non-finite samples with 0", path, out.non_finite_replaced);
  }
  out.samples = resample_offline(mono, info.samplerate, target_rate);
  return out;
}

}  // namespace escd
