// Mamba costs at the default configuration: training step (forward+backward of a batch of 32
// clips × 155 frames), forward per clip, the fused scan against the per-step ATen reference, the
// streaming step per frame (1 and 10 rows), the parameter count and an analytic FLOP count.
// Usage: bench_mamba [threads=2] [train|scan|stream ...]  (default: all sections; streaming is also
// measured with 1 thread, as a daemon runs it)
#include <ATen/Context.h>
#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "model_flops.h"
#include "models/common/parameter_count.h"
#include "models/common/registry.h"
#include "models/mamba/mamba.h"
#include "models/mamba/mamba_config.h"
#include "models/mamba/selective_scan.h"
#include "models/mamba/selective_scan_reference.h"

namespace {

using escd::MambaConfig;

constexpr int64_t kBatch = 32, kFrames = 155, kMels = 128, kClasses = 50;
constexpr double kFramePeriodUs = 32000.0;  // hop 512 at 16 kHz

// Median wall time of `runs` calls after one warm-up call, in seconds.
double median_seconds(int runs, const std::function<void()>& fn) {
  fn();
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

double flops_per_clip(const MambaConfig& c, int64_t frames) {
  return escd::bench::mamba_flops_per_clip(c, frames, kMels, kClasses);
}

void bench_training(escd::SequenceClassifier& model) {
  at::manual_seed(1);
  const at::Tensor frames = at::randn({kBatch, kFrames, kMels});
  const at::Tensor targets = at::randint(kClasses, {kBatch}, at::kLong);
  const double train = median_seconds(5, [&] {
    model.zero_grad();
    at::cross_entropy_loss(model.forward(frames), targets).backward();
  });
  const double forward = median_seconds(5, [&] {
    at::NoGradGuard no_grad;
    model.forward(frames);
  });
  std::printf("train step (fwd+bwd, batch %ld x %ld frames): %.3f s median of 5  (%.0f clips/s)\n", kBatch, kFrames,
              train, kBatch / train);
  std::printf("epoch estimate (1200 clips, fwd+bwd only): %.1f s\n", 1200.0 / kBatch * train);
  std::printf("forward only (no grad, batch %ld): %.3f s  = %.2f ms per clip\n", kBatch, forward,
              1000.0 * forward / kBatch);
}

void bench_scan(const MambaConfig& c) {
  const int64_t E = c.d_inner(), N = c.d_state;
  at::manual_seed(2);
  const at::Tensor u = at::randn({kBatch, kFrames, E}).requires_grad_(true);
  const at::Tensor delta = at::softplus(at::randn({kBatch, kFrames, E}) - 2.0).requires_grad_(true);
  const at::Tensor A = (-at::arange(1, N + 1, at::kFloat)).repeat({E, 1}).requires_grad_(true);
  const at::Tensor B = at::randn({kBatch, kFrames, N}).requires_grad_(true);
  const at::Tensor C = at::randn({kBatch, kFrames, N}).requires_grad_(true);
  const at::Tensor D = at::ones({E}).requires_grad_(true);
  const at::Tensor z = at::randn({kBatch, kFrames, E}).requires_grad_(true);
  const std::vector<at::Tensor> inputs{u, delta, A, B, C, D, z};
  const at::Tensor weight = at::randn({kBatch, kFrames, E});
  auto fwd_bwd = [&](bool fused) {
    const at::Tensor y = fused ? escd::selective_scan(u, delta, A, B, C, D, z)
                               : escd::reference_selective_scan(u, delta, A, B, C, D, z);
    torch::autograd::grad({(y * weight).sum()}, inputs);
  };
  const double fused = median_seconds(5, [&] { fwd_bwd(true); });
  const double reference = median_seconds(3, [&] { fwd_bwd(false); });
  const double fused_fwd = median_seconds(5, [&] {
    at::NoGradGuard no_grad;
    escd::selective_scan(u, delta, A, B, C, D, z);
  });
  std::printf("scan fwd+bwd, one layer (batch %ld, L %ld, E %ld, N %ld, gated): fused %.1f ms, reference %.1f ms, "
              "speed-up x%.1f\n",
              kBatch, kFrames, E, N, 1000 * fused, 1000 * reference, reference / fused);
  std::printf("scan forward only, one layer: fused %.1f ms\n", 1000 * fused_fwd);
}

void bench_streaming(escd::SequenceClassifier& model, int threads) {
  at::set_num_threads(threads);
  for (int64_t rows : {1, 10}) {
    auto session = model.start_session(rows);
    const at::Tensor frames = at::randn({rows, kMels});
    for (int i = 0; i < 50; ++i) session->step(frames);
    const int steps = 1000;
    std::vector<double> per_step;
    for (int rep = 0; rep < 5; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < steps; ++i) session->step(frames);
      per_step.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
                         steps);
    }
    std::sort(per_step.begin(), per_step.end());
    const double us = per_step[per_step.size() / 2];
    const auto t0 = std::chrono::steady_clock::now();
    session->logits();
    const double logits_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    std::printf("session step, %2ld row(s), %d thread(s): %.1f us per frame (%.2f%% of the 32 ms frame period), "
                "logits() %.1f us\n",
                rows, threads, us, 100.0 * us / kFramePeriodUs, logits_us);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  at::set_num_threads(threads);
  const nlohmann::json hp = escd::mamba_defaults();
  const MambaConfig config = MambaConfig::from_json(hp);
  at::manual_seed(0);
  const auto model = escd::create_model("mamba", hp, kMels, kClasses);
  const int64_t params = escd::parameter_count(*model);
  std::printf("config: %s\n", hp.dump().c_str());
  std::printf("threads: %d (intra-op)\n", threads);
  std::printf("parameters: %ld\n", params);
  const double flops = flops_per_clip(config, kFrames);
  std::printf("FLOPs per clip (forward, %ld frames, analytic): %.1f M  (training step ~3x forward: %.2f GFLOP per "
              "batch of %ld)\n",
              kFrames, flops / 1e6, 3 * flops * kBatch / 1e9, kBatch);
  std::vector<std::string> sections(argv + std::min(argc, 2), argv + argc);
  auto wanted = [&](const std::string& name) {
    return sections.empty() || std::find(sections.begin(), sections.end(), name) != sections.end();
  };
  if (wanted("train")) bench_training(*model);
  if (wanted("scan")) bench_scan(config);
  if (wanted("stream")) {
    bench_streaming(*model, 1);
    if (threads != 1) bench_streaming(*model, threads);
  }
  return 0;
}
