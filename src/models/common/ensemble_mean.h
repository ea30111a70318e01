// How an ensemble combines its members' class probabilities for one window or clip: escd --ensemble
// and esc-train eval with several checkpoints use this one rule.
//
// The rule is the geometric mean of the members' probabilities, renormalised: the mean of their
// log-probabilities. A class stays likely only if no member finds it unlikely. On fold 4 it was right
// on more clips than the mean of probabilities, clean and under every room condition
// (train/experiments/crops/DECISION-16.txt). For members with the same classes it equals the softmax
// of the mean of their logits, so a more confident member weighs more.
//
// The background output ("nothing here", label_set.h) is judged apart: a member without it has no
// opinion on whether a sound is present, only on which sound it would be. So each member's output is
// split into p(background) and the sounds' total (the background members only) and p(class | a sound)
// (every member; one without background: p(class) itself). Geometric means of each, Bg, S and Q(c),
// combine as
//   background = Bg / (Bg + S * sum Q),   class c = S * Q(c) / (Bg + S * sum Q),
// which for members that all have background is the plain geometric mean over all their outputs.
// Probabilities are clamped to the smallest normal float before the log, so one member's 0 is a very
// strong vote against a class rather than a veto that could leave nothing to normalise.
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
  std::vector<double> sound_log_sum_;  // sum over members of log p(class | a sound), the sound classes only
  double background_log_sum_ = 0;      // sums over the background members of log p(background)
  double sound_total_log_sum_ = 0;     // and of log (their sound classes' total)
  size_t members_ = 0, background_members_ = 0;
};

}  // namespace escd
