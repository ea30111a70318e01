#include "run_directory.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

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

namespace {

nlohmann::json read_run_file(const std::string& path) {
  std::ifstream in(path);
  nlohmann::json value = nlohmann::json::parse(in, nullptr, false);
  if (value.is_discarded()) throw std::runtime_error(path + ": unreadable (not JSON)");
  return value;
}

// The first place where `was` and `now` differ: its name below `name` (train_config.epochs) and
// both values, each cut to 200 characters, or "absent" for a key one side lacks.
std::string first_difference(const std::string& name, const nlohmann::json& was, const nlohmann::json& now,
                             bool was_present = true, bool now_present = true) {
  if (was.is_object() && now.is_object()) {
    for (const auto& [key, value] : now.items()) {
      if (!was.contains(key)) return first_difference(name + "." + key, nlohmann::json(), value, false, true);
      if (was.at(key) != value) return first_difference(name + "." + key, was.at(key), value);
    }
    for (const auto& [key, value] : was.items()) {
      if (!now.contains(key)) return first_difference(name + "." + key, value, nlohmann::json(), true, false);
    }
  }
  auto shown = [](const nlohmann::json& value, bool present) {
    if (!present) return std::string("absent");
    std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return text.size() > 200 ? text.substr(0, 200) + "..." : text;
  };
  return name + " (was " + shown(was, was_present) + ", now " + shown(now, now_present) + ")";
}

}  // namespace

std::optional<nlohmann::json> read_finished_run(const std::string& run_dir, const nlohmann::json& identity) {
  const std::string final_path = run_dir + "/final.json", summary_path = run_dir + "/summary.json";
  if (!fs::exists(final_path) || !fs::exists(summary_path)) return std::nullopt;
  const nlohmann::json summary = read_run_file(summary_path);
  for (const auto& [key, value] : identity.items()) {
    const nlohmann::json was = summary.value(key, nlohmann::json());
    if (was != value) {
      throw std::runtime_error(summary_path + ": the finished run had another " +
                               first_difference(key, was, value, summary.contains(key)) +
                               "; --resume keeps a finished run only with the same settings (remove its final.json "
                               "and summary.json to train it again, or give another --out)");
    }
  }
  return read_run_file(final_path);
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
