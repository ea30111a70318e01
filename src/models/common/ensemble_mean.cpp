#include "models/common/ensemble_mean.h"

#include <stdexcept>

#include "models/common/label_set.h"

namespace escd {

EnsembleMean::EnsembleMean(std::vector<std::string> labels)
    : labels_(std::move(labels)), has_background_(background_index(labels_).has_value()) {
  clear();
}

void EnsembleMean::clear() {
  sound_sum_.assign(labels_.size() - (has_background_ ? 1 : 0), 0.0);
  background_sum_ = sound_share_sum_ = 0;
  members_ = background_members_ = 0;
}

void EnsembleMean::add(const std::vector<float>& probabilities, const std::vector<std::string>& member_labels) {
  if (probabilities.size() != member_labels.size()) {
    throw std::invalid_argument("ensemble: " + std::to_string(probabilities.size()) + " probabilities for " +
                                std::to_string(member_labels.size()) + " classes");
  }
  const bool member_background = background_index(member_labels).has_value();
  const size_t sounds = probabilities.size() - (member_background ? 1 : 0);
  if (sounds != sound_sum_.size() || (member_background && !has_background_)) {
    throw std::invalid_argument("ensemble: a member with " + std::to_string(member_labels.size()) +
                                " classes in an ensemble of " + std::to_string(labels_.size()));
  }
  double sound_total = 1.0;
  if (member_background) {
    sound_total = 0;
    for (size_t c = 0; c < sounds; ++c) sound_total += probabilities[c];
    background_sum_ += probabilities[sounds];
    sound_share_sum_ += sound_total;
    ++background_members_;
  }
  // A member certain of background says nothing about which sound: it adds an even spread.
  for (size_t c = 0; c < sounds; ++c) {
    sound_sum_[c] += sound_total > 0 ? probabilities[c] / sound_total : 1.0 / static_cast<double>(sounds);
  }
  ++members_;
}

std::vector<float> EnsembleMean::mean() const {
  if (members_ == 0) throw std::logic_error("ensemble: no member added");
  const auto background_members = static_cast<double>(background_members_);
  const double background = background_members_ > 0 ? background_sum_ / background_members : 0.0;
  const double sound_share = background_members_ > 0 ? sound_share_sum_ / background_members : 1.0;
  std::vector<float> out(labels_.size(), 0.0f);
  for (size_t c = 0; c < sound_sum_.size(); ++c) {
    out[c] = static_cast<float>(sound_share * sound_sum_[c] / static_cast<double>(members_));
  }
  if (has_background_) out.back() = static_cast<float>(background);
  return out;
}

}  // namespace escd
