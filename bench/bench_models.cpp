// escd's side of bench/run.sh: for each model at its default size (or tiny sizes with --tiny),
// the parameter count, analytic FLOPs, the training step (forward + backward of batch x frames x
// 128 mels), the inference forward of one clip, the streaming session step per frame (1 row, and
// `rows` rows as the daemon's staggered windows step them), and the GEMM rate of a large matmul on
// the same thread. Prints one JSON object; bench/reference_models.py prints the same keys for the
// PyTorch reference, and bench/compare.py makes the table.
//
// Times are CPU time of the process (median of --repeats after one warm-up): with one thread for
// libtorch and OpenBLAS alike (bench_threads.h) that is the work done, and it is much less disturbed than wall time when
// the machine is shared.
//
// Usage: bench_models [--threads 1] [--repeats 3] [--batch 32] [--frames 155] [--rows 10]
//                     [--stream-steps 200] [--gemm 2048] [--models mamba,liquid_s4,vjepa2|none] [--tiny]
//        bench_models --save-checkpoint MODEL PATH [--tiny]   (untrained weights, for escd runs)
#include <ATen/Functions.h>
#include <ATen/Parallel.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bench_threads.h"
#include "cpu_time.h"
#include "model_flops.h"
#include "models/common/checkpoint.h"
#include "models/common/parameter_count.h"
#include "models/common/registry.h"
#include "models/liquid_s4/liquid_s4_options.h"
#include "models/mamba/mamba_config.h"
#include "models/vjepa2/vjepa2_options.h"
#include "util/aten_kernel.h"
#include "util/blas_kernel.h"
#include "util/simd_level.h"

namespace {

using escd::bench::gemm_gflops;
using escd::bench::median_cpu_seconds;

constexpr int64_t kMels = 128, kClasses = 50;

// Sizes of the --tiny smoke run; bench/reference_models.py --tiny builds the same models.
nlohmann::json hyperparameters(const std::string& model, bool tiny) {
  if (!tiny) return nlohmann::json::object();
  if (model == "mamba") return {{"d_model", 32}, {"n_layers", 1}};
  if (model == "liquid_s4") return {{"d_model", 32}, {"n_layers", 1}, {"d_state", 8}};
  return {{"embed_dim", 32}, {"depth", 1}, {"heads", 2}, {"pool_heads", 2}, {"max_tubelets", 4}};
}

struct Settings {
  int threads = 1, repeats = 3;
  int64_t batch = 32, frames = 155, rows = 10, stream_steps = 200, gemm = 2048;
  std::vector<std::string> models{"mamba", "liquid_s4", "vjepa2"};
  bool tiny = false;
};

nlohmann::json bench_model(const std::string& name, const Settings& s) {
  at::manual_seed(0);
  const auto model = escd::create_model(name, hyperparameters(name, s.tiny), kMels, kClasses);
  const int64_t params = escd::parameter_count(*model);
  const escd::bench::ForwardFlops flops = escd::bench::forward_flops(name, model->hyperparameters(), s.frames, kMels, kClasses);
  nlohmann::json out = {{"parameters", params},
                        {"forward_flops_per_clip", flops.per_clip},
                        {"train_flops_per_step", escd::bench::training_flops_per_step(flops, s.batch)}};

  const at::Tensor frames = at::randn({s.batch, s.frames, kMels});
  const at::Tensor labels = at::randint(kClasses, {s.batch}, at::kLong);
  model->train();
  out["train_step_s"] = median_cpu_seconds(s.repeats, [&] {
    model->zero_grad();
    at::cross_entropy_loss(model->forward(frames), labels).backward();
  });
  model->eval();
  {
    at::NoGradGuard no_grad;
    const at::Tensor one = frames.narrow(0, 0, 1);
    out["forward_clip_ms"] = 1e3 * median_cpu_seconds(s.repeats, [&] { model->forward(one); });
  }
  if (model->streams_recurrently()) {
    for (int64_t rows : {int64_t{1}, s.rows}) {
      auto session = model->start_session(rows);
      const at::Tensor frame = at::randn({rows, kMels});
      const double seconds = median_cpu_seconds(s.repeats, [&] {
        for (int64_t i = 0; i < s.stream_steps; ++i) session->step(frame);
      });
      out["step_" + std::to_string(rows) + "_rows_us"] = 1e6 * seconds / static_cast<double>(s.stream_steps);
    }
  }
  return out;
}

int usage(const char* why) {
  std::fprintf(stderr,
               "bench_models: %s\nusage: bench_models [--threads N] [--repeats N] [--batch N] [--frames N] [--rows N]\n"
               "                    [--stream-steps N] [--gemm N] [--models a,b,...] [--tiny]\n"
               "       bench_models --save-checkpoint MODEL PATH [--tiny]\n",
               why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  std::string save_model, save_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    auto positive = [&]() -> int64_t {
      const std::string v = value();
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || n < 1) throw std::invalid_argument(a + ": expected a positive integer, got '" + v + "'");
      return n;
    };
    try {
      if (a == "--threads") s.threads = static_cast<int>(positive());
      else if (a == "--repeats") s.repeats = static_cast<int>(positive());
      else if (a == "--batch") s.batch = positive();
      else if (a == "--frames") s.frames = positive();
      else if (a == "--rows") s.rows = positive();
      else if (a == "--stream-steps") s.stream_steps = positive();
      else if (a == "--gemm") s.gemm = positive();
      else if (a == "--tiny") s.tiny = true;
      else if (a == "--models") {
        s.models.clear();
        std::stringstream list(value());
        for (std::string m; std::getline(list, m, ',');) {
          if (m != "none") s.models.push_back(m);  // "none": only the GEMM rate
        }
      } else if (a == "--save-checkpoint") {
        save_model = value();
        save_path = value();
      } else if (a == "-h" || a == "--help") {
        usage("benchmarks escd's models (see the comment at the top of bench/bench_models.cpp)");
        return 0;
      } else {
        return usage(("unknown argument '" + a + "'").c_str());
      }
    } catch (const std::invalid_argument& e) {
      return usage(e.what());
    }
  }
  try {
    if (!save_model.empty()) {
      at::manual_seed(0);
      const auto model = escd::create_model(save_model, hyperparameters(save_model, s.tiny), kMels, kClasses);
      std::vector<std::string> classes;
      for (int64_t c = 0; c < kClasses; ++c) classes.push_back("class_" + std::to_string(c));
      escd::save_checkpoint(save_path, *model, escd::FrontEndConfig{}, classes, {{"note", "untrained, for benchmarks"}});
      std::printf("wrote %s (untrained %s)\n", save_path.c_str(), save_model.c_str());
      return 0;
    }
    escd::bench::use_threads(s.threads, "bench_models");
    nlohmann::json result = {{"threads", at::get_num_threads()},
                             {"blas_core", escd::openblas_core_name()},
                             {"aten_kernels", escd::aten_cpu_capability()},
                             {"escd_kernels", escd::simd_level_name(escd::simd_level())},
                             {"gemm_gflops", gemm_gflops(s.gemm, s.repeats)},
                             {"models", nlohmann::json::object()}};
    for (const std::string& m : s.models) result["models"][m] = bench_model(m, s);
    std::printf("%s\n", result.dump().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_models: %s\n", e.what());
    return 1;
  }
  return 0;
}
