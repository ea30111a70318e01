// Self-describing model checkpoints: one file holding the architecture name and hyperparameters,
// the front-end parameters, the class names, training metadata and every parameter and buffer.
// Loading needs no flags: the file says what to build. Writes are atomic.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "features/front_end_config.h"
#include "models/common/sequence_classifier.h"

namespace escd {

class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Checkpoint {
  std::shared_ptr<SequenceClassifier> model;
  FrontEndConfig front_end;
  std::vector<std::string> class_names;
  nlohmann::json training;  // metrics, data fingerprint, date, git revision... as the trainer wrote them
  nlohmann::json meta;      // the whole metadata record
};

void save_checkpoint(const std::string& path, SequenceClassifier& model, const FrontEndConfig& front_end,
                     const std::vector<std::string>& class_names, const nlohmann::json& training = nlohmann::json::object());

// Throws CheckpointError (naming the file) for a missing, truncated or foreign file, a checkpoint
// of another architecture than `expected_architecture` (when given), or missing/misshapen tensors.
Checkpoint load_checkpoint(const std::string& path, const std::string& expected_architecture = "");

// The first half of loading: parses and checks the metadata record (the JSON text stored in the
// checkpoint) and builds the untrained model it describes. Throws CheckpointError naming `path`.
Checkpoint checkpoint_from_meta(const std::string& meta_text, const std::string& path,
                                const std::string& expected_architecture = "");

nlohmann::json front_end_to_json(const FrontEndConfig& config);
FrontEndConfig front_end_from_json(const nlohmann::json& j);

}  // namespace escd
