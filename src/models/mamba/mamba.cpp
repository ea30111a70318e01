// Placeholder: the Mamba classifier is being written (see mamba.h).
#include "models/mamba/mamba.h"

#include <stdexcept>

namespace escd {

nlohmann::json mamba_defaults() { return nlohmann::json::object(); }

std::shared_ptr<SequenceClassifier> make_mamba(const nlohmann::json&, int64_t, int64_t) {
  throw std::logic_error("mamba: not implemented yet");
}

}  // namespace escd
