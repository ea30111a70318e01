// CPU-time measurement shared by the benchmarks that print JSON: with one thread for libtorch and
// OpenBLAS (bench_threads.h), the process's CPU time is the work done, and a busy machine disturbs it
// much less than wall time.
#pragma once

#include <ATen/Functions.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

namespace escd::bench {

inline double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// The median CPU time of `repeats` calls of fn, after one warm-up call (allocator, FFT plans).
inline double median_cpu_seconds(int repeats, const std::function<void()>& fn) {
  fn();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const double t0 = cpu_seconds();
    fn();
    times.push_back(cpu_seconds() - t0);
  }
  return median(times);
}

// The machine's limit for the FLOP rates: an n x n matrix product on this thread, GFLOP/s.
inline double gemm_gflops(int64_t n, int repeats) {
  const at::Tensor a = at::randn({n, n}), b = at::randn({n, n});
  const double seconds = median_cpu_seconds(repeats, [&] { at::mm(a, b); });
  return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / seconds / 1e9;
}

}  // namespace escd::bench
