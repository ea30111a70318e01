// Where esc-train finds ESC-50: --data, else $ESC50_DIR. There is no built-in default: a path that
// held the dataset on one machine means nothing on another, so without either esc-train says what
// to pass and where the dataset comes from. Every subcommand that reads ESC-50 goes through here.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace escd::train {

// The environment variable read when --data is not given.
inline constexpr const char* kEsc50DirVariable = "ESC50_DIR";

// Registers --data on `cmd`, storing into `data`; `what` describes the directory's use in this
// command (the help text adds the layout and "default: $ESC50_DIR").
CLI::Option* add_data_option(CLI::App* cmd, std::string& data, const std::string& what = "ESC-50 directory");

// Registers --partial-data on `cmd`: accept a directory with fewer clips than all of ESC-50.
CLI::Option* add_partial_data_flag(CLI::App* cmd, bool& partial_data);

// `data_option` when not empty, else $ESC50_DIR when set and not empty. Otherwise throws
// std::invalid_argument naming `command`, --data, ESC50_DIR and the official ESC-50 layout.
std::string resolve_data_dir(const std::string& data_option, const std::string& command);

}  // namespace escd::train
