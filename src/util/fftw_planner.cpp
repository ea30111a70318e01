#include "util/fftw_planner.h"

namespace escd {

std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace escd
