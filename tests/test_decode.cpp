// Decoding and resampling: any rate and channel count becomes 16 kHz mono, and every kind of bad
// file gets an AudioError that names the file and the reason.
#include <gtest/gtest.h>

#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "audio/decode.h"
#include "audio/resample.h"
#include "features/log_mel.h"
#include "test_support.h"

namespace escd {
namespace {

constexpr int kWav16 = SF_FORMAT_WAV | SF_FORMAT_PCM_16;

using test::expect_audio_error;

// Largest |difference| of two log-mels over the mel bands below max_band (the resamplers' anti-alias
// filters differ above ~7 kHz) where the 16 kHz reference is above -10.
double max_log_error_below(const std::vector<float>& a, const std::vector<float>& b, int max_band) {
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (static_cast<int>(i % 128) < max_band && b[i] > -10.0f) worst = std::max(worst, double(std::fabs(a[i] - b[i])));
  }
  return worst;
}

TEST(Decode, SixteenKilohertzMonoPassesThrough) {
  test::TempDir dir;
  const std::vector<float> x = test::analytic_signal(1.0, 16000);
  test::write_audio(dir.path("a.wav"), x, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const DecodedAudio audio = decode_audio_file(dir.path("a.wav"));
  EXPECT_EQ(audio.sample_rate, 16000);
  EXPECT_EQ(audio.source_rate, 16000);
  EXPECT_EQ(audio.samples, x);
}

TEST(Decode, StereoIsMixedToTheMeanOfItsChannels) {
  test::TempDir dir;
  const std::vector<float> x = test::analytic_signal(0.5, 16000);
  std::vector<float> stereo;
  for (float v : x) {
    stereo.push_back(v);
    stereo.push_back(0.5f * v);
  }
  test::write_audio(dir.path("s.wav"), stereo, 16000, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const DecodedAudio audio = decode_audio_file(dir.path("s.wav"));
  EXPECT_EQ(audio.source_channels, 2);
  ASSERT_EQ(audio.samples.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(audio.samples[i], 0.75f * x[i], 1e-6f);
}

// The same analytic signal rendered at 44.1 kHz and 48 kHz and decoded to 16 kHz gives the log-mel
// of its 16 kHz rendering: within 0.05 (log units) below 6.5 kHz, where the resampler is transparent.
TEST(Decode, HigherRatesGiveTheSameFramesAsSixteenKilohertz) {
  test::TempDir dir;
  const std::vector<float> reference = compute_log_mel(test::analytic_signal(5.0, 16000));
  for (int rate : {44100, 48000, 22050}) {
    SCOPED_TRACE(rate);
    const std::string path = dir.path("r" + std::to_string(rate) + ".wav");
    test::write_audio(path, test::analytic_signal(5.0, rate), rate, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const DecodedAudio audio = decode_audio_file(path);
    EXPECT_EQ(audio.source_rate, rate);
    ASSERT_EQ(audio.samples.size(), 80000u);
    const std::vector<float> frames = compute_log_mel(audio.samples);
    ASSERT_EQ(frames.size(), reference.size());
    EXPECT_LT(max_log_error_below(frames, reference, 120), 0.05);
  }
}

// A real clip taken up to 48 kHz (stereo, 24-bit) and decoded back matches its 16 kHz original.
TEST(Decode, RealClipAt48kStereoMatchesItsSixteenKilohertzVersion) {
  SKIP_WITHOUT_ESC50();
  test::TempDir dir;
  const DecodedAudio original = decode_audio_file(test::esc50_dir() + "/audio/1-100032-A-0.flac");
  const std::vector<float> up = resample_offline(original.samples, 16000, 48000);
  std::vector<float> stereo;
  for (float v : up) stereo.insert(stereo.end(), {v, v});
  test::write_audio(dir.path("up.wav"), stereo, 48000, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
  const DecodedAudio back = decode_audio_file(dir.path("up.wav"));
  ASSERT_EQ(back.samples.size(), original.samples.size());
  EXPECT_LT(max_log_error_below(compute_log_mel(back.samples), compute_log_mel(original.samples), 120), 0.05);
}

TEST(Decode, FlacIsRead) {
  test::TempDir dir;
  const std::vector<float> x = test::analytic_signal(0.25, 16000);
  test::write_audio(dir.path("a.flac"), x, 16000, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  const DecodedAudio audio = decode_audio_file(dir.path("a.flac"));
  ASSERT_EQ(audio.samples.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(audio.samples[i], x[i], 1.0f / 32768.0f);
}

TEST(Decode, NonFiniteSamplesAreZeroedAndCounted) {
  test::TempDir dir;
  std::vector<float> x(2000, 0.25f);
  x[10] = std::numeric_limits<float>::quiet_NaN();
  x[20] = std::numeric_limits<float>::infinity();
  test::write_audio(dir.path("nan.wav"), x, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const DecodedAudio audio = decode_audio_file(dir.path("nan.wav"));
  EXPECT_EQ(audio.non_finite_replaced, 2u);
  EXPECT_EQ(audio.samples[10], 0.0f);
  EXPECT_EQ(audio.samples[20], 0.0f);
  EXPECT_EQ(audio.samples[30], 0.25f);
}

TEST(DecodeErrors, MissingFile) {
  test::TempDir dir;
  expect_audio_error(dir.path("nope.wav"), "no such file");
}

TEST(DecodeErrors, Directory) {
  test::TempDir dir;
  expect_audio_error(dir.str(), "is a directory");
}

TEST(DecodeErrors, EmptyFile) {
  test::TempDir dir;
  std::ofstream(dir.path("empty.wav")).close();
  expect_audio_error(dir.path("empty.wav"), "empty");
}

TEST(DecodeErrors, HeaderWithoutAudio) {
  test::TempDir dir;
  test::write_audio(dir.path("zero.wav"), {}, 16000, 1, kWav16);
  expect_audio_error(dir.path("zero.wav"), "no audio frames");
}

TEST(DecodeErrors, NotAudio) {
  test::TempDir dir;
  std::ofstream(dir.path("text.wav")) << "filename,fold,target\nthis is not audio at all\n";
  expect_audio_error(dir.path("text.wav"), "not a readable audio file");
}

TEST(DecodeErrors, TruncatedWav) {
  test::TempDir dir;
  test::write_audio(dir.path("t.wav"), test::analytic_signal(1.0, 16000), 16000, 1, kWav16);
  std::filesystem::resize_file(dir.path("t.wav"), 44 + 16000);  // header + half the samples
  expect_audio_error(dir.path("t.wav"), "truncated");
}

TEST(DecodeErrors, TruncatedFlac) {
  test::TempDir dir;
  test::write_audio(dir.path("t.flac"), test::analytic_signal(2.0, 16000), 16000, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  std::filesystem::resize_file(dir.path("t.flac"), std::filesystem::file_size(dir.path("t.flac")) / 2);
  expect_audio_error(dir.path("t.flac"), "truncated");
}

}  // namespace
}  // namespace escd
