#include "invocation.h"

#include <fstream>
#include <thread>

namespace escd::train {
namespace {
std::string& stored() {
  static std::string command;
  return command;
}
std::vector<std::string>& stored_arguments() {
  static std::vector<std::string> arguments;
  return arguments;
}
}  // namespace

void set_invocation(int argc, char** argv) {
  std::string out;
  stored_arguments().assign(argv, argv + argc);
  for (const std::string& arg : stored_arguments()) {
    if (!out.empty()) out += ' ';
    out += arg.find(' ') == std::string::npos ? arg : "'" + arg + "'";
  }
  stored() = out;
}

const std::string& invocation() { return stored(); }

const std::vector<std::string>& invocation_arguments() { return stored_arguments(); }

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
