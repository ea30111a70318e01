// Tensor view of the batch front end, for training and evaluation code.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "features/front_end_config.h"

namespace escd {

// [T, n_mels] float32 log-mel of a mono signal at config.sample_rate.
at::Tensor log_mel_tensor(const std::vector<float>& samples, const FrontEndConfig& config = {});

}  // namespace escd
