#include "models/common/ensemble_mean.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "models/common/label_set.h"

namespace escd {
namespace {

double clamped_log(double p) { return std::log(std::max(p, static_cast<double>(std::numeric_limits<float>::min()))); }

}  // namespace

EnsembleMean::EnsembleMean(std::vector<std::string> labels)
    : labels_(std::move(labels)), has_background_(background_index(labels_).has_value()) {
  clear();
}

void EnsembleMean::clear() {
  sound_log_sum_.assign(labels_.size() - (has_background_ ? 1 : 0), 0.0);
  background_log_sum_ = sound_total_log_sum_ = 0;
  members_ = background_members_ = 0;
}

void EnsembleMean::add(const std::vector<float>& probabilities, const std::vector<std::string>& member_labels) {
  if (probabilities.size() != member_labels.size()) {
    throw std::invalid_argument("ensemble: " + std::to_string(probabilities.size()) + " probabilities for " +
                                std::to_string(member_labels.size()) + " classes");
  }
  const bool member_background = background_index(member_labels).has_value();
  const size_t sounds = probabilities.size() - (member_background ? 1 : 0);
  if (sounds != sound_log_sum_.size() || (member_background && !has_background_)) {
    throw std::invalid_argument("ensemble: a member with " + std::to_string(member_labels.size()) +
                                " classes in an ensemble of " + std::to_string(labels_.size()));
  }
  // Summed in double, so that a background probability rounded to 1 in float still leaves the sounds
  // their tiny share.
  double sound_total = 1.0;
  if (member_background) {
    sound_total = 0;
    for (size_t c = 0; c < sounds; ++c) sound_total += probabilities[c];
    background_log_sum_ += clamped_log(probabilities[sounds]);
    sound_total_log_sum_ += clamped_log(sound_total);
    ++background_members_;
  }
  // A member certain of background says nothing about which sound: it adds an even spread.
  const double log_total = clamped_log(sound_total);
  for (size_t c = 0; c < sounds; ++c) {
    sound_log_sum_[c] += sound_total > 0 ? clamped_log(probabilities[c]) - log_total
                                         : -std::log(static_cast<double>(sounds));
  }
  ++members_;
}

std::vector<float> EnsembleMean::mean() const {
  if (members_ == 0) throw std::logic_error("ensemble: no member added");
  // Q(c) divided by the largest Q, so that the exponentials cannot all underflow: from log Q(c) first.
  std::vector<double> shifted_q(sound_log_sum_.size());
  for (size_t c = 0; c < shifted_q.size(); ++c) shifted_q[c] = sound_log_sum_[c] / static_cast<double>(members_);
  const double shift = *std::max_element(shifted_q.begin(), shifted_q.end());
  double shifted_z = 0;
  for (double& q : shifted_q) shifted_z += (q = std::exp(q - shift));

  std::vector<float> out(labels_.size(), 0.0f);
  double sound_share = 1.0;  // S * sum Q / (Bg + S * sum Q)
  if (background_members_ > 0) {
    const auto n = static_cast<double>(background_members_);
    const double log_sounds = sound_total_log_sum_ / n + shift + std::log(shifted_z);
    const double log_background = background_log_sum_ / n;
    // Both shares from their log-odds, so that neither is computed as 1 minus a number rounded to 1.
    sound_share = 1.0 / (1.0 + std::exp(log_background - log_sounds));
    out.back() = static_cast<float>(1.0 / (1.0 + std::exp(log_sounds - log_background)));
  }
  for (size_t c = 0; c < shifted_q.size(); ++c) out[c] = static_cast<float>(sound_share * shifted_q[c] / shifted_z);
  return out;
}

}  // namespace escd
