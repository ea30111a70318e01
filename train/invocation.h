// The command line esc-train was started with, recorded in run summaries so that every shipped
// number comes with the exact command that produced it.
#pragma once

#include <string>
#include <vector>

namespace escd::train {

void set_invocation(int argc, char** argv);
// Arguments joined by spaces (quoted when they contain spaces); empty if never set (tests).
const std::string& invocation();
// The same arguments one by one (argv[0] first), e.g. to start more ranks of the same command.
const std::vector<std::string>& invocation_arguments();

// "<cpu model name>, <n> cores" from /proc/cpuinfo, for run summaries.
std::string machine_description();

}  // namespace escd::train
