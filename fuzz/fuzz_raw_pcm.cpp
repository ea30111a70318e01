// Raw PCM on stdin (`escd --input - --format F --rate R --channels C`): the first two bytes choose
// the format (any of the five) and channel count (as the command line would), the rest is the stream. Every frame
// must come out finite (NaN/Inf in f32le are replaced and counted), whole frames only, and a
// trailing partial frame must be reported, never read past.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "audio/raw_pcm_source.h"
#include "memory_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  constexpr escd::PcmFormat kFormats[] = {escd::PcmFormat::S16LE, escd::PcmFormat::S24LE, escd::PcmFormat::S24_3LE,
                                          escd::PcmFormat::S32LE, escd::PcmFormat::F32LE};
  const escd::PcmFormat format = kFormats[data[0] % 5];
  const int channels = 1 + data[1] % 64;
  const size_t bytes_per_frame = escd::pcm_sample_bytes(format) * static_cast<size_t>(channels);
  const escd::fuzz::MemoryFile stream(data + 2, size - 2);
  escd::RawPcmSource source(format, 16000, channels, stream.fd(), "fuzz");
  std::vector<float> out;
  // Small, varying read sizes so frames straddle reads the way they straddle pipe writes.
  size_t max_frames = 1 + data[0] / 5 % 7;
  while (!source.finished()) {
    const size_t before = out.size();
    const size_t got = source.read(out, max_frames, std::chrono::milliseconds(100));
    if (got > max_frames || out.size() - before != got * static_cast<size_t>(channels)) std::abort();
    max_frames = max_frames % 13 + 1;
  }
  for (float v : out) {
    if (!std::isfinite(v)) std::abort();
  }
  const size_t whole_frames = (size - 2) / bytes_per_frame;
  if (out.size() != whole_frames * static_cast<size_t>(channels)) std::abort();
  if (source.stats().frames_delivered != whole_frames) std::abort();
  return 0;
}
