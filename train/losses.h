// The training losses. All are a cross-entropy against a target distribution, not class indices,
// because mixing makes every label a blend of two classes and teachers give a full distribution.
#pragma once

#include <ATen/core/Tensor.h>

namespace escd::train {

// Mean over the batch of -sum_c targets[b, c] * log softmax(logits)[b, c]; both [B, classes].
at::Tensor soft_cross_entropy(const at::Tensor& logits, const at::Tensor& targets);

// Against the (mixed) label distribution, smoothed towards uniform by `smoothing`.
at::Tensor label_loss(const at::Tensor& logits, const at::Tensor& targets, double smoothing);

// Against the teachers' probabilities at the same temperature, times temperature², which keeps its
// gradient on the same scale as the label loss's whatever the temperature (Hinton et al., 2015). It
// differs from the KL divergence by the teachers' entropy, a constant to the student.
at::Tensor distillation_loss(const at::Tensor& student_logits, const at::Tensor& teacher_probabilities,
                             double temperature);

}  // namespace escd::train
