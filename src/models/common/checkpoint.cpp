#include "models/common/checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <sstream>

#include "models/common/registry.h"
#include "util/atomic_file.h"

namespace escd {
namespace {

constexpr const char* kFormat = "escd-checkpoint";
constexpr int kVersion = 1;
constexpr const char* kMetaKey = "escd_meta";

}  // namespace

nlohmann::json front_end_to_json(const FrontEndConfig& c) {
  return {{"sample_rate", c.sample_rate}, {"n_fft", c.n_fft}, {"hop", c.hop}, {"n_mels", c.n_mels},
          {"f_min", c.f_min}, {"f_max", c.f_max}, {"log_offset", c.log_offset}, {"mel_scale", "htk"},
          {"window", "hann_periodic"}, {"center", false}};
}

FrontEndConfig front_end_from_json(const nlohmann::json& j) {
  FrontEndConfig c;
  c.sample_rate = j.at("sample_rate").get<int>();
  c.n_fft = j.at("n_fft").get<int>();
  c.hop = j.at("hop").get<int>();
  c.n_mels = j.at("n_mels").get<int>();
  c.f_min = j.at("f_min").get<float>();
  c.f_max = j.at("f_max").get<float>();
  c.log_offset = j.at("log_offset").get<float>();
  return c;
}

void save_checkpoint(const std::string& path, SequenceClassifier& model, const FrontEndConfig& front_end,
                     const std::vector<std::string>& class_names, const nlohmann::json& training) {
  const nlohmann::json meta = {{"format", kFormat},
                               {"version", kVersion},
                               {"architecture", model.architecture()},
                               {"hyperparameters", model.hyperparameters()},
                               {"n_mels", model.n_mels()},
                               {"n_classes", model.n_classes()},
                               {"front_end", front_end_to_json(front_end)},
                               {"class_names", class_names},
                               {"training", training}};
  torch::serialize::OutputArchive archive;
  archive.write(kMetaKey, c10::IValue(meta.dump()));
  for (const auto& p : model.named_parameters()) archive.write("p." + p.key(), p.value().detach());
  for (const auto& b : model.named_buffers()) archive.write("b." + b.key(), b.value(), /*is_buffer=*/true);
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

Checkpoint load_checkpoint(const std::string& path, const std::string& expected_architecture) {
  if (!std::filesystem::exists(path)) throw CheckpointError(path + ": no such checkpoint file");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw CheckpointError(path + ": not a readable escd checkpoint (truncated or another format): " +
                          what.substr(0, what.find('\n')));
  }
  c10::IValue meta_value;
  if (!archive.try_read(kMetaKey, meta_value) || !meta_value.isString()) {
    throw CheckpointError(path + ": no escd metadata record (not an escd checkpoint)");
  }
  Checkpoint ckpt;
  try {
    ckpt.meta = nlohmann::json::parse(meta_value.toStringRef());
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": metadata is not valid JSON: " + e.what());
  }
  const auto& meta = ckpt.meta;
  if (meta.value("format", "") != kFormat) throw CheckpointError(path + ": metadata 'format' is not " + kFormat);
  if (meta.value("version", 0) != kVersion) {
    throw CheckpointError(path + ": checkpoint format version " + meta.value("version", nlohmann::json()).dump() +
                          ", this build reads version " + std::to_string(kVersion));
  }
  const std::string architecture = meta.value("architecture", "");
  if (!expected_architecture.empty() && architecture != expected_architecture) {
    throw CheckpointError(path + ": is a '" + architecture + "' checkpoint, expected '" + expected_architecture + "'");
  }
  try {
    ckpt.front_end = front_end_from_json(meta.at("front_end"));
    ckpt.class_names = meta.at("class_names").get<std::vector<std::string>>();
    ckpt.training = meta.value("training", nlohmann::json::object());
    ckpt.model = create_model(architecture, meta.at("hyperparameters"), meta.at("n_mels").get<int64_t>(),
                              meta.at("n_classes").get<int64_t>());
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": bad metadata: " + e.what());
  }

  torch::NoGradGuard no_grad;
  std::vector<std::string> missing;
  auto load_into = [&](const std::string& key, at::Tensor& dest, bool is_buffer) {
    at::Tensor stored;
    if (!archive.try_read(key, stored, is_buffer)) {
      missing.push_back(key.substr(2));
      return;
    }
    if (stored.sizes() != dest.sizes()) {
      throw CheckpointError(path + ": tensor '" + key.substr(2) + "' has shape " + c10::str(stored.sizes()) +
                            ", the model expects " + c10::str(dest.sizes()));
    }
    dest.copy_(stored);
  };
  for (auto& p : ckpt.model->named_parameters()) load_into("p." + p.key(), p.value(), false);
  for (auto& b : ckpt.model->named_buffers()) load_into("b." + b.key(), b.value(), true);
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < std::min<size_t>(missing.size(), 5); ++i) list += " " + missing[i];
    throw CheckpointError(path + ": " + std::to_string(missing.size()) + " tensor(s) missing, e.g." + list);
  }
  ckpt.model->eval();
  return ckpt;
}

}  // namespace escd
