// Limits on model sizes that come from files (recipes, checkpoints), checked before anything is
// allocated: a corrupt or hostile file must get a clear error, not exhaust memory or overflow the
// size arithmetic. Far above anything trainable here (the shipped models have 0.26-0.49 M parameters).
#pragma once

#include <cstdint>

namespace escd {

constexpr double kMaxModelParameters = 1e8;  // 400 MB of float32
constexpr int64_t kMaxModelDimension = 1 << 16;  // any single width, state size or depth
constexpr int64_t kMaxMelConvTimeKernel = 9;      // frames per MelConv layer: 3 layers reach 24 frames back
// Arithmetic on the bounds is done in double, so that absurd values cannot overflow it.

}  // namespace escd
