// esc-train's subcommands: each registers its options on the CLI11 app and runs when chosen.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace escd::train {

// Returns the action to run when the subcommand was given; it returns the process exit code.
std::function<int()> add_features_command(CLI::App& app);
std::function<int()> add_dataset_command(CLI::App& app);

}  // namespace escd::train
