// V-JEPA2 on escd's recomputed windows, with each frame's MelConv features re-used from earlier
// windows where they are the same.
// A frame's features depend on the normalised frames of its MelConv time context (itself and the
// layers · (k - 1) frames before it) and on whether that context reaches back before the window's
// first frame, where the forward on the window alone sees zeros. The window enters the normalised
// frames only through their level reference (models/common/window_level.h: the running peak since
// the window's first frame). So a frame keeps the features an earlier window computed when its
// context holds the same references and lies in the window in the same way; the reference being a
// running peak, that is the rule once a window's peak is in the part it shares with the window
// before. What differs is recomputed by the parallel MelConv on the frames from the start of its
// context, the numbers forward() computes up to rounding; the encoder runs on every window.
// Why: on ESC-50 audio at escd's hop a window computes about 45 of its 152 frames' features, which
// took a tenth off V-JEPA2's CPU per frame (bench_windows); the encoder's 152 tokens, new positions
// every window, are the rest and cannot be re-used.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "models/common/sequence_classifier.h"

namespace escd::vjepa2 {

class Vjepa2Classifier;

class Vjepa2SlidingWindows : public SlidingWindowForward {
 public:
  // The model needs a MelConv (without one a frame's features are its normalised frame).
  explicit Vjepa2SlidingWindows(Vjepa2Classifier& model);

  at::Tensor logits(const at::Tensor& frames, int64_t first_frame) override;

  // How many of the last window's frames had their features computed (the rest were re-used).
  int64_t last_computed_frames() const { return last_computed_; }

 private:
  struct Features {
    std::vector<float> key;     // the level references of the frame's context, oldest first (+inf: before the window)
    std::vector<float> values;  // frame_features() of the frame
  };
  // The context's references of frame i of a window whose references are `reference` [T].
  std::vector<float> key_of(const float* reference, int64_t i) const;

  Vjepa2Classifier& model_;
  int64_t context_;  // frames before a frame that its features depend on
  std::unordered_map<int64_t, Features> cache_;  // by stream frame index
  int64_t last_computed_ = 0;
};

}  // namespace escd::vjepa2
