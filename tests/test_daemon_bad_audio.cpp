// Hostile audio through escd's whole pipeline (raw PCM on stdin -> mix -> resample -> log-mel ->
// model -> ZeroMQ): NaN/Inf and huge f32le samples, full-scale clipping at 96 kHz on 8 channels,
// DC offset at 8 kHz, a single sample, no audio at all. escd must keep publishing finite scores and
// levels, report what it replaced in esc.health, and exit 0 at the end of input.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "escd_process.h"
#include "model_fixtures.h"
#include "models/common/checkpoint.h"
#include "models/common/registry.h"
#include "test_support.h"

namespace escd {
namespace {

using namespace std::chrono_literals;

struct BadStream {
  std::string name;
  std::string format;  // s16le | f32le
  int rate;
  int channels;
  std::vector<uint8_t> bytes;
  uint64_t non_finite;  // expected in esc.health
  uint64_t clamped;
  bool expect_scores;   // enough audio for at least one prediction
};

std::vector<uint8_t> as_bytes(const std::vector<float>& x) {
  std::vector<uint8_t> b(x.size() * 4);
  std::memcpy(b.data(), x.data(), b.size());  // this host is little-endian, as the formats
  return b;
}
std::vector<uint8_t> as_bytes(const std::vector<int16_t>& x) {
  std::vector<uint8_t> b(x.size() * 2);
  std::memcpy(b.data(), x.data(), b.size());
  return b;
}

std::vector<BadStream> bad_streams() {
  std::vector<BadStream> out;
  {  // 3 s of a tone at 16 kHz with NaN, +-Inf and +-FLT_MAX sprinkled through it
    std::vector<float> x(48000);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.3f * static_cast<float>(std::sin(i * 0.07));
    for (size_t k = 0; k < 10; ++k) {
      x[1000 + 4000 * k] = std::numeric_limits<float>::quiet_NaN();
      x[1001 + 4000 * k] = (k % 2 ? -1 : 1) * std::numeric_limits<float>::infinity();
      x[1002 + 4000 * k] = (k % 2 ? -1 : 1) * std::numeric_limits<float>::max();
    }
    out.push_back({"NanInfHugeF32", "f32le", 16000, 1, as_bytes(x), 20, 10, true});
  }
  {  // 2 s of a full-scale square wave (+32767/-32768) on 8 channels at 96 kHz
    std::vector<int16_t> x;
    for (int i = 0; i < 2 * 96000; ++i) {
      for (int c = 0; c < 8; ++c) x.push_back((i / (60 + c)) % 2 ? int16_t(-32768) : int16_t(32767));
    }
    out.push_back({"ClippedS16At96kEightChannels", "s16le", 96000, 8, as_bytes(x), 0, 0, true});
  }
  {  // 2 s at 8 kHz: DC offset 0.5 under a quiet tone
    std::vector<float> x(16000);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.5f + 0.1f * static_cast<float>(std::sin(i * 0.3));
    out.push_back({"DcOffsetF32At8k", "f32le", 8000, 1, as_bytes(x), 0, 0, true});
  }
  out.push_back({"OneSample", "s16le", 16000, 1, as_bytes(std::vector<int16_t>{12345}), 0, 0, false});
  out.push_back({"NoAudio", "s16le", 16000, 1, {}, 0, 0, false});
  return out;
}

class DaemonBadAudio : public ::testing::TestWithParam<BadStream> {};

TEST_P(DaemonBadAudio, PublishesFiniteResultsReportsReplacementsAndExitsCleanly) {
  const BadStream& stream = GetParam();
  test::TempDir dir;
  at::manual_seed(3);
  const auto model = create_model("mamba", test::tiny_hyperparameters("mamba"));
  model->eval();
  std::vector<std::string> names;
  for (int i = 0; i < 50; ++i) names.push_back("class" + std::to_string(i));
  save_checkpoint(dir.path("mamba.ckpt"), *model, FrontEndConfig{}, names);
  std::ofstream(dir.path("escd.toml")) << "[daemon]\nhealth_interval_s = 0.2\n[scores]\nfull = true\n";
  const std::string endpoint = "ipc://" + dir.path("pub.sock");
  test::Escd escd({"--model", "mamba", "--checkpoint", dir.path("mamba.ckpt"), "--config", dir.path("escd.toml"),
                  "--pub", endpoint, "--input", "-", "--fast", "--format", stream.format, "--rate",
                  std::to_string(stream.rate), "--channels", std::to_string(stream.channels), "--hop-ms", "512"},
                 dir.path("escd.log"));
  auto log = [&] {
    std::ifstream in(dir.path("escd.log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  test::Subscriber sub(endpoint);
  // Audio goes in once a health message shows the subscription is live (ZeroMQ's slow joiner);
  // stdin stays open until health shows every frame read, so that the counts are the final ones.
  auto messages = sub.collect(30s, [](const auto& m) { return m.topic == "esc.health"; });
  ASSERT_FALSE(messages.empty()) << "no health message within 30 s: " << log();
  escd.write_bytes(stream.bytes.data(), stream.bytes.size());
  const uint64_t frames = stream.bytes.size() / (stream.format == "f32le" ? 4 : 2) / stream.channels;
  const nlohmann::json* final_input = nullptr;
  for (const auto& m : sub.collect(20s, [&](const auto& m) {
         return m.topic == "esc.health" && m.body["input"]["frames"].template get<uint64_t>() == frames;
       })) {
    messages.push_back(m);
  }
  if (messages.back().topic == "esc.health") final_input = &messages.back().body["input"];
  ASSERT_NE(final_input, nullptr) << "health never showed all " << frames << " frames read: " << log();
  EXPECT_EQ((*final_input)["non_finite_replaced"].get<uint64_t>(), stream.non_finite);
  EXPECT_EQ((*final_input)["out_of_range_clamped"].get<uint64_t>(), stream.clamped);
  escd.close_stdin();
  for (const auto& m : sub.collect(3s)) messages.push_back(m);
  ASSERT_EQ(escd.wait(20s), 0) << log();

  int scores = 0, levels = 0;
  for (const auto& m : messages) {
    if (m.topic == "esc.scores.mamba") {
      ++scores;
      ASSERT_EQ(m.body["scores"].size(), 50u);
      double sum = 0.0;
      for (const auto& s : m.body["scores"]) {
        ASSERT_TRUE(s.is_number()) << "non-finite score (JSON " << s.dump() << ") in " << m.body.dump();
        sum += s.get<double>();
      }
      EXPECT_NEAR(sum, 1.0, 1e-4);
    } else if (m.topic == "esc.level") {
      ++levels;
      for (const char* key : {"rms", "dbfs", "peak"}) {
        ASSERT_TRUE(m.body[key].is_number()) << key << " not finite: " << m.body.dump();
      }
    }
  }
  if (stream.expect_scores) {
    EXPECT_GE(scores, 1) << log();
    EXPECT_GE(levels, 1);
  } else {
    EXPECT_EQ(scores, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Streams, DaemonBadAudio, ::testing::ValuesIn(bad_streams()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace escd
