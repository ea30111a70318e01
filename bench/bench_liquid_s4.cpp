// Liquid-S4 cost on this machine: a training step (forward + backward of 32 clips x 155 frames),
// inference per clip, the streaming step per frame for 1 and 10 rows, parameters and FLOPs per
// clip, for the default config and for each liquid kernel.
//   bench_liquid_s4 [threads=2] [repeats=7] [default]   ("default": only the default config)
#include <ATen/Functions.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "model_flops.h"
#include "models/common/parameter_count.h"
#include "models/common/registry.h"
#include "models/liquid_s4/liquid_s4.h"
#include "models/liquid_s4/liquid_s4_options.h"

namespace {

constexpr int64_t kBatch = 32, kFrames = 155, kMels = 128, kClasses = 50;
constexpr double kFramePeriodUs = 32000.0;  // hop 512 at 16 kHz

double median_seconds(int repeats, const std::function<void()>& run) {
  run();  // warm-up: allocator, FFT plans, thread pool
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

using Flops = escd::bench::LiquidS4Flops;
Flops estimate_flops(const escd::liquid_s4::Options& o, int64_t T) {
  return escd::bench::liquid_s4_flops(o, T, kMels, kClasses);
}

void bench_config(const std::string& label, const nlohmann::json& overrides, int repeats) {
  at::manual_seed(0);
  auto model = escd::create_model("liquid_s4", overrides, kMels, kClasses);
  const auto options = escd::liquid_s4::Options::from_json(model->hyperparameters());
  const int64_t params = escd::parameter_count(*model);
  const Flops flops = estimate_flops(options, kFrames);

  const at::Tensor frames = at::randn({kBatch, kFrames, kMels});
  const at::Tensor labels = at::randint(kClasses, {kBatch}, at::kLong);

  model->train();
  const double train = median_seconds(repeats, [&] {
    model->zero_grad();
    at::nll_loss(at::log_softmax(model->forward(frames), 1), labels).backward();
  });
  model->eval();
  const double infer_batch = median_seconds(repeats, [&] {
    at::NoGradGuard no_grad;
    model->forward(frames);
  });
  const double infer_one = median_seconds(repeats, [&] {
    at::NoGradGuard no_grad;
    model->forward(frames.narrow(0, 0, 1));
  });
  auto step_us = [&](int64_t rows) {
    auto session = model->start_session(rows);
    const at::Tensor stream = frames.narrow(0, 0, rows);
    const double clip = median_seconds(std::max(3, repeats / 2), [&] {
      session->reset();
      for (int64_t t = 0; t < kFrames; ++t) session->step(stream.select(1, t));
      session->logits();
    });
    return clip / kFrames * 1e6;
  };
  const double step1 = step_us(1), step10 = step_us(10);
  // The daemon steps tiny tensors; one intra-op thread avoids waking a second one every op, which
  // costs more than it saves (and far more when the other core is busy).
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const double step1_single = step_us(1), step10_single = step_us(10);
  at::set_num_threads(threads);

  std::printf("[%s] %s\n", label.c_str(), model->hyperparameters().dump().c_str());
  std::printf("  parameters                 %lld\n", static_cast<long long>(params));
  std::printf("  FLOPs per clip (forward)   %.1f M  (+ kernel generation %.1f M per forward call, shared by the batch)\n",
              flops.per_clip / 1e6, flops.kernel_per_call / 1e6);
  std::printf("  train step 32x155 fwd+bwd  %.3f s  (%.1f ms per clip)\n", train, train / kBatch * 1e3);
  std::printf("  forward 32x155 (no grad)   %.1f ms  (%.2f ms per clip); 1 clip alone %.2f ms\n", infer_batch * 1e3,
              infer_batch / kBatch * 1e3, infer_one * 1e3);
  std::printf("  session step, 1 row        %.0f us per frame  (%.2f%% of the 32 ms frame period); 1 thread: %.0f us (%.2f%%)\n",
              step1, 100.0 * step1 / kFramePeriodUs, step1_single, 100.0 * step1_single / kFramePeriodUs);
  std::printf("  session step, 10 rows      %.0f us per frame  (%.2f%% of the 32 ms frame period); 1 thread: %.0f us (%.2f%%)\n",
              step10, 100.0 * step10 / kFramePeriodUs, step10_single, 100.0 * step10_single / kFramePeriodUs);
  std::fflush(stdout);
}

// A positive count from the command line, or the usage and exit status 2.
int count_argument(int argc, char** argv, int index, int fallback) {
  if (argc <= index) return fallback;
  char* end = nullptr;
  const long value = std::strtol(argv[index], &end, 10);
  if (end == argv[index] || *end != '\0' || value < 1 || value > 1000) {
    std::fprintf(stderr, "bench_liquid_s4: argument %d must be a count from 1 to 1000, got '%s'\n"
                         "usage: bench_liquid_s4 [threads=2] [repeats=7] [default]\n", index, argv[index]);
    std::exit(2);
  }
  return static_cast<int>(value);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = count_argument(argc, argv, 1, 2);
  const int repeats = count_argument(argc, argv, 2, 7);
  at::set_num_threads(threads);
  at::set_num_interop_threads(1);
  std::printf("Liquid-S4 benchmark: %d intra-op threads, median of %d runs, batch %lld x %lld frames x %lld mels\n",
              threads, repeats, static_cast<long long>(kBatch), static_cast<long long>(kFrames),
              static_cast<long long>(kMels));
  const bool default_only = argc > 3 && std::string(argv[3]) == "default";
  bench_config("default", nlohmann::json::object(), repeats);
  if (default_only) return 0;
  bench_config("liquid none", {{"liquid_kernel", "none"}}, repeats);
  bench_config("liquid polyb p2", {{"liquid_kernel", "polyb"}, {"liquid_degree", 2}}, repeats);
  bench_config("liquid kb p2", {{"liquid_kernel", "kb"}, {"liquid_degree", 2}}, repeats);
  bench_config("liquid kb p3 tanh", {{"liquid_kernel", "kb"}, {"liquid_degree", 3}, {"liquid_contract", "tanh"}},
               repeats);
  return 0;
}
