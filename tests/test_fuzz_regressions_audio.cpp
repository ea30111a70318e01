// Inputs the fuzzers (fuzz/) found, replayed without the fuzzer: each must now end in the parser's
// own error, naming the file. The inputs live in tests/fixtures/fuzz/.
#include <gtest/gtest.h>

#include <sndfile.h>

#include <filesystem>
#include <fstream>

#include "audio/decode.h"
#include "audio/file_source.h"
#include "test_support.h"

namespace escd {
namespace {

using test::expect_audio_error;

// fuzz_decode: a 3.7 kB Ogg/Vorbis file whose granule positions claim ~2^61 frames. Decoding sized
// its buffer from that claim (std::length_error from std::vector); now it is refused up front.
TEST(FuzzRegressions, OggClaimingAbsurdlyManyFramesIsRefusedBeforeAllocating) {
  expect_audio_error(test::fixture("fuzz/decode-ogg-huge-frame-count.ogg"), "samples decode_audio_file accepts");
}

// fuzz_decode: a malformed Ogg that libsndfile rejects (leaking a vorbis_info inside libvorbis,
// suppressed in tests/sanitizers/lsan.supp): a clear error, nothing more.
TEST(FuzzRegressions, MalformedOggIsAClearError) {
  expect_audio_error(test::fixture("fuzz/decode-ogg-libvorbis-leak.ogg"), "not a readable audio file");
}

// The same length claim in a WAV header, but below the hard limit: the buffer grows with what
// decodes, and the shortfall is reported as truncation.
TEST(FuzzRegressions, WavHeaderClaimingMoreDataThanItHoldsIsTruncatedNotAllocated) {
  test::TempDir dir;
  test::write_audio(dir.path("a.wav"), std::vector<float>(100, 0.1f), 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  {
    std::fstream f(dir.path("a.wav"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);  // the data chunk's size in a canonical 44-byte header
    const uint32_t claimed = 400u * 1000 * 1000;
    f.write(reinterpret_cast<const char*>(&claimed), 4);
  }
  expect_audio_error(dir.path("a.wav"), "truncated");
}

// Sample rates libsamplerate cannot convert from (ratio beyond 256) are the file's fault, said so.
TEST(FuzzRegressions, SampleRatesOutsideTheResamplersRangeAreClearErrors) {
  test::TempDir dir;
  for (int rate : {1, 999, 2000000}) {
    const std::string path = dir.path(std::to_string(rate) + ".wav");
    test::write_audio(path, std::vector<float>(100, 0.1f), rate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    expect_audio_error(path, "sample rate " + std::to_string(rate) + " Hz is outside 1000..768000 Hz");
    EXPECT_THROW(FileSource(path, true), AudioError) << rate;
  }
}

}  // namespace
}  // namespace escd
