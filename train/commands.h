// esc-train's subcommands: each registers its options on the CLI11 app and returns the action to
// run when it was chosen; the action returns the process exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace escd::train {

std::function<int()> add_features_command(CLI::App& app);
std::function<int()> add_dataset_command(CLI::App& app);
std::function<int()> add_fit_command(CLI::App& app);
std::function<int()> add_pretrain_command(CLI::App& app);
std::function<int()> add_eval_command(CLI::App& app);
std::function<int()> add_report_command(CLI::App& app);
std::function<int()> add_compare_command(CLI::App& app);

}  // namespace escd::train
