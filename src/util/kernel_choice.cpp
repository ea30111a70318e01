#include "util/kernel_choice.h"

#include <cstring>

namespace escd {

void KernelChoiceRecord::record(KernelChoice::Source from, const char* value) {
  source = from;
  std::strncpy(requested, value, sizeof requested - 1);  // the last byte, zero in a global, stays zero
}

std::string describe_kernel_choice(const KernelChoice& choice, const std::string& variable,
                                   const std::string& library) {
  switch (choice.source) {
    case KernelChoice::Source::set_by_escd:
      return "escd set " + variable + "=" + choice.requested;
    case KernelChoice::Source::from_environment:
      return variable + "=" + choice.requested + " from the environment";
    case KernelChoice::Source::left_to_library:
      return library + "'s own choice";
    case KernelChoice::Source::not_run:
      break;
  }
  return "escd's kernel choice did not run: the executable lacks its start-up constructor";
}

}  // namespace escd
