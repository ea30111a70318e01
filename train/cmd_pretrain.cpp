// esc-train pretrain: JEPA self-supervised pretraining of the V-JEPA2 encoder, see pretrainer.h.
#include <spdlog/spdlog.h>

#include <memory>

#include "commands.h"
#include "config_file.h"
#include "data/clip_dataset.h"
#include "data_dir.h"
#include "models/common/registry.h"
#include "pretrainer.h"

namespace escd::train {

std::function<int()> add_pretrain_command(CLI::App& app) {
  struct Args {
    std::string model = "vjepa2", out, config;
    DataArgs data;
    std::vector<std::string> audio_dirs;
    int epochs = 0, threads = 0;
    double lr = 0;
    int64_t seed = -1;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("pretrain", "JEPA self-supervised pretraining of the V-JEPA2 encoder");
  cmd->add_option("--model", args->model, "Only vjepa2 has a JEPA objective")->check(CLI::IsMember({"vjepa2"}));
  add_data_options(cmd, args->data, "Dataset whose training folds are the unlabelled audio");
  cmd->add_option("--audio-dir", args->audio_dirs, "Extra unlabelled audio (any format libsndfile reads), repeatable");
  cmd->add_option("--out", args->out, "Run directory (metrics.jsonl, pretrain.ckpt)")->required();
  cmd->add_option("--config", args->config, "Recipe TOML (default: config/vjepa2.toml; its [pretrain] table)");
  cmd->add_option("--epochs", args->epochs, "Override the recipe's epochs")->check(CLI::PositiveNumber);
  cmd->add_option("--lr", args->lr, "Override the recipe's peak learning rate")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", args->seed, "Override the recipe's seed")->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", args->threads, "Override the recipe's threads")->check(CLI::PositiveNumber);
  return [args] {
    const std::string config_path = find_model_config(args->model, args->config);
    ModelConfigFile file;
    if (!config_path.empty()) file = read_model_config(config_path);
    PretrainOptions options;
    options.hyperparameters = file.model;
    // [pretrain] overrides [train] key by key: same augmentation, its own epochs/lr/decay.
    apply_train_table(options.config, file.train, config_path + " [train]");
    apply_train_table(options.config, file.pretrain, config_path + " [pretrain]");
    if (args->epochs > 0) options.config.epochs = args->epochs;
    if (args->lr > 0) options.config.lr = args->lr;
    if (args->seed >= 0) options.config.seed = static_cast<uint64_t>(args->seed);
    if (args->threads > 0) options.config.threads = args->threads;
    options.run_dir = args->out;
    create_model(args->model, options.hyperparameters);  // fail early on a bad [model] table
    ClipDataset data = load_clips(read_data(args->data, "pretrain"));  // before writing anything
    std::vector<size_t> clips = clips_in_folds(data.index, options.config.train_folds);
    for (const auto& dir : args->audio_dirs) {
      const auto extra = add_unlabelled_audio(data, dir);
      clips.insert(clips.end(), extra.begin(), extra.end());
    }
    spdlog::info("pretraining on {} clips", clips.size());
    pretrain(options, data, clips);
    return 0;
  };
}

}  // namespace escd::train
