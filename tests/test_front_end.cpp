// The log-mel contract: batch and streaming agree exactly, and both match torchaudio's
// MelSpectrogram (frames 1..155 of the centred transform) on a synthetic signal and real clips.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "audio/decode.h"
#include "features/log_mel.h"
#include "features/log_mel_tensor.h"
#include "test_support.h"
#include "util/npy.h"

namespace escd {
namespace {

std::vector<float> random_signal(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.2f);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

// Max |a - b| over entries where the reference is above -10 (the comparison rule), and
// also counts entries at or below -10 for the record.
double max_log_error(const std::vector<float>& ours, const std::vector<float>& reference) {
  double worst = 0.0;
  for (size_t i = 0; i < reference.size(); ++i) {
    if (reference[i] > -10.0f) worst = std::max(worst, static_cast<double>(std::fabs(ours[i] - reference[i])));
  }
  return worst;
}

TEST(FrontEnd, FrameCountFollowsTheNoPaddingRule) {
  FrontEndConfig config;
  EXPECT_EQ(config.frames_for(80000), 155u);
  EXPECT_EQ(config.frames_for(1023), 0u);
  EXPECT_EQ(config.frames_for(1024), 1u);
  EXPECT_EQ(config.frames_for(1024 + 511), 1u);
  EXPECT_EQ(config.frames_for(1024 + 512), 2u);
  EXPECT_EQ(compute_log_mel(random_signal(80000, 1)).size(), 155u * 128u);
}

TEST(FrontEnd, SilenceGivesTheLogFloor) {
  const std::vector<float> frames = compute_log_mel(std::vector<float>(4096, 0.0f));
  ASSERT_EQ(frames.size(), 7u * 128u);
  for (float v : frames) EXPECT_FLOAT_EQ(v, std::log(1e-8f));
}

TEST(FrontEnd, MatchesTorchaudioOnSyntheticSignal) {
  const DecodedAudio audio = decode_audio_file(test::fixture("synthetic_16k.wav"));
  ASSERT_EQ(audio.samples.size(), 80000u);
  const NpyArray reference = read_npy(test::fixture("synthetic_16k.npy"));
  ASSERT_EQ(reference.shape, (std::vector<int64_t>{155, 128}));
  const std::vector<float> ours = compute_log_mel(audio.samples);
  ASSERT_EQ(ours.size(), reference.data.size());
  EXPECT_LT(max_log_error(ours, reference.data), 1e-3);
}

TEST(FrontEnd, MatchesTorchaudioOnRealClips) {
  SKIP_WITHOUT_ESC50();
  for (const char* clip : {"1-100032-A-0", "2-109505-A-21", "3-157615-A-10", "5-200334-A-1"}) {
    SCOPED_TRACE(clip);
    const DecodedAudio audio = decode_audio_file(test::esc50_dir() + "/audio/" + clip + ".flac");
    const NpyArray reference = read_npy(test::fixture(std::string(clip) + ".npy"));
    const std::vector<float> ours = compute_log_mel(audio.samples);
    ASSERT_EQ(ours.size(), reference.data.size());
    EXPECT_LT(max_log_error(ours, reference.data), 1e-3);
  }
}

TEST(FrontEnd, StreamingEqualsBatchForAnyBlockSizes) {
  const std::vector<float> signal = random_signal(3 * 16000 + 333, 7);
  const std::vector<float> batch = compute_log_mel(signal);
  std::mt19937_64 rng(42);
  for (int schedule = 0; schedule < 6; ++schedule) {
    SCOPED_TRACE(schedule);
    StreamingLogMel stream;
    std::vector<float> frames;
    size_t pos = 0;
    while (pos < signal.size()) {
      size_t block = 0;
      switch (schedule) {
        case 0: block = 1; break;
        case 1: block = 37; break;
        case 2: block = 4096; break;
        case 3: block = 512; break;
        default: block = std::uniform_int_distribution<size_t>(0, 5000)(rng); break;
      }
      block = std::min(block, signal.size() - pos);
      stream.push(signal.data() + pos, block, frames);
      pos += block;
    }
    ASSERT_EQ(frames.size(), batch.size());
    double worst = 0.0;
    for (size_t i = 0; i < batch.size(); ++i) worst = std::max(worst, double(std::fabs(frames[i] - batch[i])));
    EXPECT_LE(worst, 1e-5);
    EXPECT_EQ(stream.frames_emitted(), batch.size() / 128);
  }
}

TEST(FrontEnd, StreamingEmitsEachFrameWhenItsLastSampleArrives) {
  const std::vector<float> signal = random_signal(2048, 3);
  StreamingLogMel stream;
  std::vector<float> frames;
  EXPECT_EQ(stream.push(signal.data(), 1023, frames), 0u);
  EXPECT_EQ(stream.push(signal.data() + 1023, 1, frames), 1u);      // sample 1023 completes frame 0
  EXPECT_EQ(stream.push(signal.data() + 1024, 511, frames), 0u);
  EXPECT_EQ(stream.push(signal.data() + 1535, 1, frames), 1u);      // sample 1535 completes frame 1
  EXPECT_EQ(stream.push(signal.data() + 1536, 512, frames), 1u);    // sample 2047 completes frame 2
  EXPECT_EQ(frames.size(), 3u * 128u);
}

TEST(FrontEnd, StreamingResetStartsAFreshFrame) {
  const std::vector<float> signal = random_signal(4096, 5);
  StreamingLogMel stream;
  std::vector<float> first, second;
  stream.push(signal.data(), 700, first);  // partial frame, then abandoned
  stream.reset();
  stream.push(signal.data(), signal.size(), second);
  EXPECT_EQ(second, compute_log_mel(signal));
  EXPECT_TRUE(first.empty());
}

TEST(FrontEnd, TensorEntryPointMatchesVector) {
  const std::vector<float> signal = random_signal(80000, 9);
  const at::Tensor t = log_mel_tensor(signal);
  ASSERT_EQ(t.sizes(), (at::IntArrayRef{155, 128}));
  const std::vector<float> v = compute_log_mel(signal);
  EXPECT_EQ(std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel()), v);
}

}  // namespace
}  // namespace escd
