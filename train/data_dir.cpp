#include "data_dir.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <stdexcept>

#include "data/dataset_reader.h"
#include "models/common/label_set.h"

namespace escd::train {

void add_data_options(CLI::App* cmd, DataArgs& args, const std::string& what) {
  cmd->add_option("--data", args.data,
                  what + ": ESC-50 (meta/esc50.csv, audio/), a folder per class (DIR/<label>/<audio files>) or a "
                         "CSV of file,label[,fold]; default: $" + kEsc50DirVariable);
  cmd->add_flag("--partial-data", args.partial_data,
                "Accept an ESC-50 directory that is not all of ESC-50 (a few classes or clips: tests, quick runs)");
  cmd->add_option("--split-seed", args.split_seed,
                  "For data without folds: the seed of the stratified fold assignment (default 0; eval and "
                  "compare: the one the checkpoint was trained with)");
}

std::string resolve_data_dir(const std::string& data_option, const std::string& command) {
  if (!data_option.empty()) return data_option;
  if (const char* env = std::getenv(kEsc50DirVariable); env != nullptr && *env != '\0') return env;
  throw std::invalid_argument(
      command + ": no dataset: pass --data PATH or set " + kEsc50DirVariable +
      "=DIR. PATH is ESC-50 as the official repository lays it out (https://github.com/karolpiczak/ESC-50, "
      "cloned or its archive unpacked: audio/ with the 2000 clips and meta/esc50.csv), a folder with a "
      "sub-folder of audio files per class, or a CSV of file,label[,fold]");
}

DataArgs with_checkpoint_split(DataArgs args, const nlohmann::json& training) {
  if (!args.split_seed && training.contains("split_seed") && training["split_seed"].is_number_unsigned()) {
    args.split_seed = training["split_seed"].get<uint64_t>();
    spdlog::info("folds dealt by split seed {}, as in the checkpoint's training", *args.split_seed);
  }
  return args;
}

ClipIndex read_data(const DataArgs& args, const std::string& command) {
  DatasetOptions options;
  options.allow_partial_esc50 = args.partial_data;
  options.split_seed = args.split_seed.value_or(0);
  return read_dataset(resolve_data_dir(args.data, command), options);
}

std::string dataset_label_mismatch(const ClipIndex& index, const std::vector<std::string>& model_labels) {
  const std::string mismatch = label_mismatch(index.class_names, model_labels);
  const size_t model_classes = model_labels.size() - (background_index(model_labels) ? 1 : 0);
  if (mismatch.empty() || index.class_names.size() != model_classes) return mismatch;
  for (const ClipInfo& clip : index.clips) {
    if (index.class_names[clip.target] != model_labels[clip.target]) return mismatch;
  }
  return {};
}

}  // namespace escd::train
