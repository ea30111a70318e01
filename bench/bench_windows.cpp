// Exact 5-second windows two ways, on the same frames with the same model: staggered recurrent
// sessions (escd::StaggeredWindows, what escd runs for Mamba and Liquid-S4) against recomputing
// the whole window with the parallel forward every hop (escd::WindowRecompute, the baseline).
// One torch thread, as escd runs. Reports CPU and wall µs per 32 ms frame, the ratio, and the
// largest logit difference between the two on full windows (they compute the same thing).
//
// Usage: bench_windows [--hop-frames N (16 = 500 ms)] [--seconds S (30)] [--audio file] [--json]
//                      [--profile stagger|recompute] ckpt...
// (--json: one JSON object per model instead of the table, for bench/run.sh; --profile: run only
// that scheduler over the frames and print its cost, so that `perf record` sees nothing else)
// Without --audio the frames come from a deterministic synthetic signal. With window-relative
// levels the cost depends on the content (rows and windows share MelConv features while their level
// references agree), so bench/run_escd.sh passes ESC-50 audio.
#include <ATen/Functions.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "audio/decode.h"
#include "cpu_time.h"
#include "features/log_mel_tensor.h"
#include "models/common/checkpoint.h"
#include "streaming/staggered_windows.h"
#include "streaming/window_recompute.h"

namespace {

constexpr int64_t kWindow = 155;
constexpr const char* kUsage =
    "usage: bench_windows [--hop-frames N] [--seconds S] [--audio file] [--json] [--profile stagger|recompute] "
    "checkpoint...\n";

double wall_now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Run {
  double cpu_us_per_frame = 0, wall_us_per_frame = 0;
  std::vector<at::Tensor> full_windows;  // logits of every full window, in order
};

template <typename Scheduler>
Run run(Scheduler& scheduler, const at::Tensor& frames) {
  at::NoGradGuard no_grad;
  const int64_t n = frames.size(0);
  const float* data = frames.data_ptr<float>();
  const int64_t n_mels = frames.size(1);
  Run r;
  const double c0 = escd::bench::cpu_seconds(), w0 = wall_now();
  for (int64_t i = 0; i < n; ++i) {
    auto result = scheduler.push(data + i * n_mels);
    if (result && !result->warming_up) r.full_windows.push_back(result->logits.clone());
  }
  r.cpu_us_per_frame = 1e6 * (escd::bench::cpu_seconds() - c0) / static_cast<double>(n);
  r.wall_us_per_frame = 1e6 * (wall_now() - w0) / static_cast<double>(n);
  return r;
}

std::vector<float> synthetic_audio(double seconds) {
  const int rate = 16000;
  std::vector<float> x(static_cast<size_t>(seconds * rate));
  uint32_t state = 12345;
  for (size_t i = 0; i < x.size(); ++i) {
    state = state * 1664525u + 1013904223u;
    const double noise = (static_cast<double>(state >> 8) / (1u << 24)) - 0.5;
    x[i] = static_cast<float>(0.3 * std::sin(2 * M_PI * (200.0 + 50.0 * (i % 16000) / 16000.0) * i / rate) +
                              0.1 * noise);
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t hop = 16;
  double seconds = 30.0;
  std::string audio_path;
  bool json = false;
  std::string profile;  // empty: both schedulers and the comparison
  std::vector<std::string> checkpoints;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--hop-frames" && i + 1 < argc) {
      hop = std::atoll(argv[++i]);
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--audio" && i + 1 < argc) {
      audio_path = argv[++i];
    } else if (a == "--profile" && i + 1 < argc) {
      profile = argv[++i];
      if (profile != "stagger" && profile != "recompute") {
        std::fprintf(stderr, "bench_windows: --profile expects stagger or recompute, got '%s'\n", profile.c_str());
        return 2;
      }
    } else if (a == "--json") {
      json = true;
    } else if (a == "-h" || a == "--help" || a.rfind("--", 0) == 0) {
      std::fputs(kUsage, stderr);
      return a == "-h" || a == "--help" ? 0 : 2;
    } else {
      checkpoints.push_back(a);
    }
  }
  if (checkpoints.empty() || hop < 1) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  at::set_num_threads(1);

  std::vector<float> audio = audio_path.empty() ? synthetic_audio(seconds) : escd::decode_audio_file(audio_path).samples;
  if (audio.size() > static_cast<size_t>(seconds * 16000)) audio.resize(static_cast<size_t>(seconds * 16000));

  if (!json && profile.empty()) std::printf("exact %lld-frame windows, hop %lld frames (%lld ms), %.1f s of %s audio, 1 thread\n",
              static_cast<long long>(kWindow), static_cast<long long>(hop), static_cast<long long>(hop * 32),
              audio.size() / 16000.0, audio_path.empty() ? "synthetic" : audio_path.c_str());
  if (!json && profile.empty()) std::printf("%-10s %6s %5s | %14s %14s | %14s %14s | %10s %10s | %9s\n", "model", "frames", "rows",
              "stagger cpu us", "stagger wall", "recomp cpu us", "recomp wall", "cpu ratio", "rt load %", "max |dl|");
  for (const std::string& path : checkpoints) {
    escd::Checkpoint ckpt = escd::load_checkpoint(path);
    ckpt.model->eval();
    const at::Tensor frames = escd::log_mel_tensor(audio, ckpt.front_end).contiguous();
    escd::StaggeredWindows staggered(*ckpt.model, kWindow, hop);
    escd::WindowRecompute recompute(*ckpt.model, kWindow, hop);
    // One untimed warm-up pass over a window's worth of frames for each (allocator, caches).
    {
      escd::StaggeredWindows w1(*ckpt.model, kWindow, hop);
      escd::WindowRecompute w2(*ckpt.model, kWindow, hop);
      const at::Tensor warm = frames.narrow(0, 0, std::min<int64_t>(frames.size(0), kWindow + hop));
      run(w1, warm);
      run(w2, warm);
    }
    if (!profile.empty()) {
      const Run p = profile == "stagger" ? run(staggered, frames) : run(recompute, frames);
      std::printf("%s %s: %.1f us CPU per frame\n", ckpt.model->architecture().c_str(), profile.c_str(),
                  p.cpu_us_per_frame);
      continue;
    }
    const Run s = run(staggered, frames);
    const Run r = run(recompute, frames);
    double max_diff = 0.0;
    for (size_t i = 0; i < std::min(s.full_windows.size(), r.full_windows.size()); ++i) {
      max_diff = std::max(max_diff, (s.full_windows[i] - r.full_windows[i]).abs().max().item<double>());
    }
    // rt load: CPU of the staggered scheduler as a share of one core in real time (a frame per 32 ms).
    if (json) {
      std::printf("{\"model\": \"%s\", \"hop_frames\": %lld, \"rows\": %lld, \"frames\": %lld, "
                  "\"stagger_cpu_us\": %.2f, \"recompute_cpu_us\": %.2f, \"max_logit_diff\": %.3g}\n",
                  ckpt.model->architecture().c_str(), static_cast<long long>(hop),
                  static_cast<long long>(staggered.sessions()), static_cast<long long>(frames.size(0)), s.cpu_us_per_frame,
                  r.cpu_us_per_frame, max_diff);
      continue;
    }
    std::printf("%-10s %6lld %5lld | %14.1f %14.1f | %14.1f %14.1f | %10.2f %10.2f | %9.2e\n",
                ckpt.model->architecture().c_str(), static_cast<long long>(frames.size(0)),
                static_cast<long long>(staggered.sessions()), s.cpu_us_per_frame, s.wall_us_per_frame, r.cpu_us_per_frame,
                r.wall_us_per_frame, r.cpu_us_per_frame / s.cpu_us_per_frame, 100.0 * s.cpu_us_per_frame / 32000.0,
                max_diff);
    if (s.full_windows.size() != r.full_windows.size()) {
      std::printf("  note: %zu vs %zu full windows\n", s.full_windows.size(), r.full_windows.size());
    }
  }
  if (!json && profile.empty()) std::printf("cpu ratio = recompute CPU / staggered CPU (> 1: staggered stepping is cheaper)\n");
  return 0;
}
