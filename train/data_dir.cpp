#include "data_dir.h"

#include <cstdlib>
#include <stdexcept>

namespace escd::train {

CLI::Option* add_data_option(CLI::App* cmd, std::string& data, const std::string& what) {
  return cmd->add_option("--data", data,
                         what + " (meta/esc50.csv, audio/ as in the official ESC-50 repository); default: $" +
                             kEsc50DirVariable);
}

CLI::Option* add_partial_data_flag(CLI::App* cmd, bool& partial_data) {
  return cmd->add_flag("--partial-data", partial_data,
                       "Accept a dataset that is not all of ESC-50 (a few classes or clips: tests, quick runs)");
}

std::string resolve_data_dir(const std::string& data_option, const std::string& command) {
  if (!data_option.empty()) return data_option;
  if (const char* env = std::getenv(kEsc50DirVariable); env != nullptr && *env != '\0') return env;
  throw std::invalid_argument(
      command + ": no ESC-50 directory: pass --data DIR or set " + kEsc50DirVariable +
      "=DIR, where DIR is the dataset as the official ESC-50 repository lays it out "
      "(https://github.com/karolpiczak/ESC-50, cloned or its archive unpacked): audio/ with the 2000 clips "
      "(44.1 kHz WAV, or FLAC of the same names) and meta/esc50.csv");
}

}  // namespace escd::train
