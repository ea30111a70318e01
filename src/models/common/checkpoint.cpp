#include "models/common/checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <sstream>

#include "models/common/json_fields.h"
#include "models/common/model_limits.h"
#include "models/common/archive_vetting.h"
#include "models/common/registry.h"
#include "util/atomic_file.h"

namespace escd {
namespace {

constexpr const char* kFormat = "escd-checkpoint";
constexpr int kVersion = 1;
constexpr const char* kMetaKey = "escd_meta";
// Far beyond any real front end or label set; a file asking for more is corrupt, not ambitious.
constexpr int64_t kMaxMels = 1024;
constexpr int64_t kMaxClasses = 100000;
// kMaxModelParameters float32 parameters plus room for the container and metadata.
constexpr uintmax_t kMaxCheckpointBytes = uintmax_t(kMaxModelParameters) * 4 + (64u << 20);

}  // namespace

nlohmann::json front_end_to_json(const FrontEndConfig& c) {
  return {{"sample_rate", c.sample_rate}, {"n_fft", c.n_fft}, {"hop", c.hop}, {"n_mels", c.n_mels},
          {"f_min", c.f_min}, {"f_max", c.f_max}, {"log_offset", c.log_offset}, {"mel_scale", "htk"},
          {"window", "hann_periodic"}, {"center", false}};
}

namespace {

// Checkpoints are written with every hyperparameter, so a key they lack did not exist when they
// were written. Every model defaults to a MelConv front end now; a checkpoint from before it
// existed reads raw log-mel, which is mel_conv_channels 0; one from before MelConv time kernels
// existed sees one frame per layer, which is mel_conv_time_kernel 1, whatever the default becomes.
nlohmann::json with_pre_mel_conv_defaults(nlohmann::json hyperparameters) {
  if (hyperparameters.is_object()) {
    if (!hyperparameters.contains("mel_conv_channels")) hyperparameters["mel_conv_channels"] = 0;
    if (!hyperparameters.contains("mel_conv_time_kernel")) hyperparameters["mel_conv_time_kernel"] = 1;
  }
  return hyperparameters;
}

}  // namespace

FrontEndConfig front_end_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("front_end: expected an object, got " + j.dump());
  FrontEndConfig c;
  c.sample_rate = static_cast<int>(integer_field(j, "sample_rate", 1000, 384000));
  c.n_fft = static_cast<int>(integer_field(j, "n_fft", 16, 65536));
  c.hop = static_cast<int>(integer_field(j, "hop", 1, c.n_fft));
  c.n_mels = static_cast<int>(integer_field(j, "n_mels", 1, kMaxMels));
  c.f_min = static_cast<float>(number_field(j, "f_min", 0.0, c.sample_rate / 2.0));
  c.f_max = static_cast<float>(number_field(j, "f_max", c.f_min, c.sample_rate / 2.0));
  c.log_offset = static_cast<float>(number_field(j, "log_offset", 1e-30, 1.0));
  if (!(c.f_max > c.f_min)) throw std::invalid_argument("front_end: expected f_min < f_max");
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

Checkpoint checkpoint_from_meta(const std::string& meta_text, const std::string& path,
                                const std::string& expected_architecture) {
  Checkpoint ckpt;
  try {
    ckpt.meta = nlohmann::json::parse(meta_text);
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": metadata is not valid JSON: " + e.what());
  }
  const auto& meta = ckpt.meta;
  if (!meta.is_object()) throw CheckpointError(path + ": metadata is not a JSON object");
  auto text = [&meta](const char* key) {
    const auto it = meta.find(key);
    return it != meta.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (text("format") != kFormat) throw CheckpointError(path + ": metadata 'format' is not " + kFormat);
  const auto version = meta.find("version");
  if (version == meta.end() || !version->is_number_integer() || version->get<int64_t>() != kVersion) {
    throw CheckpointError(path + ": checkpoint format version " + (version == meta.end() ? "(none)" : version->dump()) +
                          ", this build reads version " + std::to_string(kVersion));
  }
  const std::string architecture = text("architecture");
  if (!expected_architecture.empty() && architecture != expected_architecture) {
    throw CheckpointError(path + ": is a '" + architecture + "' checkpoint, expected '" + expected_architecture + "'");
  }
  try {
    ckpt.front_end = front_end_from_json(meta.at("front_end"));
    const int64_t n_mels = integer_field(meta, "n_mels", 1, kMaxMels);
    const int64_t n_classes = integer_field(meta, "n_classes", 1, kMaxClasses);
    if (n_mels != ckpt.front_end.n_mels) {
      throw std::invalid_argument("the model takes " + std::to_string(n_mels) + " mel bands, its front end makes " +
                                  std::to_string(ckpt.front_end.n_mels));
    }
    ckpt.class_names = meta.at("class_names").get<std::vector<std::string>>();
    if (ckpt.class_names.size() != static_cast<size_t>(n_classes)) {
      throw std::invalid_argument(std::to_string(ckpt.class_names.size()) + " class names for " +
                                  std::to_string(n_classes) + " classes");
    }
    ckpt.training = meta.value("training", nlohmann::json::object());
    ckpt.model = create_model(architecture, with_pre_mel_conv_defaults(meta.at("hyperparameters")),
                              n_mels, n_classes);
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": bad metadata: " + e.what());
  }
  return ckpt;
}

namespace {

// The whole file, read once: the pickles are vetted on these bytes and libtorch parses the same
// bytes, so nothing can change between the check and the use.
std::string read_checkpoint_bytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw CheckpointError(path + (std::filesystem::exists(path, ec) ? ": not a regular file" : ": no such checkpoint file"));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw CheckpointError(path + ": cannot read its size: " + ec.message());
  if (size > kMaxCheckpointBytes) {
    throw CheckpointError(path + ": " + std::to_string(size) + " bytes; checkpoints of at most " +
                          std::to_string(kMaxCheckpointBytes) + " bytes are accepted");
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes(size, '\0');
  if (!in || !in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    throw CheckpointError(path + ": cannot read the file");
  }
  return bytes;
}

// libtorch's unpickler gives a stored tensor the offset and strides its pickle says without
// checking them against the storage (the vetting has checked the storage against its record), so
// copying from it could read anywhere. Only what save_checkpoint writes is accepted: the model's
// type, contiguous, inside its storage. Returns why not, or "".
std::string stored_layout_problem(const at::Tensor& stored, const at::Tensor& dest) {
  if (stored.scalar_type() != dest.scalar_type()) {
    return std::string("is stored as ") + c10::toString(stored.scalar_type()) + ", the model expects " +
           c10::toString(dest.scalar_type());
  }
  const uint64_t element = stored.element_size(), capacity = stored.storage().nbytes() / element;
  const int64_t offset = stored.storage_offset(), count = stored.numel();
  if (!stored.is_contiguous() || offset < 0 || uint64_t(offset) > capacity || uint64_t(count) > capacity - uint64_t(offset) ||
      (count > 0 && stored.storage().data() == nullptr)) {
    return "lies outside its storage (offset " + std::to_string(offset) + ", strides " + c10::str(stored.strides()) +
           ", " + std::to_string(capacity) + " element(s) stored)";
  }
  return "";
}

}  // namespace

Checkpoint load_checkpoint(const std::string& path, const std::string& expected_architecture) {
  const std::string bytes = read_checkpoint_bytes(path);
  try {
    vet_checkpoint_archive(bytes, path);
  } catch (const PickleError& e) {
    throw CheckpointError(std::string("not a readable escd checkpoint (corrupt): ") + e.what());
  }
  torch::serialize::InputArchive archive;
  try {
    // Straight from the bytes already read and vetted: no second copy of the file.
    archive.load_from([&bytes](uint64_t pos, void* buf, size_t n) { return read_archive_bytes(bytes, pos, buf, n); },
                      [&bytes] { return bytes.size(); });
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw CheckpointError(path + ": not a readable escd checkpoint (truncated or another format): " +
                          what.substr(0, what.find('\n')));
  }
  c10::IValue meta_value;
  if (!archive.try_read(kMetaKey, meta_value) || !meta_value.isString()) {
    throw CheckpointError(path + ": no escd metadata record (not an escd checkpoint)");
  }
  Checkpoint ckpt = checkpoint_from_meta(meta_value.toStringRef(), path, expected_architecture);

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
    const std::string problem = stored_layout_problem(stored, dest);
    if (!problem.empty()) throw CheckpointError(path + ": tensor '" + key.substr(2) + "' " + problem);
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
