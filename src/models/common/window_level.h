// Level normalisation that makes a model's input independent of the microphone's gain, and that
// streams exactly. A gain g adds 2 ln g to every log-mel value; subtracting a reference level that
// moves by the same amount removes it. The reference is the running maximum of the frame level
// (log of the frame's total mel power) since the window's first frame: causal, so a streaming
// session computes the same values frame by frame as the parallel forward over the whole window,
// and it keeps the window's loudness contour (a bark stays louder than the pause after it).
// Values more than kWindowLevelFloorDb below the reference are raised to that floor, so that digital
// silence and very quiet stretches look the same at every gain. docs/ROOMS.md explains the choice.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace escd {

enum class LevelNorm { none, window_max };

// "none" | "window_max"; anything else throws std::invalid_argument naming the value.
LevelNorm parse_level_norm(const std::string& text);
const char* level_norm_name(LevelNorm norm);

constexpr double kWindowLevelFloorDb = 80.0;

// [B, T, M] raw log-mel -> the same shape relative to each row's running maximum frame level.
at::Tensor relative_to_window_max(const at::Tensor& frames);
// Its two parts: [B, T, M] raw log-mel -> the reference of every frame, [B, T, 1] (the running
// maximum frame level since the first frame); and the frames relative to a reference, floored.
at::Tensor window_reference(const at::Tensor& frames);
at::Tensor relative_to_reference(const at::Tensor& frames, const at::Tensor& reference);

// The streaming form: one running maximum per row, reset with the row's window.
class WindowLevelTracker {
 public:
  explicit WindowLevelTracker(int64_t rows);
  // frames: [rows, n_mels] raw log-mel, row-major; rewritten in place to the relative values.
  void apply(float* frames, int64_t rows, int64_t n_mels);
  // Forgets one row's reference (its window starts again), or every row's when row < 0.
  void clear(int64_t row);

 private:
  std::vector<float> reference_;  // -inf: no frame seen since the reset
};

}  // namespace escd
