// What a start-up step decided about a library's kernels. Two such steps run before main, each
// setting one environment variable unless the user already has: OPENBLAS_CORETYPE for OpenBLAS
// (util/blas_kernel.h) and ATEN_CPU_CAPABILITY for ATen (util/aten_kernel.h).
#pragma once

#include <string>

namespace escd {

struct KernelChoice {
  enum class Source {
    not_run,           // the start-up step did not run: the executable lacks its constructor
    set_by_escd,       // escd set the variable to `requested`
    from_environment,  // the variable was already set (`requested` holds its value)
    left_to_library,   // nothing better to ask for on this CPU: the library chooses
  };
  Source source = Source::not_run;
  std::string requested;
};

// Where a start-up constructor writes its choice. Declare it only as a global: a global of this type
// (no constructor) is zero-initialised before any constructor runs, so no static initialiser can
// overwrite the choice whatever the order they run in, and `requested` always ends in a zero.
struct KernelChoiceRecord {
  KernelChoice::Source source;
  char requested[32];

  void record(KernelChoice::Source from, const char* value);
  KernelChoice choice() const { return {source, requested}; }
};

// Why the library runs what it runs, for a log line: e.g. "escd set OPENBLAS_CORETYPE=SkylakeX".
// `library` names it when the choice was left to it ("OpenBLAS's own choice").
std::string describe_kernel_choice(const KernelChoice& choice, const std::string& variable,
                                   const std::string& library);

}  // namespace escd
