// Audio files as escd (--input), esc-train and the dataset loader decode them: libsndfile (WAV,
// FLAC, OGG, AIFF, AU, ...), the header and truncation checks, the mix to mono and the resampler.
// Accepted outcomes: finite 16 kHz mono samples of the length the file's duration implies, or an
// AudioError naming the file.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "audio/decode.h"
#include "memory_file.h"

// The decoder logs each file with NaN/Inf samples; at thousands of files a second that is noise.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const escd::fuzz::MemoryFile file(data, size);
  try {
    const auto audio = escd::decode_audio_file(file.path());
    if (audio.sample_rate != 16000 || audio.source_rate <= 0 || audio.source_channels <= 0) std::abort();
    for (float v : audio.samples) {
      if (!std::isfinite(v)) std::abort();
    }
  } catch (const escd::AudioError&) {
  }
  return 0;
}
