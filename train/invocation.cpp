#include "invocation.h"

#include <fstream>
#include <thread>

namespace escd::train {
namespace {
std::string& stored() {
  static std::string command;
  return command;
}
}  // namespace

void set_invocation(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!out.empty()) out += ' ';
    out += arg.find(' ') == std::string::npos ? arg : "'" + arg + "'";
  }
  stored() = out;
}

const std::string& invocation() { return stored(); }

std::string machine_description() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(line.find_first_not_of(' ', colon + 1));
      break;
    }
  }
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " cores";
}

}  // namespace escd::train
