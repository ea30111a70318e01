// A number as a person would write it in a recipe or on a command line: the shortest text that
// reads back as the same double ("0.1", "-20", "8000"), and "0" rather than "-0".
#pragma once

#include <charconv>
#include <string>
#include <system_error>

namespace escd {

inline std::string number_text(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v + 0.0);  // + 0.0 turns -0 into 0
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

}  // namespace escd
