// Between-class mixing (Tokozume, Ushiku and Harada, "Learning from between-class examples for deep
// sound recognition", ICLR 2018): two clips of different classes mixed so that the label ratio r is
// what a listener hears. Plain mixup adds the waveforms with the label weights, so a loud clip
// drowns a quiet one whatever r says; here each clip's weight accounts for its peak level, and the
// mixture is rescaled to keep its power.
#pragma once

#include <cstddef>
#include <vector>

namespace escd {

// The level of the loudest frame of `x` (frames of `frame` samples, half-overlapping) in dBFS, as
// rms_dbfs measures it; silence is floored at -100 dB.
double peak_frame_level_db(const std::vector<float>& x, size_t frame = 1024);

// The weight p of the first clip for a label ratio r: p / (1 - p) = r / (1 - r) x 10^((g_b - g_a) / 20),
// g the clips' peak frame levels. Equal levels give p = r.
double between_class_weight(double r, double level_a_db, double level_b_db);

// a <- (p a + (1 - p) b) / sqrt(p^2 + (1 - p)^2), p from between_class_weight; b is as long as a
// (a shorter b is treated as zero-padded). r in [0, 1].
void mix_between_classes(std::vector<float>& a, const std::vector<float>& b, double r);

}  // namespace escd
