// escd's processing loop driven in process: a file source, the shipped pipeline, and a message sink
// that keeps what would have gone out on ZeroMQ. The full window's scores must be the model's
// forward on the clip, and each topic's messages come in stream order.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>

#include <map>
#include <vector>

#include "audio/decode.h"
#include "audio/file_source.h"
#include "features/log_mel_tensor.h"
#include "message_sink.h"
#include "model_fixtures.h"
#include "models/common/checkpoint.h"
#include "models/common/registry.h"
#include "pipeline.h"
#include "test_support.h"

namespace escd::daemon {
namespace {

struct Sent {
  std::string topic;
  nlohmann::json body;
  double t;
};

class RecordingSink : public MessageSink {
 public:
  void publish(const std::string& topic, nlohmann::json body, double stream_time) override {
    sent.push_back({topic, std::move(body), stream_time});
  }
  const std::string& endpoint() const override { return endpoint_; }
  nlohmann::json stats() const override { return {{"sent", sent.size()}}; }
  std::vector<Sent> sent;

 private:
  std::string endpoint_ = "memory";
};

TEST(PipelineInProcess, AFileBecomesScoresLevelsAndHealthInStreamOrder) {
  test::TempDir dir;
  at::manual_seed(5);
  auto model = create_model("mamba", test::tiny_hyperparameters("mamba"));
  model->set_input_statistics(at::full({128}, -6.0), at::full({128}, 3.0));
  model->eval();
  std::vector<std::string> names;
  for (int i = 0; i < 50; ++i) names.push_back("class" + std::to_string(i));
  save_checkpoint(dir.path("mamba.ckpt"), *model, FrontEndConfig{}, names);

  DaemonOptions options;
  options.models = {"mamba"};
  options.checkpoint = dir.path("mamba.ckpt");
  options.input = test::fixture("synthetic_16k.wav");
  options.fast = true;
  options.full_scores = true;
  options.hop_ms = 512;
  RecordingSink sink;
  Pipeline pipeline(options, sink);
  PipelineSignals signals;
  ASSERT_EQ(pipeline.run(std::make_unique<FileSource>(options.input, true), signals), 0);

  std::map<std::string, double> last_t;
  int warming = 0, full = 0;
  const nlohmann::json* full_window = nullptr;
  for (const Sent& m : sink.sent) {
    EXPECT_GE(m.t, last_t[m.topic]) << m.topic << ": stream time went backwards";
    last_t[m.topic] = m.t;
    if (m.topic != "esc.scores.mamba") continue;
    if (m.body["warming_up"].get<bool>()) {
      ++warming;
    } else {
      ++full;
      full_window = &m.body;
    }
  }
  // 155 frames with a 16-frame hop: 9 warming-up predictions, then the full window.
  EXPECT_EQ(warming, 9);
  EXPECT_EQ(full, 1);
  EXPECT_GT(last_t.count("esc.level"), 0u);
  ASSERT_NE(full_window, nullptr);

  const DecodedAudio clip = decode_audio_file(options.input);
  at::NoGradGuard no_grad;
  const at::Tensor expected = at::softmax(model->forward(log_mel_tensor(clip.samples).unsqueeze(0))[0], 0);
  const at::Tensor got = at::tensor((*full_window)["scores"].get<std::vector<float>>());
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-4 * expected.abs().max().item<double>() + 1e-6);
}

}  // namespace
}  // namespace escd::daemon
