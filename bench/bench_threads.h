// Thread setup shared by the benchmarks that print JSON on stdout.
#pragma once

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <ATen/Parallel.h>

#include "util/compute_threads.h"

namespace escd::bench {

// n threads for libtorch and for OpenBLAS's own pool, one inter-op thread. at::set_num_threads alone
// leaves OpenBLAS a spinning thread per core, which the process's CPU time then counts (a 1-thread
// V-JEPA2 training step measured 1.76 s of CPU time that way, 1.06 s without). The log line that
// says which BLAS kernel runs goes to stderr, so stdout stays one JSON object.
inline void use_threads(int n, const char* program) {
  spdlog::set_default_logger(spdlog::stderr_color_mt(program));
  escd::set_compute_threads(n);
  at::set_num_interop_threads(1);
}

}  // namespace escd::bench
