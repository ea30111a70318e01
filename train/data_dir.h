// Where esc-train finds its data, and how it reads it: --data (ESC-50, a folder per class or a CSV
// of file,label[,fold]: src/data/dataset_reader.h), else $ESC50_DIR. There is no built-in default: a
// path that held the dataset on one machine means nothing on another, so without either esc-train
// says what to pass. Every subcommand that reads a dataset goes through here.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "data/clip_index.h"

namespace escd::train {

// The environment variable read when --data is not given.
inline constexpr const char* kEsc50DirVariable = "ESC50_DIR";

// The data options every dataset-reading subcommand shares.
struct DataArgs {
  std::string data;
  bool partial_data = false;  // ESC-50: fewer than all 2000 clips (tests, quick runs)
  std::optional<uint64_t> split_seed;  // folds for data that has none (default 0)
};

// Registers --data, --partial-data and --split-seed on `cmd`; `what` describes the data's use in
// this command.
void add_data_options(CLI::App* cmd, DataArgs& args, const std::string& what = "Dataset");

// `data_option` when not empty, else $ESC50_DIR when set and not empty. Otherwise throws
// std::invalid_argument naming `command`, --data, ESC50_DIR and the layouts it reads.
std::string resolve_data_dir(const std::string& data_option, const std::string& command);

// `args` for evaluating a checkpoint: without --split-seed, the seed its training data's folds were
// dealt by (`training` is its training record), so that its test fold is the one it was tested on.
DataArgs with_checkpoint_split(DataArgs args, const nlohmann::json& training);

// The clips of `data` (resolved as above); throws DatasetError for a dataset that cannot be used.
ClipIndex read_data(const DataArgs& args, const std::string& command);

// Empty when a model with `model_labels` classifies `index`'s clips: the same classes in the same
// order (a background output aside), comparing only classes that have clips, since a partial ESC-50
// names the others class_<n>. Else what differs (label_set.h), for the error message.
std::string dataset_label_mismatch(const ClipIndex& index, const std::vector<std::string>& model_labels);

}  // namespace escd::train
