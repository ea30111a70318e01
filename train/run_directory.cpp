#include "run_directory.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "json_file.h"
#include "settings_difference.h"
#include "util/atomic_file.h"

namespace escd::train {
namespace fs = std::filesystem;

void prepare_run_directory(const std::string& run_dir) {
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec || !fs::is_directory(run_dir)) {
    throw std::runtime_error(run_dir + ": cannot create the run directory: " + ec.message());
  }
  const std::string probe = run_dir + "/.write-probe";
  try {
    write_file_atomic(probe, "esc-train checks that it can write here\n");
  } catch (const std::exception& e) {
    throw std::runtime_error(run_dir + ": the run directory is not writable (" + e.what() + ")");
  }
  fs::remove(probe, ec);
}

std::vector<std::string> read_metrics_before(const std::string& path, int first_epoch) {
  std::vector<std::string> kept;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    try {
      if (nlohmann::json::parse(line).at("epoch").get<int>() < first_epoch) kept.push_back(line);
    } catch (const std::exception&) {
      spdlog::warn("{}: dropping an unreadable line", path);
    }
  }
  return kept;
}

void write_metrics(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  write_file_atomic(path, text);
}

std::optional<nlohmann::json> read_finished_run(const std::string& run_dir,
                                               const std::function<nlohmann::json()>& identity_of_this_run) {
  const std::string final_path = run_dir + "/final.json", summary_path = run_dir + "/summary.json";
  if (!fs::exists(final_path)) return std::nullopt;
  const std::optional<nlohmann::json> summary = read_json(summary_path, false);
  if (!summary) return std::nullopt;
  const nlohmann::json identity = identity_of_this_run();
  if (const auto difference = difference_from_record(*summary, identity)) {
    throw std::runtime_error(summary_path + ": the finished run had another " + difference->name + " (was " +
                             difference->was + ", now " + difference->now +
                             "); --resume keeps a finished run only with the same settings (remove its final.json "
                             "and summary.json to train it again, or give another --out)");
  }
  return read_json(final_path, true);
}

void forget_finished_run(const std::string& run_dir) {
  std::error_code ec;
  for (const char* name : {"summary.json", "final.json"}) {
    if (fs::remove(run_dir + "/" + name, ec)) {
      spdlog::info("{}: removed {} of an earlier run (a new run, not --resume)", run_dir, name);
    }
  }
}

void remove_stale_temporaries(const std::string& run_dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(run_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!atomic_temporary_destination(name) || !entry.is_regular_file()) continue;
    if (fs::remove(entry.path(), ec)) {
      spdlog::info("{}: removed {}, a write interrupted by an earlier kill", run_dir, name);
    }
  }
}

}  // namespace escd::train
