// Audio that is legal but hostile: NaN/Inf and huge float samples, full-scale clipping, DC offset,
// 8 kHz and 96 kHz, 1 and 8 channels, zero-length and one-sample files. Each gets one defined
// outcome through decoding, the file source and the log-mel front end: finite output of the length
// the duration implies, or an AudioError naming the file. (escd's pipeline: test_daemon_bad_audio.)
#include <gtest/gtest.h>

#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <numeric>

#include "audio/decode.h"
#include "audio/file_source.h"
#include "audio/raw_pcm_source.h"
#include "audio/sample_guard.h"
#include "features/log_mel.h"
#include "test_support.h"

namespace escd {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kHuge = std::numeric_limits<float>::max();

bool all_finite(const std::vector<float>& x) {
  return std::all_of(x.begin(), x.end(), [](float v) { return std::isfinite(v); });
}

double mean(const std::vector<float>& x, size_t from, size_t to) {
  return std::accumulate(x.begin() + from, x.begin() + to, 0.0) / static_cast<double>(to - from);
}

double rms(const std::vector<float>& x, size_t from, size_t to) {
  double s = 0.0;
  for (size_t i = from; i < to; ++i) s += double(x[i]) * x[i];
  return std::sqrt(s / static_cast<double>(to - from));
}

std::vector<float> tone(double hz, double seconds, int rate, float amplitude = 0.5f) {
  std::vector<float> x(static_cast<size_t>(std::lround(seconds * rate)));
  for (size_t i = 0; i < x.size(); ++i) x[i] = amplitude * static_cast<float>(std::sin(2 * M_PI * hz * i / rate));
  return x;
}

// Upward zero crossings per second in [from, to): a tone's frequency, whatever its amplitude.
double crossings_per_second(const std::vector<float>& x, size_t from, size_t to, int rate) {
  int n = 0;
  for (size_t i = from + 1; i < to; ++i) n += x[i - 1] < 0.0f && x[i] >= 0.0f;
  return n * double(rate) / double(to - from);
}

// Reads a FileSource to its end (fast mode) in blocks of 700 frames.
std::vector<float> read_file_source(const std::string& path, SourceStats* stats = nullptr) {
  FileSource source(path, /*fast=*/true);
  std::vector<float> out;
  for (int guard = 0; !source.finished() && guard < 100000; ++guard) {
    source.read(out, 700, std::chrono::milliseconds(200));
  }
  if (stats) *stats = source.stats();
  return out;
}

// ---- non-finite and out-of-range float samples ----------------------------------------------------

// Stereo float WAV: NaN and Inf in one channel, the largest finite float in both channels of other
// frames (their mean, or the resampler's weighted sum, would overflow to Inf in float arithmetic).
TEST(BadAudio, NonFiniteAndHugeFloatSamplesDecodeToFiniteAudio) {
  test::TempDir dir;
  std::vector<float> stereo;
  for (int i = 0; i < 4410; ++i) {
    const float v = 0.25f * static_cast<float>(std::sin(i * 0.05));
    const bool huge = i >= 1000 && i < 1010;
    stereo.push_back(huge ? kHuge : i == 100 ? kNaN : i == 200 ? kInf : i == 300 ? -kInf : v);
    stereo.push_back(huge ? kHuge : v);
  }
  test::write_audio(dir.path("bad.wav"), stereo, 44100, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const DecodedAudio audio = decode_audio_file(dir.path("bad.wav"));
  EXPECT_EQ(audio.samples.size(), 1600u);
  EXPECT_TRUE(all_finite(audio.samples));
  EXPECT_EQ(audio.non_finite_replaced, 3u);
  EXPECT_EQ(audio.out_of_range_clamped, 20u);  // clamped to +-kMaxSampleMagnitude (audio/sample_guard.h)
  const std::vector<float> mel = compute_log_mel(audio.samples);
  EXPECT_EQ(mel.size(), FrontEndConfig{}.frames_for(1600) * 128);
  EXPECT_TRUE(all_finite(mel));
}

TEST(BadAudio, FileSourceDeliversFiniteFramesForHugeAndNonFiniteSamples) {
  test::TempDir dir;
  std::vector<float> x(1000, 0.5f);
  x[1] = kNaN;
  x[2] = kHuge;
  x[3] = -kHuge;
  x[4] = -kInf;
  test::write_audio(dir.path("bad.wav"), x, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  SourceStats stats;
  const std::vector<float> got = read_file_source(dir.path("bad.wav"), &stats);
  ASSERT_EQ(got.size(), x.size());
  EXPECT_TRUE(all_finite(got));
  EXPECT_EQ(stats.non_finite_replaced, 2u);
  EXPECT_EQ(stats.out_of_range_clamped, 2u);
  EXPECT_EQ(got[0], 0.5f);
  EXPECT_EQ(got[1], 0.0f);
  EXPECT_EQ(got[2], kMaxSampleMagnitude);
  EXPECT_EQ(got[3], -kMaxSampleMagnitude);
}

// f32le on stdin: the same rule as for files, whatever the bytes (NaN payloads, denormals, FLT_MAX).
TEST(BadAudio, RawF32leHugeAndNonFiniteSamplesAreGuardedAndCounted) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::vector<float> x = {kHuge, -kHuge, kNaN, 1e-45f, 2000.0f, -0.5f, kInf, 999.0f};
  ASSERT_EQ(write(fds[1], x.data(), x.size() * 4), static_cast<ssize_t>(x.size() * 4));
  close(fds[1]);
  std::vector<float> got;
  {
    RawPcmSource source(PcmFormat::F32LE, 96000, 2, fds[0], "test pipe");
    for (int guard = 0; !source.finished() && guard < 100; ++guard) source.read(got, 3, std::chrono::milliseconds(200));
    EXPECT_EQ(source.stats().non_finite_replaced, 2u);
    EXPECT_EQ(source.stats().out_of_range_clamped, 3u);
  }
  close(fds[0]);
  EXPECT_EQ(got, (std::vector<float>{kMaxSampleMagnitude, -kMaxSampleMagnitude, 0.0f, 1e-45f, kMaxSampleMagnitude,
                                     -0.5f, 0.0f, 999.0f}));
}

// The mix to mono of channels near the float range: their mean, not Inf.
TEST(BadAudio, MixToMonoOfHugeChannelsIsTheirMeanNotInf) {
  const std::vector<float> frames = {kHuge, kHuge, kHuge, -kHuge, -kHuge, -kHuge};
  const std::vector<float> mono = mix_to_mono(frames.data(), 2, 3);
  EXPECT_EQ(mono, (std::vector<float>{kHuge, -kHuge}));
}

// ---- clipping and DC ------------------------------------------------------------------------------

// A full-scale square wave in 16-bit PCM (+32767 / -32768) at 44.1 kHz: the resampler's ringing at
// the edges must stay bounded and finite, and the log-mel frames finite.
TEST(BadAudio, FullScaleClippedSquareWaveStaysBoundedAndFinite) {
  test::TempDir dir;
  std::vector<float> square(44100);
  for (size_t i = 0; i < square.size(); ++i) square[i] = (i / 50) % 2 ? -1.0f : 1.0f;
  test::write_audio(dir.path("clip.wav"), square, 44100, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const DecodedAudio audio = decode_audio_file(dir.path("clip.wav"));
  ASSERT_EQ(audio.samples.size(), 16000u);
  EXPECT_TRUE(all_finite(audio.samples));
  const float peak = *std::max_element(audio.samples.begin(), audio.samples.end(),
                                       [](float a, float b) { return std::fabs(a) < std::fabs(b); });
  EXPECT_GT(std::fabs(peak), 0.9f);
  EXPECT_LT(std::fabs(peak), 1.5f);  // Gibbs overshoot of a band-limited square wave is about 9%
  EXPECT_TRUE(all_finite(compute_log_mel(audio.samples)));
}

// A DC offset is audio like any other: it passes the decoder and the resampler unchanged.
TEST(BadAudio, DcOffsetPassesThroughDecodingAndResampling) {
  test::TempDir dir;
  std::vector<float> x = tone(440.0, 1.0, 48000, 0.2f);
  for (float& v : x) v += 0.5f;
  test::write_audio(dir.path("dc.wav"), x, 48000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const DecodedAudio audio = decode_audio_file(dir.path("dc.wav"));
  ASSERT_EQ(audio.samples.size(), 16000u);
  EXPECT_NEAR(mean(audio.samples, 2000, 14000), 0.5, 2e-3);
  const std::vector<float> mel = compute_log_mel(audio.samples);
  EXPECT_TRUE(all_finite(mel));
}

// ---- sample rates and channel counts ---------------------------------------------------------------

TEST(BadAudio, EightKilohertzIsUpsampledKeepingItsToneAndLength) {
  test::TempDir dir;
  test::write_audio(dir.path("8k.wav"), tone(1000.0, 1.0, 8000), 8000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const DecodedAudio audio = decode_audio_file(dir.path("8k.wav"));
  EXPECT_EQ(audio.source_rate, 8000);
  ASSERT_EQ(audio.samples.size(), 16000u);
  EXPECT_NEAR(crossings_per_second(audio.samples, 1000, 15000, 16000), 1000.0, 5.0);
  EXPECT_NEAR(rms(audio.samples, 1000, 15000), 0.5 / std::sqrt(2.0), 0.01);
}

// 96 kHz: a 1 kHz tone survives; a 20 kHz tone (above 16 kHz's Nyquist) is filtered out, not aliased.
TEST(BadAudio, NinetySixKilohertzKeepsTheBandAndRemovesWhatIsAboveIt) {
  test::TempDir dir;
  test::write_audio(dir.path("1k.wav"), tone(1000.0, 0.5, 96000), 96000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
  test::write_audio(dir.path("20k.wav"), tone(20000.0, 0.5, 96000), 96000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
  const DecodedAudio low = decode_audio_file(dir.path("1k.wav"));
  const DecodedAudio high = decode_audio_file(dir.path("20k.wav"));
  ASSERT_EQ(low.samples.size(), 8000u);
  ASSERT_EQ(high.samples.size(), 8000u);
  EXPECT_NEAR(crossings_per_second(low.samples, 500, 7500, 16000), 1000.0, 5.0);
  EXPECT_NEAR(rms(low.samples, 500, 7500), 0.5 / std::sqrt(2.0), 0.01);
  EXPECT_LT(rms(high.samples, 500, 7500), 1e-3);
}

// Eight channels, channel c holding the constant (c + 1) / 10: the mix is their mean, 0.45, both
// through decoding and (frame by frame, unmixed) through the file source.
TEST(BadAudio, EightChannelsMixToTheirMean) {
  test::TempDir dir;
  std::vector<float> x;
  for (int i = 0; i < 1600; ++i) {
    for (int c = 0; c < 8; ++c) x.push_back((c + 1) / 10.0f);
  }
  test::write_audio(dir.path("8ch.wav"), x, 16000, 8, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const DecodedAudio audio = decode_audio_file(dir.path("8ch.wav"));
  EXPECT_EQ(audio.source_channels, 8);
  ASSERT_EQ(audio.samples.size(), 1600u);
  for (float v : audio.samples) ASSERT_NEAR(v, 0.45f, 1e-6f);
  FileSource source(dir.path("8ch.wav"), true);
  EXPECT_EQ(source.channels(), 8);
  const std::vector<float> frames = read_file_source(dir.path("8ch.wav"));
  EXPECT_EQ(frames, x);
}

// ---- degenerate lengths -----------------------------------------------------------------------------

TEST(BadAudio, ZeroLengthFilesAreClearErrorsForDecoderAndFileSource) {
  test::TempDir dir;
  for (int channels : {1, 8}) {
    const std::string path = dir.path("empty" + std::to_string(channels) + ".wav");
    test::write_audio(path, {}, 96000, channels, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    try {
      decode_audio_file(path);
      ADD_FAILURE() << path << " decoded";
    } catch (const AudioError& e) {
      EXPECT_EQ(e.path(), path);
      EXPECT_NE(e.reason().find("no audio frames"), std::string::npos) << e.what();
    }
    EXPECT_THROW(FileSource(path, true), AudioError);
  }
}

// One sample is audio: it decodes to the length its duration implies at 16 kHz (two samples from
// 8 kHz, one from 16 kHz, none from 96 kHz) and gives no log-mel frame (a frame needs 1024 samples).
TEST(BadAudio, OneSampleFilesDecodeToTheirDurationAndNoFrames) {
  test::TempDir dir;
  for (const auto& [rate, expected] : {std::pair{8000, 2u}, std::pair{16000, 1u}, std::pair{96000, 0u}}) {
    const std::string path = dir.path("one" + std::to_string(rate) + ".wav");
    test::write_audio(path, {0.5f}, rate, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const DecodedAudio audio = decode_audio_file(path);
    EXPECT_EQ(audio.samples.size(), expected) << rate << " Hz";
    EXPECT_TRUE(all_finite(audio.samples));
    EXPECT_TRUE(compute_log_mel(audio.samples).empty());
    EXPECT_EQ(read_file_source(path), std::vector<float>{0.5f}) << rate << " Hz";
  }
}

}  // namespace
}  // namespace escd
