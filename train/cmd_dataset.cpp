// esc-train dataset [--data PATH]: checks a dataset (ESC-50, class folders or a CSV), decodes it, and reports the split
// sizes, decode throughput and the batch pipeline's throughput.
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "commands.h"
#include "data/batch_loader.h"
#include "data/clip_dataset.h"
#include "config_file.h"
#include "data_dir.h"
#include "train_config.h"

namespace escd::train {

std::function<int()> add_dataset_command(CLI::App& app) {
  struct Args {
    DataArgs data;
    std::vector<int> train_folds{1, 2, 3}, val_folds{4}, test_folds{5};
    int threads = 2;
    int batches = 10;
    std::string config;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("dataset", "Check a dataset and measure the data pipeline");
  add_data_options(cmd, args->data);
  cmd->add_option("--train-folds", args->train_folds, "Training folds")->capture_default_str();
  cmd->add_option("--val-folds", args->val_folds, "Validation folds")->capture_default_str();
  cmd->add_option("--test-folds", args->test_folds, "Test folds")->capture_default_str();
  cmd->add_option("--threads", args->threads, "Decoding threads")->capture_default_str();
  cmd->add_option("--batches", args->batches, "Augmented training batches to time")->capture_default_str();
  cmd->add_option("--config", args->config,
                  "Time the augmentation and batch size of this recipe (e.g. config/mamba.toml) instead of the "
                  "defaults with mixing");
  return [args] {
    using clock = std::chrono::steady_clock;
    ClipIndex index = read_data(args->data, "dataset");
    spdlog::info("{}: {} clips, {} classes; train {} / val {} / test {}", index.root, index.clips.size(),
                 index.class_names.size(), clips_in_folds(index, args->train_folds).size(),
                 clips_in_folds(index, args->val_folds).size(), clips_in_folds(index, args->test_folds).size());
    auto t0 = clock::now();
    DatasetLoadOptions load;
    load.threads = args->threads;
    const ClipDataset dataset = load_clips(std::move(index), load);
    const double decode_s = std::chrono::duration<double>(clock::now() - t0).count();
    spdlog::info("decoded {} clips in {:.2f} s: {:.0f} clips/s ({} threads)", dataset.waveforms.size(), decode_s,
                 dataset.waveforms.size() / decode_s, args->threads);

    LoaderOptions options;
    options.augment = true;
    options.augment_config.mix_prob = 0.5;
    if (!args->config.empty()) {
      TrainConfig recipe;
      apply_train_table(recipe, read_model_config(args->config).train, args->config + " [train]");
      options.augment_config = recipe.augment;
      options.batch_size = recipe.batch_size;
      options.n_classes = static_cast<int>(dataset.index.class_names.size()) + 1;
      options.background_fraction = recipe.background_fraction;
      options.background_class = options.n_classes - 1;
      options.crop_samples = crop_samples(recipe, options.front_end.sample_rate);
    }
    BatchLoader loader(dataset, clips_in_folds(dataset.index, args->train_folds), options);
    loader.start_epoch(0);
    t0 = clock::now();
    int n = 0, clips = 0;
    while (n < args->batches) {
      auto batch = loader.next();
      if (!batch) break;
      clips += static_cast<int>(batch->clips.size());
      ++n;
    }
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    spdlog::info("augmented batches: {} clips in {:.2f} s: {:.0f} clips/s (one background thread)", clips, s,
                 clips / s);
    return 0;
  };
}

}  // namespace escd::train
