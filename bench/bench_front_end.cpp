// Log-mel front end throughput on one core: frames per second for the batch entry point (a 5 s
// clip at a time) and the streaming one (blocks of 512 samples, as a 32 ms audio callback delivers).
#include <benchmark/benchmark.h>

#include <random>

#include "features/log_mel.h"

namespace {

std::vector<float> noise(size_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.0f, 0.1f);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

void BM_BatchClip(benchmark::State& state) {
  const std::vector<float> clip = noise(80000);
  escd::LogMelFrameComputer computer;
  std::vector<float> out(155 * 128);
  for (auto _ : state) {
    for (int j = 0; j < 155; ++j) computer.compute(clip.data() + 512 * j, out.data() + 128 * j);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["frames_per_s"] = benchmark::Counter(155.0 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BatchClip)->Unit(benchmark::kMicrosecond);

// The public batch entry point, including its per-call FFT plan and output allocation.
void BM_ComputeLogMel(benchmark::State& state) {
  const std::vector<float> clip = noise(80000);
  for (auto _ : state) benchmark::DoNotOptimize(escd::compute_log_mel(clip).data());
  state.counters["frames_per_s"] = benchmark::Counter(155.0 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ComputeLogMel)->Unit(benchmark::kMicrosecond);

void BM_Streaming(benchmark::State& state) {
  const auto block = static_cast<size_t>(state.range(0));
  const std::vector<float> audio = noise(16000 * 10);
  escd::StreamingLogMel stream;
  std::vector<float> frames;
  frames.reserve(400 * 128);
  size_t total = 0;
  for (auto _ : state) {
    frames.clear();
    for (size_t pos = 0; pos + block <= audio.size(); pos += block) total += stream.push(audio.data() + pos, block, frames);
  }
  state.counters["frames_per_s"] = benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Streaming)->Arg(1)->Arg(512)->Arg(4096)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
