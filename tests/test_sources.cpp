// The finite sources: an audio file (streamed, paced like a microphone unless --fast) and raw PCM
// on a pipe (partial reads, end of input, bad samples), with clear errors for bad input.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sndfile.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <thread>

#include "audio/decode.h"
#include "audio/file_source.h"
#include "audio/raw_pcm_source.h"
#include "test_support.h"

namespace escd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Reads a source to its end in blocks of `block` frames.
std::vector<float> read_all(AudioSource& source, size_t block) {
  std::vector<float> out;
  for (int guard = 0; !source.finished() && guard < 100000; ++guard) source.read(out, block, 200ms);
  return out;
}

// ---- FileSource ---------------------------------------------------------------------------------

TEST(FileSource, FastModeDeliversEveryFrameInOrderAndFinishes) {
  test::TempDir dir;
  std::vector<float> stereo;
  for (int i = 0; i < 10000; ++i) {
    stereo.push_back(static_cast<float>(i % 100) / 200.0f);
    stereo.push_back(-static_cast<float>(i % 50) / 100.0f);
  }
  test::write_audio(dir.path("s.wav"), stereo, 22050, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  FileSource source(dir.path("s.wav"), /*fast=*/true);
  EXPECT_EQ(source.sample_rate(), 22050);
  EXPECT_EQ(source.channels(), 2);
  EXPECT_FALSE(source.finished());
  const auto start = Clock::now();
  const std::vector<float> got = read_all(source, 1024);
  EXPECT_LT(seconds_since(start), 0.2);  // 0.45 s of audio, not paced
  EXPECT_EQ(got, stereo);
  EXPECT_TRUE(source.finished());
  EXPECT_EQ(source.stats().frames_delivered, 10000u);
  EXPECT_EQ(source.stats().device, dir.path("s.wav"));
  std::vector<float> more;
  EXPECT_EQ(source.read(more, 1024, 10ms), 0u);
}

// Without --fast, a file plays at the speed of a microphone: 0.75 s of audio takes 0.75 s.
TEST(FileSource, RealTimeModeIsPacedToTheWallClock) {
  test::TempDir dir;
  test::write_audio(dir.path("a.wav"), test::analytic_signal(0.75, 16000), 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  FileSource source(dir.path("a.wav"));
  const auto start = Clock::now();
  std::vector<float> out;
  size_t frames_at_half = 0;
  while (!source.finished()) {
    source.read(out, 1024, 100ms);
    if (seconds_since(start) < 0.375) frames_at_half = out.size();
  }
  const double took = seconds_since(start);
  EXPECT_EQ(out.size(), 12000u);
  EXPECT_GT(took, 0.70);
  EXPECT_LT(took, 1.0);
  // Delivered steadily, not in one burst at the end: by half time, about half the audio.
  EXPECT_GT(frames_at_half, 4000u);
  EXPECT_LT(frames_at_half, 7000u);
}

TEST(FileSource, AShortTimeoutReturnsWhatIsDueSoFar) {
  test::TempDir dir;
  test::write_audio(dir.path("a.wav"), test::analytic_signal(1.0, 16000), 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  FileSource source(dir.path("a.wav"));
  std::vector<float> out;
  const auto start = Clock::now();
  const size_t got = source.read(out, 16000, 100ms);  // asks for 1 s, may wait 0.1 s
  EXPECT_LT(seconds_since(start), 0.3);
  EXPECT_GT(got, 1000u);
  EXPECT_LT(got, 3200u);
}

TEST(FileSource, InterruptCutsAWaitShort) {
  test::TempDir dir;
  test::write_audio(dir.path("a.wav"), test::analytic_signal(3.0, 16000), 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  FileSource source(dir.path("a.wav"));
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    source.interrupt();
  });
  std::vector<float> out;
  const auto start = Clock::now();
  source.read(out, 32000, 3000ms);  // would wait 2 s for its block
  stopper.join();
  EXPECT_LT(seconds_since(start), 1.0);
}

TEST(FileSource, NonFiniteSamplesBecomeZeroAndAreCounted) {
  test::TempDir dir;
  std::vector<float> x(1000, 0.25f);
  x[10] = std::numeric_limits<float>::quiet_NaN();
  x[20] = std::numeric_limits<float>::infinity();
  test::write_audio(dir.path("n.wav"), x, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  FileSource source(dir.path("n.wav"), true);
  const std::vector<float> got = read_all(source, 256);
  ASSERT_EQ(got.size(), 1000u);
  EXPECT_EQ(got[10], 0.0f);
  EXPECT_EQ(got[20], 0.0f);
  EXPECT_EQ(got[30], 0.25f);
  EXPECT_EQ(source.stats().non_finite_replaced, 2u);
}

void expect_file_error(const std::string& path, const std::string& reason) {
  try {
    FileSource source(path);
    ADD_FAILURE() << path << ": opened, expected an error containing '" << reason << "'";
  } catch (const AudioError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(e.reason().find(reason), std::string::npos) << e.what();
  }
}

TEST(FileSource, BadFilesAreClearErrorsAtConstruction) {
  test::TempDir dir;
  expect_file_error(dir.path("missing.wav"), "no such file");
  expect_file_error(dir.str(), "is a directory");
  std::ofstream(dir.path("empty.wav")).close();
  expect_file_error(dir.path("empty.wav"), "empty");
  std::ofstream(dir.path("text.wav")) << "this is not audio, just some text in a file named .wav\n";
  expect_file_error(dir.path("text.wav"), "not a readable audio file");
}

// ---- RawPcmSource -------------------------------------------------------------------------------

// A pipe whose write end the test controls, like `producer | escd --input -`.
struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { EXPECT_EQ(pipe(fds), 0); }
  ~Pipe() {
    close_write();
    if (fds[0] >= 0) close(fds[0]);
  }
  int read_end() const { return fds[0]; }
  void write_bytes(const void* data, size_t n) { ASSERT_EQ(write(fds[1], data, n), static_cast<ssize_t>(n)); }
  void close_write() {
    if (fds[1] >= 0) close(fds[1]);
    fds[1] = -1;
  }
};

std::vector<uint8_t> s16le_bytes(const std::vector<int16_t>& samples) {
  std::vector<uint8_t> bytes;
  for (int16_t s : samples) {
    bytes.push_back(static_cast<uint8_t>(static_cast<uint16_t>(s) & 0xff));
    bytes.push_back(static_cast<uint8_t>(static_cast<uint16_t>(s) >> 8));
  }
  return bytes;
}

TEST(RawPcmSource, DecodesInterleavedS16le) {
  Pipe pipe;
  RawPcmSource source(PcmFormat::S16LE, 8000, 2, pipe.read_end(), "test pipe");
  EXPECT_EQ(source.sample_rate(), 8000);
  EXPECT_EQ(source.channels(), 2);
  const std::vector<uint8_t> bytes = s16le_bytes({0, 16384, -32768, 32767, -1, 1});
  pipe.write_bytes(bytes.data(), bytes.size());
  std::vector<float> out;
  ASSERT_EQ(source.read(out, 100, 500ms), 3u);
  const std::vector<float> expected = {0.0f, 0.5f, -1.0f, 32767.0f / 32768.0f, -1.0f / 32768.0f, 1.0f / 32768.0f};
  EXPECT_EQ(out, expected);
  EXPECT_EQ(source.stats().frames_delivered, 3u);
  EXPECT_EQ(source.stats().device, "test pipe");
}

// A pipe delivers whatever the writer wrote so far: a sample (or a frame) can be split across reads.
// Only whole frames come out; the partial one waits for its remaining bytes.
TEST(RawPcmSource, AFrameSplitAcrossReadsIsReassembled) {
  Pipe pipe;
  RawPcmSource source(PcmFormat::S16LE, 16000, 2, pipe.read_end());
  const std::vector<uint8_t> bytes = s16le_bytes({1000, -1000, 2000, -2000});
  std::vector<float> out;
  pipe.write_bytes(bytes.data(), 3);  // one sample and half of the next
  EXPECT_EQ(source.read(out, 10, 50ms), 0u);
  EXPECT_FALSE(source.finished());
  pipe.write_bytes(bytes.data() + 3, 3);  // completes frame 0, starts frame 1
  ASSERT_EQ(source.read(out, 10, 500ms), 1u);
  pipe.write_bytes(bytes.data() + 6, 2);
  ASSERT_EQ(source.read(out, 10, 500ms), 1u);
  const std::vector<float> expected = {1000 / 32768.0f, -1000 / 32768.0f, 2000 / 32768.0f, -2000 / 32768.0f};
  EXPECT_EQ(out, expected);
}

TEST(RawPcmSource, EndOfInputFinishesAndReportsATrailingPartialFrame) {
  Pipe pipe;
  RawPcmSource source(PcmFormat::S16LE, 16000, 1, pipe.read_end());
  const std::vector<uint8_t> bytes = s16le_bytes({1, 2, 3});
  pipe.write_bytes(bytes.data(), 5);  // two samples and a stray byte
  pipe.close_write();
  std::vector<float> out;
  EXPECT_EQ(source.read(out, 10, 500ms), 2u);
  EXPECT_EQ(source.read(out, 10, 500ms), 0u);
  EXPECT_TRUE(source.finished());
  EXPECT_NE(source.stats().last_error.find("1 trailing bytes"), std::string::npos) << source.stats().last_error;
}

// The low `width` bytes of each value, little-endian (two's complement for negative values).
std::vector<uint8_t> le_bytes(const std::vector<int64_t>& values, size_t width) {
  std::vector<uint8_t> bytes;
  for (int64_t v : values) {
    for (size_t b = 0; b < width; ++b) bytes.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * b)));
  }
  return bytes;
}

// Everything `bytes` holds, decoded as `format` in stereo frames.
std::vector<float> decode_stereo(PcmFormat format, const std::vector<uint8_t>& bytes) {
  Pipe pipe;
  RawPcmSource source(format, 48000, 2, pipe.read_end());
  pipe.write_bytes(bytes.data(), bytes.size());
  pipe.close_write();
  std::vector<float> out = read_all(source, 100);
  EXPECT_TRUE(source.stats().last_error.empty()) << source.stats().last_error;
  return out;
}

// Zero, half scale, negative full scale, the largest positive value, -1 and +1 LSB.
const std::vector<float> kS24Expected = {0.0f, 0.5f, -1.0f, 8388607.0f / 8388608.0f, -1.0f / 8388608.0f,
                                         1.0f / 8388608.0f};

// arecord -f S24_3LE: three bytes per sample, no padding.
TEST(RawPcmSource, DecodesPacked24BitSamples) {
  const std::vector<uint8_t> bytes = le_bytes({0, 0x400000, -0x800000, 0x7fffff, -1, 1}, 3);
  EXPECT_EQ(decode_stereo(PcmFormat::S24_3LE, bytes), kS24Expected);
}

// arecord -f S24_LE: the sample in the low three bytes of a 4-byte word. The top byte may be zero,
// a copy of the sign or anything else, and must not change the value.
TEST(RawPcmSource, Decodes24BitSamplesInFourByteWordsIgnoringTheTopByte) {
  const std::vector<uint8_t> bytes =
      le_bytes({0x00000000, 0x5a400000, 0xff800000, 0x007fffff, 0x00ffffff, 0xff000001}, 4);
  EXPECT_EQ(decode_stereo(PcmFormat::S24LE, bytes), kS24Expected);
}

TEST(RawPcmSource, Decodes32BitSamples) {
  const std::vector<uint8_t> bytes =
      le_bytes({0, 0x40000000, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), -1, 256}, 4);
  // The largest positive value is 1 - 2^-31, which a float rounds to 1.
  const std::vector<float> expected = {0.0f, 0.5f, -1.0f, 1.0f, -1.0f / 2147483648.0f, 256.0f / 2147483648.0f};
  EXPECT_EQ(decode_stereo(PcmFormat::S32LE, bytes), expected);
}

// As with s16le: the whole samples before a truncated last one are delivered, the stray bytes are
// reported in last_error, and the source finishes.
TEST(RawPcmSource, ATruncatedLastSampleIsReportedInEveryFormat) {
  for (const PcmFormat format : {PcmFormat::S16LE, PcmFormat::S24LE, PcmFormat::S24_3LE, PcmFormat::S32LE,
                                 PcmFormat::F32LE}) {
    SCOPED_TRACE(pcm_format_name(format));
    const size_t width = pcm_sample_bytes(format);
    Pipe pipe;
    RawPcmSource source(format, 16000, 1, pipe.read_end());
    const std::vector<uint8_t> bytes = le_bytes({0, 0, 0}, width);
    pipe.write_bytes(bytes.data(), 2 * width + width - 1);  // two samples and all but a byte of a third
    pipe.close_write();
    EXPECT_EQ(read_all(source, 10).size(), 2u);
    EXPECT_TRUE(source.finished());
    EXPECT_NE(source.stats().last_error.find(std::to_string(width - 1) + " trailing bytes ignored (" +
                                             std::to_string(width) + " bytes per frame)"),
              std::string::npos)
        << source.stats().last_error;
  }
}

TEST(RawPcmSource, F32leNonFiniteSamplesBecomeZeroAndAreCounted) {
  Pipe pipe;
  RawPcmSource source(PcmFormat::F32LE, 16000, 1, pipe.read_end());
  const float samples[] = {0.5f, std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity(),
                           -0.25f};
  pipe.write_bytes(samples, sizeof samples);  // this host is little-endian, as the format
  pipe.close_write();
  const std::vector<float> got = read_all(source, 100);
  EXPECT_EQ(got, (std::vector<float>{0.5f, 0.0f, 0.0f, -0.25f}));
  EXPECT_EQ(source.stats().non_finite_replaced, 2u);
  EXPECT_TRUE(source.stats().last_error.empty());
}

TEST(RawPcmSource, TimesOutWithoutDataAndInterruptReturnsAtOnce) {
  Pipe pipe;
  RawPcmSource source(PcmFormat::F32LE, 16000, 1, pipe.read_end());
  std::vector<float> out;
  auto start = Clock::now();
  EXPECT_EQ(source.read(out, 10, 100ms), 0u);
  EXPECT_GE(seconds_since(start), 0.09);
  EXPECT_FALSE(source.finished());
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    source.interrupt();
  });
  start = Clock::now();
  EXPECT_EQ(source.read(out, 10, 5000ms), 0u);
  stopper.join();
  EXPECT_LT(seconds_since(start), 1.0);
}

// escd's names and arecord's -f names for the same layouts, in any case.
TEST(RawPcmSource, FormatNamesAreEscdsOrArecords) {
  EXPECT_EQ(parse_pcm_format("s16le"), PcmFormat::S16LE);
  EXPECT_EQ(parse_pcm_format("F32LE"), PcmFormat::F32LE);
  EXPECT_EQ(parse_pcm_format("S16_LE"), PcmFormat::S16LE);
  EXPECT_EQ(parse_pcm_format("S24_LE"), PcmFormat::S24LE);
  EXPECT_EQ(parse_pcm_format("S24_3LE"), PcmFormat::S24_3LE);
  EXPECT_EQ(parse_pcm_format("S32_LE"), PcmFormat::S32LE);
  EXPECT_EQ(parse_pcm_format("FLOAT_LE"), PcmFormat::F32LE);
  for (const PcmFormat format : {PcmFormat::S16LE, PcmFormat::S24LE, PcmFormat::S24_3LE, PcmFormat::S32LE,
                                 PcmFormat::F32LE}) {
    EXPECT_EQ(parse_pcm_format(pcm_format_name(format)), format) << pcm_format_name(format);
  }
  EXPECT_EQ(pcm_sample_bytes(PcmFormat::S24LE), 4u);
  EXPECT_EQ(pcm_sample_bytes(PcmFormat::S24_3LE), 3u);
}

// Unknown formats list the choices; "s24le" is refused because arecord's S24_LE and ffmpeg's s24le
// are different layouts, and guessing would turn one into noise.
TEST(RawPcmSource, BadSettingsAreClearErrors) {
  try {
    parse_pcm_format("mp3");
    ADD_FAILURE() << "mp3 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'mp3'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("s16le, s24_le, s24_3le, s32le or f32le"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("S24_3LE"), std::string::npos) << e.what();
  }
  try {
    parse_pcm_format("s24le");
    ADD_FAILURE() << "s24le accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'s24le' is ambiguous"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RawPcmSource(PcmFormat::S16LE, 0, 1), std::invalid_argument);
  EXPECT_THROW(RawPcmSource(PcmFormat::S16LE, 16000, 0), std::invalid_argument);
  EXPECT_THROW(RawPcmSource(PcmFormat::S16LE, 16000, 65), std::invalid_argument);
}

}  // namespace
}  // namespace escd
