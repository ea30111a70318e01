#include "features/vector_log.h"

#include <cmath>

// glibc ships vector variants of logf in libmvec (SSE, AVX2 and AVX-512 versions), but its headers
// declare them to the compiler only under -ffast-math, which this project does not want anywhere.
// Declaring the variant here, in a file that holds nothing else and is built with -fno-math-errno
// (src/CMakeLists.txt), lets GCC vectorise the loop below and nothing more. Other compilers (clang
// in the sanitizer builds) keep the scalar loop with the same results to a few ulp.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
extern "C" float logf(float) noexcept __attribute__((simd("notinbranch")));
#endif

namespace escd {

void log_with_offset(const float* in, float offset, float* out, int n) {
  for (int i = 0; i < n; ++i) out[i] = logf(in[i] + offset);
}

}  // namespace escd
