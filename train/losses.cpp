#include "losses.h"

#include <ATen/Functions.h>

namespace escd::train {

at::Tensor soft_cross_entropy(const at::Tensor& logits, const at::Tensor& targets) {
  return -(targets * at::log_softmax(logits, 1)).sum(1).mean();
}

at::Tensor label_loss(const at::Tensor& logits, const at::Tensor& targets, double smoothing) {
  const double classes = static_cast<double>(logits.size(1));
  return soft_cross_entropy(logits, targets * (1.0 - smoothing) + smoothing / classes);
}

at::Tensor distillation_loss(const at::Tensor& student_logits, const at::Tensor& teacher_probabilities,
                             double temperature) {
  return soft_cross_entropy(student_logits / temperature, teacher_probabilities) * (temperature * temperature);
}

}  // namespace escd::train
