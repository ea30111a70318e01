// How an ensemble combines its members' class probabilities for one window or clip: escd --ensemble
// and esc-train eval with several checkpoints use this one rule.
//
// Probabilities are averaged rather than logits, so that a member with larger logits does not outvote
// the others by scale alone. The background output ("nothing here", label_set.h) is the exception: a
// member without it has no opinion on whether a sound is present, only on which sound it would be. So
// the ensemble's background probability b is the mean over the members that have the output, and each
// sound class gets (1 - b) times the mean over all members of the class's probability given that a
// sound is present (a member with a background output: p(c) / (1 - p(background)); one without: p(c)).
// (1 - b) is taken as the background members' mean total of their sound classes, summed in double,
// so that a background probability rounded to 1 in float still leaves the sounds their tiny share.
// With no background output anywhere this is the plain mean of the members' probabilities.
#pragma once

#include <string>
#include <vector>

namespace escd {

class EnsembleMean {
 public:
  // labels: the ensemble's classes (ensemble_labels() of the members').
  explicit EnsembleMean(std::vector<std::string> labels);

  // Forgets the members added so far (the next window or clip).
  void clear();
  // One member's probabilities over its own classes, `member_labels` (equal to the ensemble's, or
  // without the background output). Throws std::invalid_argument on a size mismatch.
  void add(const std::vector<float>& probabilities, const std::vector<std::string>& member_labels);
  size_t members() const { return members_; }
  // The combined probabilities over the ensemble's classes. Needs at least one member.
  std::vector<float> mean() const;

 private:
  std::vector<std::string> labels_;
  bool has_background_;
  std::vector<double> sound_sum_;  // sum over members of p(class | a sound), the sound classes only
  double background_sum_ = 0;
  double sound_share_sum_ = 0;     // sum over background members of their sound classes' total
  size_t members_ = 0, background_members_ = 0;
};

}  // namespace escd
