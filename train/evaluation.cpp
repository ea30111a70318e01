#include "evaluation.h"

#include <ATen/Functions.h>
#include <ATen/core/grad_mode.h>

#include "data/batch_loader.h"
#include "features/log_mel.h"
#include "models/common/ensemble_mean.h"
#include "models/common/label_set.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <vector>

namespace escd::train {

at::Tensor mean_probability(const std::vector<at::Tensor>& logits) {
  at::Tensor probability_sum = at::zeros_like(logits.front());
  for (const at::Tensor& l : logits) probability_sum += at::softmax(l, 1);
  return probability_sum / static_cast<double>(logits.size());
}

namespace {

at::Tensor log_mean_probability(const std::vector<at::Tensor>& logits) { return at::log(mean_probability(logits)); }

}  // namespace

EvalResult summarise(const at::Tensor& logits, const std::vector<int64_t>& labels, int64_t n_classes) {
  EvalResult r;
  r.clips = static_cast<int64_t>(labels.size());
  r.logits = logits;
  r.labels = labels;
  r.confusion.assign(n_classes, std::vector<int64_t>(n_classes, 0));
  if (r.clips == 0) return r;
  const at::Tensor target = at::tensor(labels, at::kLong);
  r.loss = at::cross_entropy_loss(logits, target).item<double>();
  const at::Tensor predicted = logits.argmax(1);
  int64_t correct = 0;
  for (int64_t i = 0; i < r.clips; ++i) {
    const int64_t p = predicted[i].item<int64_t>();
    r.predictions.push_back(p);
    ++r.confusion[labels[i]][p];
    correct += (p == labels[i]);
  }
  r.accuracy = static_cast<double>(correct) / r.clips;
  r.per_class_accuracy = per_class_accuracy(r.confusion);
  return r;
}

void perturb_clips(ClipDataset& data, const std::vector<size_t>& clips, const RoomCondition& condition, uint64_t seed) {
  for (size_t clip : clips) {
    Rng rng(seed * 0x9e3779b97f4a7c15ULL + clip);
    apply_room_condition(data.waveforms.at(clip), 16000, condition, rng);
  }
}

EvalResult with_background(const EvalResult& result) {
  const at::Tensor column = at::full({result.logits.size(0), 1}, -std::numeric_limits<float>::infinity());
  return summarise(at::cat({result.logits, column}, 1), result.labels, result.logits.size(1) + 1);
}

EvalResult evaluate(SequenceClassifier& model, const ClipDataset& data, const std::vector<size_t>& clips,
                    int batch_size, int time_shifts) {
  if (time_shifts < 1) throw std::invalid_argument("evaluate: time_shifts must be at least 1");
  at::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  LoaderOptions options;
  options.batch_size = batch_size;
  options.shuffle = false;
  options.n_classes = model.n_classes();
  BatchLoader loader(data, clips, options);
  LogMelFrameComputer computer(options.front_end);
  std::vector<at::Tensor> logits;
  std::vector<int64_t> labels;
  for (size_t b = 0; b < loader.batches_per_epoch(); ++b) {
    const Batch batch = loader.make_batch(0, b, computer);
    if (time_shifts == 1) {
      logits.push_back(model.forward(batch.features));
    } else {
      const int64_t frames = batch.features.size(1);
      std::vector<at::Tensor> copies;
      for (int k = 0; k < time_shifts; ++k) {
        copies.push_back(model.forward(at::roll(batch.features, {k * frames / time_shifts}, {1})));
      }
      logits.push_back(log_mean_probability(copies));
    }
    for (size_t clip : batch.clips) labels.push_back(data.index.clips[clip].target);
  }
  model.train(was_training);
  return summarise(logits.empty() ? at::zeros({0, model.n_classes()}) : at::cat(logits), labels, model.n_classes());
}

EvalResult evaluate_streaming(SequenceClassifier& model, const ClipDataset& data, const std::vector<size_t>& clips,
                              int rows, size_t block) {
  at::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<at::Tensor> logits;
  std::vector<int64_t> labels;
  for (size_t start = 0; start < clips.size(); start += rows) {
    const size_t n = std::min(clips.size() - start, static_cast<size_t>(rows));
    auto session = model.start_session(static_cast<int64_t>(n));
    std::vector<StreamingLogMel> fronts(n);
    std::vector<std::vector<float>> frames(n);
    const size_t samples = data.clip_samples;
    at::Tensor step_input = at::empty({static_cast<int64_t>(n), model.n_mels()});
    for (size_t pos = 0; pos < samples; pos += block) {
      const size_t len = std::min(block, samples - pos);
      size_t new_frames = 0;
      for (size_t r = 0; r < n; ++r) {
        frames[r].clear();
        new_frames = fronts[r].push(data.waveforms[clips[start + r]].data() + pos, len, frames[r]);
      }
      for (size_t f = 0; f < new_frames; ++f) {
        for (size_t r = 0; r < n; ++r) {
          std::copy_n(frames[r].data() + f * model.n_mels(), model.n_mels(),
                      step_input.data_ptr<float>() + r * model.n_mels());
        }
        session->step(step_input);
      }
    }
    logits.push_back(session->logits());
    for (size_t r = 0; r < n; ++r) labels.push_back(data.index.clips[clips[start + r]].target);
  }
  model.train(was_training);
  return summarise(logits.empty() ? at::zeros({0, model.n_classes()}) : at::cat(logits), labels, model.n_classes());
}

EvalResult ensemble(const std::vector<EvalResult>& members, const std::vector<std::vector<std::string>>& member_labels,
                    const std::vector<std::string>& labels) {
  if (members.empty()) throw std::invalid_argument("ensemble: no members");
  if (member_labels.size() != members.size()) throw std::invalid_argument("ensemble: one label set per member needed");
  std::vector<at::Tensor> probabilities;
  for (size_t m = 0; m < members.size(); ++m) {
    if (members[m].labels != members.front().labels) {
      throw std::invalid_argument("ensemble: the members were evaluated on different clips");
    }
    if (members[m].logits.size(1) != static_cast<int64_t>(member_labels[m].size())) {
      throw std::invalid_argument("ensemble: a member's logits do not match its classes");
    }
    probabilities.push_back(at::softmax(members[m].logits.to(at::kFloat), 1).contiguous());
  }
  const int64_t clips = members.front().logits.size(0), classes = static_cast<int64_t>(labels.size());
  at::Tensor combined = at::empty({clips, classes}, at::kFloat);
  EnsembleMean mean(labels);
  for (int64_t i = 0; i < clips; ++i) {
    mean.clear();
    for (size_t m = 0; m < members.size(); ++m) {
      const int64_t c = probabilities[m].size(1);
      const float* row = probabilities[m].data_ptr<float>() + i * c;
      mean.add(std::vector<float>(row, row + c), member_labels[m]);
    }
    const std::vector<float> p = mean.mean();
    std::copy(p.begin(), p.end(), combined.data_ptr<float>() + i * classes);
  }
  // A probability that underflowed to 0 gives the log of the smallest float, not -inf (a finite loss).
  return summarise(at::log(combined.clamp_min(std::numeric_limits<float>::min())), members.front().labels, classes);
}

nlohmann::json EvalResult::to_json(const std::vector<std::string>& class_names) const {
  nlohmann::json per_class = nlohmann::json::object();
  for (size_t c = 0; c < per_class_accuracy.size(); ++c) {
    per_class[c < class_names.size() ? class_names[c] : std::to_string(c)] = per_class_accuracy[c];
  }
  nlohmann::json out = {{"clips", clips},          {"accuracy", accuracy}, {"loss", loss},
                        {"per_class_accuracy", per_class}, {"confusion", confusion}, {"class_names", class_names},
                        {"labels", labels},        {"predictions", predictions}};
  if (const std::optional<BackgroundCalls> calls = background_calls(*this, class_names)) out.update(calls->to_json());
  return out;
}

std::optional<BackgroundCalls> background_calls(const EvalResult& result, const std::vector<std::string>& class_names) {
  const std::optional<size_t> background = background_index(class_names);
  if (!background || result.clips == 0) return std::nullopt;
  const auto b = static_cast<int64_t>(*background);
  const auto called = std::count(result.predictions.begin(), result.predictions.end(), b);
  at::Tensor events = result.logits.to(at::kFloat).clone();
  events.select(1, b).fill_(-std::numeric_limits<float>::infinity());
  const at::Tensor best_event = events.argmax(1).contiguous();
  const int64_t* best = best_event.data_ptr<int64_t>();
  int64_t right = 0;
  for (int64_t i = 0; i < result.clips; ++i) right += best[i] == result.labels[static_cast<size_t>(i)];
  const auto clips = static_cast<double>(result.clips);
  return BackgroundCalls{static_cast<double>(called) / clips, static_cast<double>(right) / clips};
}

std::optional<std::vector<int>> trained_folds(const nlohmann::json& training) {
  if (!training.is_object() || !training.contains("train_config")) return std::nullopt;
  const nlohmann::json& config = training["train_config"];
  if (!config.is_object() || !config.contains("train_folds") || !config["train_folds"].is_array()) return std::nullopt;
  std::vector<int> folds;
  for (const auto& f : config["train_folds"]) {
    if (!f.is_number_integer()) return std::nullopt;
    folds.push_back(f.get<int>());
  }
  return folds;
}

std::vector<int> folds_trained_on(const nlohmann::json& training, const std::vector<int>& folds) {
  const std::optional<std::vector<int>> trained = trained_folds(training);
  std::vector<int> seen;
  if (!trained) return seen;
  for (int f : folds) {
    if (std::find(trained->begin(), trained->end(), f) != trained->end()) seen.push_back(f);
  }
  return seen;
}

}  // namespace escd::train
