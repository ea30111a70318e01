// escd end to end, as a user runs it: a real process, real ZeroMQ subscribers, real signals.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <zmq.hpp>

#include "audio/decode.h"
#include "escd_process.h"
#include "features/log_mel_tensor.h"
#include "model_fixtures.h"
#include "models/common/checkpoint.h"
#include "models/common/registry.h"
#include "test_support.h"

namespace escd {
namespace {

using namespace std::chrono_literals;

using test::Escd;
using test::Message;
using test::Subscriber;

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::manual_seed(5);
    model_ = create_model("mamba", test::tiny_hyperparameters("mamba"));
    model_->set_input_statistics(at::full({128}, -6.0), at::full({128}, 3.0));
    model_->eval();
    std::vector<std::string> names;
    for (int i = 0; i < 50; ++i) names.push_back("class" + std::to_string(i));
    save_checkpoint(dir_.path("mamba.ckpt"), *model_, FrontEndConfig{}, names);
    std::ofstream(dir_.path("escd.toml")) << "[scores]\nfull = true\ntop_k = 3\n";
    endpoint_ = "ipc://" + dir_.path("pub.sock");
  }
  std::vector<std::string> args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"--model", "mamba", "--checkpoint", dir_.path("mamba.ckpt"), "--config",
                               dir_.path("escd.toml"), "--pub", endpoint_, "--input", "-", "--fast",
                               "--format", "s16le", "--rate", "16000", "--channels", "1"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::string log() const {
    std::ifstream in(dir_.path("escd.log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  test::TempDir dir_;
  std::shared_ptr<SequenceClassifier> model_;
  std::string endpoint_;
};

TEST_F(DaemonTest, WholeClipWindowEqualsTheParallelForwardAndSeqHasNoGaps) {
  const DecodedAudio clip = decode_audio_file(test::fixture("synthetic_16k.wav"));
  Escd escd(args({"--hop-ms", "512"}), dir_.path("escd.log"));
  Subscriber sub(endpoint_);
  // Audio goes in only once a health message shows the subscription is live (ZeroMQ's slow
  // joiner): escd publishes health every second while it waits for audio.
  auto messages = sub.collect(30s, [](const Message& m) { return m.topic == "esc.health"; });
  ASSERT_FALSE(messages.empty()) << "no health message within 30 s: " << log();
  escd.write_samples(clip.samples);
  escd.close_stdin();
  for (const auto& m : sub.collect(5s)) messages.push_back(m);
  ASSERT_EQ(escd.wait(10s), 0) << log();

  std::map<std::string, std::vector<uint64_t>> seqs;
  const nlohmann::json* full_window = nullptr;
  int scores = 0, warming = 0, levels = 0, health = 0;
  for (const auto& m : messages) {
    for (const char* key : {"seq", "t", "wall"}) ASSERT_TRUE(m.body.contains(key)) << m.topic << " lacks " << key;
    seqs[m.topic].push_back(m.body["seq"].get<uint64_t>());
    if (m.topic == "esc.scores.mamba") {
      ++scores;
      warming += m.body["warming_up"].get<bool>();
      EXPECT_EQ(m.body["top"].size(), 3u);
      EXPECT_EQ(m.body["scores"].size(), 50u);
      if (!m.body["warming_up"].get<bool>()) full_window = &m.body;
    }
    levels += m.topic == "esc.level";
    health += m.topic == "esc.health";
  }
  for (const auto& [topic, s] : seqs) {
    // Consecutive from the first message this subscriber saw (it may have joined after the first health).
    for (size_t i = 0; i < s.size(); ++i) ASSERT_EQ(s[i], s[0] + i) << topic << ": a gap in seq";
    if (topic.rfind("esc.scores", 0) == 0) {
      EXPECT_EQ(s[0], 0u);
    }
  }
  // 155 frames with a 16-frame hop: 9 warming-up predictions (16..144 frames), then the full window.
  EXPECT_EQ(warming, 9);
  EXPECT_EQ(scores, 10);
  EXPECT_GE(levels, 9);
  EXPECT_GE(health, 2);
  ASSERT_NE(full_window, nullptr);
  EXPECT_NEAR((*full_window)["window"]["start"].get<double>(), 0.0, 1e-9);
  // The last frame, 154, ends at sample 154 * 512 + 1024 = 79872.
  EXPECT_NEAR((*full_window)["window"]["end"].get<double>(), 79872.0 / 16000.0, 1e-9);

  at::NoGradGuard no_grad;
  const at::Tensor expected = at::softmax(model_->forward(log_mel_tensor(clip.samples).unsqueeze(0))[0], 0);
  const auto got = (*full_window)["scores"].get<std::vector<float>>();
  const at::Tensor streamed = at::tensor(got);
  EXPECT_LT((streamed - expected).abs().max().item<double>(), 1e-4 * expected.abs().max().item<double>() + 1e-6);
}

TEST_F(DaemonTest, SigtermStopsWithinASecondAndExitsCleanly) {
  Escd escd(args(), dir_.path("escd.log"));
  std::this_thread::sleep_for(1500ms);  // models loaded, waiting for audio
  const auto t0 = std::chrono::steady_clock::now();
  escd.signal(SIGTERM);
  EXPECT_EQ(escd.wait(3s), 0) << log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST_F(DaemonTest, SighupWithABrokenConfigKeepsRunningOnTheOldOne) {
  Escd escd(args(), dir_.path("escd.log"));
  std::this_thread::sleep_for(1500ms);
  std::ofstream(dir_.path("escd.toml")) << "[scores\nfull = maybe\n";
  escd.signal(SIGHUP);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(escd.wait(0ms), -1) << "escd exited on SIGHUP: " << log();
  escd.signal(SIGTERM);
  EXPECT_EQ(escd.wait(3s), 0);
  EXPECT_NE(log().find("keeping the current settings"), std::string::npos) << log();
}

TEST_F(DaemonTest, BadSettingsAreClearErrorsAtStart) {
  {
    Escd escd(args({"--hop-ms", "-5"}), dir_.path("escd.log"));
    EXPECT_EQ(escd.wait(10s), 2);
    EXPECT_NE(log().find("hop_ms"), std::string::npos) << log();
  }
  {
    std::ofstream(dir_.path("bad.toml")) << "[daemon]\nhop_ms = \"fast\"\n";
    std::vector<std::string> a = args();
    a[5] = dir_.path("bad.toml");
    Escd escd(a, dir_.path("escd.log"));
    EXPECT_EQ(escd.wait(10s), 2);
    EXPECT_NE(log().find("bad.toml: [daemon] hop_ms: expected a number"), std::string::npos) << log();
  }
  {
    std::vector<std::string> a = args();
    a[1] = "mamba,liquid_s4";
    Escd escd(a, dir_.path("escd.log"));
    EXPECT_EQ(escd.wait(10s), 2);
    EXPECT_NE(log().find("--checkpoint needs exactly one --model"), std::string::npos) << log();
  }
}

}  // namespace
}  // namespace escd
