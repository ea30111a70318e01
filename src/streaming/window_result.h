// One prediction of a 5-second window, as the schedulers produce it.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace escd {

struct WindowResult {
  at::Tensor logits;         // [n_classes]
  int64_t end_frame = 0;     // frames consumed when the window closed (its last frame is end_frame - 1)
  int64_t frames = 0;        // frames in the window: the full window, or fewer while warming up
  bool warming_up = false;   // fewer frames than a full window have been heard since the start
};

}  // namespace escd
