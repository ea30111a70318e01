// Random training crops: each training step sees a shorter piece of every clip, so an epoch costs a
// fraction of an epoch over whole clips and a CPU-hour buys more epochs (the strong from-scratch
// ESC-50 recipes train on 1.5-2.5 s crops). Validation, evaluation and escd always see whole
// 5-second windows; the models pool over time, so a model trained on crops classifies windows.
#pragma once

#include <cstddef>
#include <vector>

#include "data/augment.h"

namespace escd {

// A crop only starts where it holds at least this fraction of the energy of the clip's loudest
// crop (6 dB under it): a short sound in a long silence is then always inside its crop, whose label
// would otherwise name a sound that is not there.
constexpr double kCropEnergyFraction = 0.25;

// The start of a crop of `length` samples of `signal`: uniform among the starts on a grid of
// `stride` samples whose crop holds at least `min_energy_fraction` of the loudest crop's energy.
// A signal of at most `length` samples starts at 0; a silent one anywhere on the grid.
size_t choose_crop_start(const std::vector<float>& signal, size_t length, size_t stride,
                         double min_energy_fraction, Rng& rng);

// `length` samples of `signal` from choose_crop_start (stride `stride`, kCropEnergyFraction),
// zero-padded at the end if the signal is shorter.
std::vector<float> take_training_crop(const std::vector<float>& signal, size_t length, size_t stride, Rng& rng);

}  // namespace escd
