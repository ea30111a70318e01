#include "util/compute_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include "util/aten_kernel.h"
#include "util/blas_kernel.h"
#include "util/simd_level.h"

namespace escd {

void set_compute_threads(int n) {
  at::set_num_threads(n);
  // Looked up at run time: the BLAS behind libtorch is whichever the system's alternatives select.
  using SetThreads = void (*)(int);
  if (auto set_openblas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set_openblas(n);
  }
  spdlog::info("compute: {} thread(s); {}; {}; escd kernels {}", n, describe_blas_kernel(), describe_aten_kernel(),
               simd_level_name(simd_level()));
}

}  // namespace escd
