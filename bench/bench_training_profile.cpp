// Where a training step's time goes. For each model at its default size, one optimiser step as
// esc-train fit takes it (forward, label loss, backward, gradient clipping, AdamW, the weight
// average) on a batch of random log-mel frames:
//  - the CPU time of each phase, median over --steps steps;
//  - inside forward and backward, the self time of each named part of the model (the
//    RECORD_USER_SCOPE names in src/models: mel_conv, selective_scan, ssm_kernel, attention...),
//    from PyTorch's profiler over --profile-steps further steps. A backward op is charged to the
//    part whose forward op created its autograd node (matched by sequence number), so "mel_conv"
//    in the backward column is the MelConv's backward.
//  - the ops with the most self time, for reading the parts.
// Data loading is not here: it runs on the batch loader's thread and the trainer reports the time
// a step waited for it (metrics.jsonl's data_wait_seconds).
//
// Usage: bench_training_profile [--models mamba,liquid_s4,vjepa2] [--batch 32] [--frames 155]
//                               [--steps 5] [--profile-steps 2] [--threads 1] [--top 12]
// Prints one JSON object; bench/training_profile.sh makes the tables of bench/RESULTS.md.
#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/types.h>  // clip_grad.h uses torch::Tensor without including it
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_threads.h"
#include "cpu_time.h"
#include "model_flops.h"
#include "models/common/registry.h"
#include "losses.h"
#include "util/blas_kernel.h"
#include "weight_ema.h"

namespace {

using escd::bench::cpu_seconds;
using escd::bench::median;

constexpr int64_t kMels = 128, kClasses = 50;
// The recipe's settings that change the work of a step (config/*.toml [train]).
constexpr double kLearningRate = 2e-3, kWeightDecay = 0.05, kGradClip = 1.0, kEmaDecay = 0.999, kLabelSmoothing = 0.1;

struct Settings {
  int threads = 1, steps = 5, profile_steps = 2, top = 12;
  int64_t batch = 32, frames = 155;
  std::vector<std::string> models{"mamba", "liquid_s4", "vjepa2"};
};

// The phases of one step, each a profiler scope so that the profile can tell them apart.
const char* const kPhases[] = {"forward", "backward", "clip_grad", "optimizer", "weight_average"};

struct TrainingStep {
  std::shared_ptr<escd::SequenceClassifier> model;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  std::unique_ptr<escd::train::WeightEma> ema;
  at::Tensor frames, targets;  // targets: one-hot rows, as the trainer's (unmixed) label distributions

  // Runs one step, calling phase_done(i) after phase i.
  template <typename PhaseDone>
  void run(PhaseDone&& phase_done) {
    at::Tensor loss;
    {
      RECORD_USER_SCOPE("forward");
      loss = escd::train::label_loss(model->forward(frames), targets, kLabelSmoothing);
    }
    phase_done(0);
    {
      RECORD_USER_SCOPE("backward");
      optimizer->zero_grad();
      loss.backward();
    }
    phase_done(1);
    {
      RECORD_USER_SCOPE("clip_grad");
      torch::nn::utils::clip_grad_norm_(model->parameters(), kGradClip);
    }
    phase_done(2);
    {
      RECORD_USER_SCOPE("optimizer");
      optimizer->step();
    }
    phase_done(3);
    {
      RECORD_USER_SCOPE("weight_average");
      ema->update();
    }
    phase_done(4);
  }
};

TrainingStep make_step(const std::string& name, const Settings& s) {
  at::manual_seed(0);
  TrainingStep t;
  t.model = escd::create_model(name, nlohmann::json::object(), kMels, kClasses);
  t.model->train();
  t.optimizer = std::make_unique<torch::optim::AdamW>(t.model->parameters(),
                                                      torch::optim::AdamWOptions(kLearningRate).weight_decay(kWeightDecay));
  t.ema = std::make_unique<escd::train::WeightEma>(*t.model, kEmaDecay);
  t.frames = at::randn({s.batch, s.frames, kMels});
  t.targets = at::one_hot(at::randint(kClasses, {s.batch}, at::kLong), kClasses).to(at::kFloat);
  return t;
}

// CPU seconds of each phase, median over the steps (after one warm-up step).
nlohmann::json phase_seconds(TrainingStep& t, int steps) {
  t.run([](int) {});
  std::vector<std::vector<double>> times(std::size(kPhases));
  for (int i = 0; i < steps; ++i) {
    double t0 = cpu_seconds();
    t.run([&](int phase) {
      const double now = cpu_seconds();
      times[phase].push_back(now - t0);
      t0 = now;
    });
  }
  nlohmann::json out = nlohmann::json::object();
  double total = 0.0;
  for (size_t p = 0; p < std::size(kPhases); ++p) {
    out[kPhases[p]] = median(times[p]);
    total += out[kPhases[p]].get<double>();
  }
  out["step"] = total;
  return out;
}

using torch::autograd::profiler::KinetoEvent;

struct SelfTimes {
  // phase -> part -> microseconds of self time
  std::map<std::string, std::map<std::string, double>> by_part;
  // op name -> microseconds of self time
  std::map<std::string, double> by_op;
  double total_us = 0.0;
};

bool is_phase(const std::string& name) {
  return std::find(std::begin(kPhases), std::end(kPhases), name) != std::end(kPhases);
}

// Self time (duration minus children's) of every event, charged to its phase (the outermost
// scope) and part (the innermost model scope, or for a backward node the part of the forward op
// that created it). Events nest by time on the one thread that runs the step; the profiler gives
// whole microseconds, so an op shorter than that can count as its parent's sibling (a sub-
// microsecond error in self times).
SelfTimes attribute(const std::vector<KinetoEvent>& events, int steps) {
  std::vector<const KinetoEvent*> sorted;
  for (const auto& e : events) {
    if (e.deviceType() == c10::DeviceType::CPU) sorted.push_back(&e);
  }
  std::sort(sorted.begin(), sorted.end(), [](const KinetoEvent* a, const KinetoEvent* b) {
    if (a->startThreadId() != b->startThreadId()) return a->startThreadId() < b->startThreadId();
    if (a->startUs() != b->startUs()) return a->startUs() < b->startUs();
    return a->durationUs() > b->durationUs();  // the enclosing event first
  });

  struct Open {
    const KinetoEvent* event;
    std::string phase, part;
    double children_us = 0.0;
  };
  std::unordered_map<int64_t, std::string> part_of_sequence;  // forward op -> its part
  SelfTimes out;
  std::vector<Open> stack;
  // Pops the innermost open event and books its self time.
  auto close_innermost = [&] {
    const Open o = stack.back();
    stack.pop_back();
    const double self = std::max(0.0, static_cast<double>(o.event->durationUs()) - o.children_us);
    if (!stack.empty()) stack.back().children_us += static_cast<double>(o.event->durationUs());
    if (o.phase.empty()) return;  // outside the step (the profiler's own events)
    out.by_part[o.phase][o.part] += self / steps;
    if (o.event->scope() != static_cast<uint8_t>(at::RecordScope::USER_SCOPE)) out.by_op[o.event->name()] += self / steps;
    out.total_us += self / steps;
  };
  uint64_t thread = 0;
  for (const KinetoEvent* e : sorted) {
    if (e->startThreadId() != thread) {
      while (!stack.empty()) close_innermost();
      thread = e->startThreadId();
    }
    while (!stack.empty() && stack.back().event->startUs() + stack.back().event->durationUs() <= e->startUs()) {
      close_innermost();
    }
    Open o{e, stack.empty() ? "" : stack.back().phase, stack.empty() ? "" : stack.back().part};
    const std::string name = e->name();
    const auto scope = static_cast<at::RecordScope>(e->scope());
    if (scope == at::RecordScope::USER_SCOPE) {
      if (is_phase(name)) {
        o.phase = name;
        o.part = "other";
      } else {
        o.part = name;
      }
    } else if (scope == at::RecordScope::BACKWARD_FUNCTION) {
      const auto found = part_of_sequence.find(e->sequenceNr());
      if (found != part_of_sequence.end()) o.part = found->second;
    } else if (o.phase == "forward" && e->sequenceNr() >= 0) {
      // Every op that runs with autograd on records the sequence number the next autograd node will
      // take, node or not (an input's standardisation records the number of the MelConv's first
      // convolution), and the ops inside a node-making op record the number after it. The last op
      // to record a number before its node is made is the node's maker: later ones overwrite.
      part_of_sequence[e->sequenceNr()] = o.part;
    }
    stack.push_back(o);
  }
  while (!stack.empty()) close_innermost();
  return out;
}

SelfTimes profile(TrainingStep& t, int steps) {
  namespace prof = torch::autograd::profiler;
  const torch::profiler::impl::ProfilerConfig config(torch::profiler::impl::ProfilerState::KINETO);
  prof::prepareProfiler(config, {torch::profiler::impl::ActivityType::CPU});
  prof::enableProfiler(config, {torch::profiler::impl::ActivityType::CPU});
  for (int i = 0; i < steps; ++i) t.run([](int) {});
  const std::unique_ptr<prof::ProfilerResult> result = prof::disableProfiler();
  return attribute(result->events(), steps);
}

nlohmann::json bench_model(const std::string& name, const Settings& s) {
  TrainingStep t = make_step(name, s);
  const escd::bench::ForwardFlops flops =
      escd::bench::forward_flops(name, t.model->hyperparameters(), s.frames, kMels, kClasses);
  nlohmann::json out = {{"train_flops_per_step", escd::bench::training_flops_per_step(flops, s.batch)},
                        {"phase_seconds", phase_seconds(t, s.steps)}};
  // The profiler measures wall time, with its own overhead: its figures are used as shares, of a
  // phase's CPU time for the parts and of the step's for the ops.
  const SelfTimes self = profile(t, s.profile_steps);
  const nlohmann::json& phases = out["phase_seconds"];
  nlohmann::json parts = nlohmann::json::object();
  for (const auto& [phase, by_part] : self.by_part) {
    double phase_us = 0.0;
    for (const auto& [part, us] : by_part) phase_us += us;
    for (const auto& [part, us] : by_part) parts[phase][part] = phases.at(phase).get<double>() * us / phase_us;
  }
  out["part_seconds"] = parts;
  std::vector<std::pair<double, std::string>> ops;
  for (const auto& [op, us] : self.by_op) ops.emplace_back(us, op);
  std::sort(ops.rbegin(), ops.rend());
  nlohmann::json top = nlohmann::json::array();
  for (size_t i = 0; i < ops.size() && i < static_cast<size_t>(s.top); ++i) {
    top.push_back({{"op", ops[i].second}, {"seconds", phases.at("step").get<double>() * ops[i].first / self.total_us}});
  }
  out["top_ops"] = top;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{"Where a training step's time goes (see the comment at the top of bench/bench_training_profile.cpp)"};
  app.add_option("--models", s.models, "Models to profile")->delimiter(',');
  app.add_option("--batch", s.batch, "Clips per batch")->check(CLI::Range(1, 1 << 20));
  app.add_option("--frames", s.frames, "Frames per clip")->check(CLI::Range(1, 1 << 20));
  app.add_option("--steps", s.steps, "Steps timed per model (after one warm-up)")->check(CLI::Range(1, 1 << 20));
  app.add_option("--profile-steps", s.profile_steps, "Steps under the profiler")->check(CLI::Range(1, 1 << 20));
  app.add_option("--threads", s.threads, "Threads for libtorch and OpenBLAS")->check(CLI::Range(1, 1 << 20));
  app.add_option("--top", s.top, "Ops listed per model")->check(CLI::Range(1, 1 << 20));
  CLI11_PARSE(app, argc, argv);
  try {
    escd::bench::use_threads(s.threads, "bench_training_profile");
    nlohmann::json result = {{"threads", at::get_num_threads()},
                             {"batch", s.batch},
                             {"frames", s.frames},
                             {"blas_core", escd::openblas_core_name()},
                             {"gemm_gflops", escd::bench::gemm_gflops(2048, 3)},
                             {"models", nlohmann::json::object()}};
    for (const std::string& m : s.models) result["models"][m] = bench_model(m, s);
    std::printf("%s\n", result.dump().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_training_profile: %s\n", e.what());
    return 1;
  }
  return 0;
}
