// The run directory's files outside the checkpoints: whether it can be written at all, the
// metrics lines a resumed run keeps, a run that already finished, and the temporaries an
// interrupted atomic write leaves.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace escd::train {

// Creates the run directory if needed and proves it writable with a small atomic write, so that a
// read-only or full disk is a clear error before any training, not after the first epoch. Throws
// std::runtime_error naming the directory and the OS error.
void prepare_run_directory(const std::string& run_dir);

// The lines of metrics.jsonl for the epochs before `first_epoch`: a run killed after writing an
// epoch's line but before its checkpoint resumes at that epoch, and its file then reads like an
// uninterrupted run's. Unreadable lines are dropped with a warning.
std::vector<std::string> read_metrics_before(const std::string& path, int first_epoch);

// Writes metrics.jsonl atomically, one line per epoch.
void write_metrics(const std::string& path, const std::vector<std::string>& lines);

// A run that already finished: its final.json, when the directory holds final.json and
// summary.json (written last) and every key of `identity_of_this_run()` (model, hyperparameters,
// train_config, data_fingerprint, ...; called only then) equals summary.json's. fit --resume then returns it without training or
// testing again, so a finished fold of a long cross-validation travels to another machine as these
// two small files alone. No summary.json or no final.json: std::nullopt. Throws
// std::runtime_error naming the setting that differs (e.g. train_config.epochs) when the finished
// run had other settings, or when either file is unreadable (std::invalid_argument).
std::optional<nlohmann::json> read_finished_run(const std::string& run_dir,
                                               const std::function<nlohmann::json()>& identity_of_this_run);

// A run started afresh (no --resume) in a directory that holds a finished run: once the new run has
// passed its checks and is about to train, the old run's final.json and summary.json are removed,
// saying so, so that a later --resume of the new run never takes the old one for it.
void forget_finished_run(const std::string& run_dir);

// write_file_atomic's temporaries (<name>.tmp.XXXXXX) are left behind when a process is killed
// mid-write. They are never mistaken for the file (it is untouched), but they pile up: a new run or
// a resume removes them, saying so.
void remove_stale_temporaries(const std::string& run_dir);

}  // namespace escd::train
