// Placeholder: the Liquid-S4 classifier is being written (see liquid_s4.h).
#include "models/liquid_s4/liquid_s4.h"

#include <stdexcept>

namespace escd {

nlohmann::json liquid_s4_defaults() { return nlohmann::json::object(); }

std::shared_ptr<SequenceClassifier> make_liquid_s4(const nlohmann::json&, int64_t, int64_t) {
  throw std::logic_error("liquid_s4: not implemented yet");
}

}  // namespace escd
