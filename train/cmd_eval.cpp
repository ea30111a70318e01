// esc-train eval: accuracy, per-class accuracy and confusions of a checkpoint on a fold, through
// the parallel forward and optionally through streaming sessions (reporting their agreement).
#include <spdlog/spdlog.h>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <memory>

#include "commands.h"
#include "data/esc50_dataset.h"
#include "evaluation.h"
#include "models/common/checkpoint.h"
#include "util/atomic_file.h"
#include "util/compute_threads.h"

namespace escd::train {

std::function<int()> add_eval_command(CLI::App& app) {
  struct Args {
    std::string checkpoint, data = "../shared/esc50", json;
    std::vector<int> folds{5};
    bool streaming = false;
    int threads = 2;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate a checkpoint on ESC-50 folds");
  cmd->add_option("--checkpoint", args->checkpoint, "Checkpoint file")->required();
  cmd->add_option("--data", args->data, "ESC-50 directory")->capture_default_str();
  cmd->add_option("--fold", args->folds, "Fold(s) to evaluate")->capture_default_str()->check(CLI::Range(1, 5));
  cmd->add_option("--json", args->json, "Write the full result (confusion matrix...) here");
  cmd->add_flag("--streaming", args->streaming, "Also evaluate frame by frame through streaming sessions");
  cmd->add_option("--threads", args->threads, "Threads")->capture_default_str();
  return [args] {
    set_compute_threads(args->threads);
    const Checkpoint ckpt = load_checkpoint(args->checkpoint);
    Esc50Index index = read_esc50_index(args->data);
    const std::vector<size_t> clips = clips_in_folds(index, args->folds);
    const Esc50Dataset data = load_esc50(std::move(index), {}, clips);
    const EvalResult result = evaluate(*ckpt.model, data, clips);
    std::printf("%s (%s) on fold(s) %s: accuracy %.4f (%lld clips), loss %.4f\n", args->checkpoint.c_str(),
                ckpt.model->architecture().c_str(), nlohmann::json(args->folds).dump().c_str(), result.accuracy,
                static_cast<long long>(result.clips), result.loss);
    // The most confused pairs, the part of a confusion matrix people read first.
    for (const Confusion& c : worst_confusions(result.confusion, 5)) {
      std::printf("  confused: %-18s -> %-18s %lld\n", ckpt.class_names[c.true_class].c_str(),
                  ckpt.class_names[c.predicted_class].c_str(), static_cast<long long>(c.count));
    }
    nlohmann::json out = result.to_json(ckpt.class_names);
    out["checkpoint"] = args->checkpoint;
    out["folds"] = args->folds;
    if (args->streaming) {
      const EvalResult streamed = evaluate_streaming(*ckpt.model, data, clips);
      int64_t agree = 0;
      for (size_t i = 0; i < result.predictions.size(); ++i) agree += result.predictions[i] == streamed.predictions[i];
      const double agreement = static_cast<double>(agree) / std::max<int64_t>(result.clips, 1);
      const double max_diff = (streamed.logits - result.logits).abs().max().item<double>();
      std::printf("streaming: accuracy %.4f, same prediction on %.2f%% of clips, max |logit difference| %.2e\n",
                  streamed.accuracy, 100.0 * agreement, max_diff);
      out["streaming"] = {{"accuracy", streamed.accuracy}, {"agreement", agreement}, {"max_logit_difference", max_diff}};
    }
    if (!args->json.empty()) write_file_atomic(args->json, out.dump(1));
    return 0;
  };
}

}  // namespace escd::train
