// escd's command line. Every setting it takes is a key of the config file (daemon_options.h), so
// each option writes that key into a table of overrides, applied over the file's with the same
// checks and messages; nothing repeats the config's layout field by field.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace escd::daemon {

struct CommandLine {
  std::string config;            // --config ("" = the default file)
  std::string checkpoint;        // --checkpoint: only on the command line (the file has [models.<name>])
  std::string generate_keypair;  // --generate-curve-keypair FILE: write one and exit
  bool list_devices = false;
  nlohmann::json overrides = nlohmann::json::object();  // {table: {key: value}}, as the file spells them
};

// Registers escd's options on `app`, writing into `line` as they are parsed.
void add_command_line(CLI::App& app, CommandLine& line);

}  // namespace escd::daemon
