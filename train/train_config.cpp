#include "train_config.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <stdexcept>

namespace escd::train {
namespace {

// One setter per key, each checking the JSON type before assigning.
using Setter = std::function<void(TrainConfig&, const nlohmann::json&)>;

template <typename T>
Setter number(T TrainConfig::*field) {
  return [field](TrainConfig& c, const nlohmann::json& v) {
    if (!v.is_number() || (std::is_integral_v<T> && !v.is_number_integer())) throw std::invalid_argument("number");
    c.*field = v.get<T>();
  };
}
template <typename T>
Setter aug(T AugmentConfig::*field) {
  return [field](TrainConfig& c, const nlohmann::json& v) {
    if (!v.is_number() || (std::is_integral_v<T> && !v.is_number_integer())) throw std::invalid_argument("number");
    c.augment.*field = v.get<T>();
  };
}
Setter aug_flag(bool AugmentConfig::*field) {
  return [field](TrainConfig& c, const nlohmann::json& v) {
    if (!v.is_boolean()) throw std::invalid_argument("true or false");
    c.augment.*field = v.get<bool>();
  };
}
Setter flag(bool TrainConfig::*field) {
  return [field](TrainConfig& c, const nlohmann::json& v) {
    if (!v.is_boolean()) throw std::invalid_argument("true or false");
    c.*field = v.get<bool>();
  };
}
Setter folds(std::vector<int> TrainConfig::*field) {
  return [field](TrainConfig& c, const nlohmann::json& v) {
    if (!v.is_array()) throw std::invalid_argument("array of fold numbers");
    std::vector<int> out;
    for (const auto& f : v) {
      if (!f.is_number_integer() || f.get<int>() < 1 || f.get<int>() > 5) throw std::invalid_argument("folds 1..5");
      out.push_back(f.get<int>());
    }
    c.*field = out;
  };
}

std::vector<std::string> non_empty_strings(const nlohmann::json& v) {
  if (!v.is_array()) throw std::invalid_argument("array of strings");
  std::vector<std::string> out;
  for (const auto& s : v) {
    if (!s.is_string() || s.get<std::string>().empty()) throw std::invalid_argument("array of non-empty strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}
Setter strings(std::vector<std::string> TrainConfig::*field) {
  return [field](TrainConfig& c, const nlohmann::json& v) { c.*field = non_empty_strings(v); };
}
// A list of colour names, parsed once here so that augmentation draws from enums; a colour named
// twice is drawn twice as often.
Setter noise_colours(std::vector<NoiseColour> AugmentConfig::*field) {
  return [field](TrainConfig& c, const nlohmann::json& v) {
    const char* expected = "a non-empty list of noise colours (white, pink or brown)";
    if (!v.is_array() || v.empty()) throw std::invalid_argument(expected);
    std::vector<NoiseColour> out;
    for (const auto& name : v) {
      try {
        out.push_back(parse_noise_colour(name.get<std::string>()));
      } catch (const std::exception&) {  // not a string, or not a colour
        throw std::invalid_argument(expected);
      }
    }
    c.augment.*field = out;
  };
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> table = {
      {"epochs", number(&TrainConfig::epochs)},
      {"batch_size", number(&TrainConfig::batch_size)},
      {"lr", number(&TrainConfig::lr)},
      {"min_lr", number(&TrainConfig::min_lr)},
      {"warmup_epochs", number(&TrainConfig::warmup_epochs)},
      {"weight_decay", number(&TrainConfig::weight_decay)},
      {"ssm_lr", number(&TrainConfig::ssm_lr)},
      {"grad_clip", number(&TrainConfig::grad_clip)},
      {"label_smoothing", number(&TrainConfig::label_smoothing)},
      {"ema_decay", number(&TrainConfig::ema_decay)},
      {"eval_every", number(&TrainConfig::eval_every)},
      {"seed", number(&TrainConfig::seed)},
      {"threads", number(&TrainConfig::threads)},
      {"train_folds", folds(&TrainConfig::train_folds)},
      {"val_folds", folds(&TrainConfig::val_folds)},
      {"test_folds", folds(&TrainConfig::test_folds)},
      {"teachers", strings(&TrainConfig::teachers)},
      {"distill_weight", number(&TrainConfig::distill_weight)},
      {"distill_temperature", number(&TrainConfig::distill_temperature)},
      {"distill_room_free", flag(&TrainConfig::distill_room_free)},
      {"consistency_weight", number(&TrainConfig::consistency_weight)},
      {"freeze_backbone", flag(&TrainConfig::freeze_backbone)},
      {"shift_prob", aug(&AugmentConfig::shift_prob)},
      {"max_shift", aug(&AugmentConfig::max_shift)},
      {"noise_prob", aug(&AugmentConfig::noise_prob)},
      {"noise_std", aug(&AugmentConfig::noise_std)},
      {"gain_prob", aug(&AugmentConfig::gain_prob)},
      {"gain_min", aug(&AugmentConfig::gain_min)},
      {"gain_max", aug(&AugmentConfig::gain_max)},
      {"freq_shift_prob", aug(&AugmentConfig::freq_shift_prob)},
      {"freq_shift_max", aug(&AugmentConfig::freq_shift_max)},
      {"time_mask_prob", aug(&AugmentConfig::time_mask_prob)},
      {"time_mask_max", aug(&AugmentConfig::time_mask_max)},
      {"freq_mask_prob", aug(&AugmentConfig::freq_mask_prob)},
      {"freq_mask_max", aug(&AugmentConfig::freq_mask_max)},
      {"mix_prob", aug(&AugmentConfig::mix_prob)},
      {"mix_alpha", aug(&AugmentConfig::mix_alpha)},
      {"mix_between_classes", aug_flag(&AugmentConfig::mix_between_classes)},
      {"stretch_prob", aug(&AugmentConfig::stretch_prob)},
      {"stretch_min", aug(&AugmentConfig::stretch_min)},
      {"stretch_max", aug(&AugmentConfig::stretch_max)},
      {"reverb_prob", aug(&AugmentConfig::reverb_prob)},
      {"rt60_min", aug(&AugmentConfig::rt60_min)},
      {"rt60_max", aug(&AugmentConfig::rt60_max)},
      {"drr_db_min", aug(&AugmentConfig::drr_db_min)},
      {"drr_db_max", aug(&AugmentConfig::drr_db_max)},
      {"room_noise_prob", aug(&AugmentConfig::room_noise_prob)},
      {"snr_db_min", aug(&AugmentConfig::snr_db_min)},
      {"snr_db_max", aug(&AugmentConfig::snr_db_max)},
      {"room_noise_colours", noise_colours(&AugmentConfig::room_noise_colours)},
      {"mic_prob", aug(&AugmentConfig::mic_prob)},
      {"mic_eq_db", aug(&AugmentConfig::mic_eq_db)},
      {"lowpass_min_hz", aug(&AugmentConfig::lowpass_min_hz)},
      {"highpass_max_hz", aug(&AugmentConfig::highpass_max_hz)},
      {"gain_db_prob", aug(&AugmentConfig::gain_db_prob)},
      {"gain_db_min", aug(&AugmentConfig::gain_db_min)},
      {"gain_db_max", aug(&AugmentConfig::gain_db_max)},
      {"clip_prob", aug(&AugmentConfig::clip_prob)},
      {"clip_level_min", aug(&AugmentConfig::clip_level_min)},
      {"clip_level_max", aug(&AugmentConfig::clip_level_max)},
      {"background_dbfs_min", aug(&AugmentConfig::background_dbfs_min)},
      {"background_dbfs_max", aug(&AugmentConfig::background_dbfs_max)},
      {"background_hvac_depth_max", aug(&AugmentConfig::background_hvac_depth_max)},
      {"background_fraction", number(&TrainConfig::background_fraction)},
      {"crop_seconds", number(&TrainConfig::crop_seconds)},
  };
  return table;
}

}  // namespace

void apply_train_table(TrainConfig& config, const nlohmann::json& table, const std::string& where) {
  if (table.is_null()) return;
  if (!table.is_object()) throw std::invalid_argument(where + ": expected a table");
  for (const auto& [key, value] : table.items()) {
    const auto it = setters().find(key);
    if (it == setters().end()) {
      std::string known;
      for (const auto& [k, s] : setters()) known += (known.empty() ? "" : ", ") + k;
      throw std::invalid_argument(where + ": unknown key '" + key + "' (known: " + known + ")");
    }
    try {
      it->second(config, value);
    } catch (const std::exception& e) {
      throw std::invalid_argument(where + ": key '" + key + "': expected " + e.what() + ", got " + value.dump());
    }
  }
  if (config.background_fraction < 0.0 || config.background_fraction > 1.0) {
    throw std::invalid_argument(where + ": background_fraction must be in [0, 1]");
  }
  if (!(config.consistency_weight >= 0.0 && config.consistency_weight <= 100.0)) {
    throw std::invalid_argument(where + ": consistency_weight must be in [0, 100] (0: off)");
  }
  if (!(config.crop_seconds >= 0.0 && config.crop_seconds <= 3600.0)) {
    throw std::invalid_argument(where + ": crop_seconds must be in [0, 3600] (0: whole clips)");
  }
  if (const std::string problem = augment_config_problem(config.augment); !problem.empty()) {
    throw std::invalid_argument(where + ": " + problem);
  }
  if (config.epochs < 1 || config.batch_size < 1 || config.threads < 1 || config.eval_every < 1) {
    throw std::invalid_argument(where + ": epochs, batch_size, threads and eval_every must be >= 1");
  }
  check_folds(config, where);
}

bool uses_room_free_rows(const TrainConfig& config) {
  return config.consistency_weight > 0.0 || config.distill_room_free;
}

void check_folds(const TrainConfig& config, const std::string& where) {
  const std::pair<const char*, const std::vector<int>*> sets[] = {
      {"train_folds", &config.train_folds}, {"val_folds", &config.val_folds}, {"test_folds", &config.test_folds}};
  if (config.train_folds.empty() || config.test_folds.empty()) {
    throw std::invalid_argument(where + ": train_folds and test_folds need at least one fold each");
  }
  for (size_t a = 0; a < 3; ++a) {
    for (size_t b = a + 1; b < 3; ++b) {
      for (int fold : *sets[a].second) {
        if (std::find(sets[b].second->begin(), sets[b].second->end(), fold) != sets[b].second->end()) {
          throw std::invalid_argument(where + ": fold " + std::to_string(fold) + " is in both " + sets[a].first +
                                      " and " + sets[b].first + " (expected disjoint folds; --refit trains on the "
                                      "validation folds without validating)");
        }
      }
    }
  }
}

void merge_validation_into_training(TrainConfig& config) {
  config.train_folds.insert(config.train_folds.end(), config.val_folds.begin(), config.val_folds.end());
  std::sort(config.train_folds.begin(), config.train_folds.end());
  config.train_folds.erase(std::unique(config.train_folds.begin(), config.train_folds.end()), config.train_folds.end());
  config.val_folds.clear();
}

size_t crop_samples(const TrainConfig& config, int sample_rate) {
  return static_cast<size_t>(std::llround(config.crop_seconds * sample_rate));
}

nlohmann::json TrainConfig::to_json() const {
  const AugmentConfig& a = augment;
  nlohmann::json out = {{"epochs", epochs}, {"batch_size", batch_size}, {"lr", lr}, {"min_lr", min_lr},
          {"warmup_epochs", warmup_epochs}, {"weight_decay", weight_decay}, {"ssm_lr", ssm_lr},
          {"grad_clip", grad_clip}, {"label_smoothing", label_smoothing}, {"ema_decay", ema_decay},
          {"eval_every", eval_every}, {"seed", seed}, {"threads", threads}, {"train_folds", train_folds},
          {"val_folds", val_folds}, {"test_folds", test_folds}, {"shift_prob", a.shift_prob},
          {"max_shift", a.max_shift}, {"noise_prob", a.noise_prob}, {"noise_std", a.noise_std},
          {"gain_prob", a.gain_prob}, {"gain_min", a.gain_min}, {"gain_max", a.gain_max},
          {"freq_shift_prob", a.freq_shift_prob}, {"freq_shift_max", a.freq_shift_max},
          {"time_mask_prob", a.time_mask_prob}, {"time_mask_max", a.time_mask_max},
          {"freq_mask_prob", a.freq_mask_prob}, {"freq_mask_max", a.freq_mask_max},
          {"mix_prob", a.mix_prob}, {"mix_alpha", a.mix_alpha}, {"teachers", teachers},
          {"distill_weight", distill_weight}, {"distill_temperature", distill_temperature}};
  // The room keys came after the first shipped recipes: they appear only in recipes that use them,
  // so that the identity of a run started before them (resume.state) still matches.
  const bool room = background_fraction > 0.0 || a.reverb_prob > 0.0 || a.room_noise_prob > 0.0 ||
                    a.mic_prob > 0.0 || a.gain_db_prob > 0.0 || a.clip_prob > 0.0;
  if (room) {
    out.update({{"reverb_prob", a.reverb_prob}, {"rt60_min", a.rt60_min}, {"rt60_max", a.rt60_max},
                {"drr_db_min", a.drr_db_min}, {"drr_db_max", a.drr_db_max}, {"room_noise_prob", a.room_noise_prob},
                {"snr_db_min", a.snr_db_min}, {"snr_db_max", a.snr_db_max}, {"mic_prob", a.mic_prob},
                {"mic_eq_db", a.mic_eq_db}, {"lowpass_min_hz", a.lowpass_min_hz},
                {"highpass_max_hz", a.highpass_max_hz}, {"gain_db_prob", a.gain_db_prob},
                {"gain_db_min", a.gain_db_min}, {"gain_db_max", a.gain_db_max}, {"clip_prob", a.clip_prob},
                {"clip_level_min", a.clip_level_min}, {"clip_level_max", a.clip_level_max},
                {"background_dbfs_min", a.background_dbfs_min}, {"background_dbfs_max", a.background_dbfs_max},
                {"background_fraction", background_fraction}});
  }
  if (freeze_backbone) out["freeze_backbone"] = true;  // likewise: only in runs that use it
  if (crop_seconds > 0.0) out["crop_seconds"] = crop_seconds;
  if (a.stretch_prob > 0.0) {
    out.update({{"stretch_prob", a.stretch_prob}, {"stretch_min", a.stretch_min}, {"stretch_max", a.stretch_max}});
  }
  if (a.mix_between_classes) out["mix_between_classes"] = true;
  if (consistency_weight > 0.0) out["consistency_weight"] = consistency_weight;
  if (distill_room_free) out["distill_room_free"] = true;
  if (a.room_noise_colours != AugmentConfig{}.room_noise_colours) {
    nlohmann::json& names = out["room_noise_colours"] = nlohmann::json::array();
    for (NoiseColour colour : a.room_noise_colours) names.push_back(noise_colour_name(colour));
  }
  if (a.background_hvac_depth_max != AugmentConfig{}.background_hvac_depth_max) {
    out["background_hvac_depth_max"] = a.background_hvac_depth_max;
  }
  return out;
}

}  // namespace escd::train
