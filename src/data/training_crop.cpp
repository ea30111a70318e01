#include "data/training_crop.h"

#include <algorithm>
#include <random>
#include <stdexcept>

namespace escd {

size_t choose_crop_start(const std::vector<float>& signal, size_t length, size_t stride,
                         double min_energy_fraction, Rng& rng) {
  if (length == 0 || stride == 0) throw std::invalid_argument("a training crop needs a length and a stride of at least 1 sample");
  if (signal.size() <= length) return 0;
  std::vector<double> energy_before(signal.size() + 1, 0.0);  // prefix sums of squares
  for (size_t i = 0; i < signal.size(); ++i) {
    energy_before[i + 1] = energy_before[i] + static_cast<double>(signal[i]) * signal[i];
  }
  // The energy of the crop starting at k x stride, for every start on the grid.
  std::vector<double> energies;
  for (size_t start = 0; start + length <= signal.size(); start += stride) {
    energies.push_back(energy_before[start + length] - energy_before[start]);
  }
  const double loudest = *std::max_element(energies.begin(), energies.end());
  std::vector<size_t> eligible;
  for (size_t k = 0; k < energies.size(); ++k) {
    if (energies[k] >= min_energy_fraction * loudest) eligible.push_back(k * stride);
  }
  return eligible[std::uniform_int_distribution<size_t>(0, eligible.size() - 1)(rng)];
}

std::vector<float> take_training_crop(const std::vector<float>& signal, size_t length, size_t stride, Rng& rng) {
  const size_t start = choose_crop_start(signal, length, stride, kCropEnergyFraction, rng);
  std::vector<float> crop(length, 0.0f);
  const size_t n = std::min(length, signal.size() - start);
  std::copy_n(signal.begin() + static_cast<std::ptrdiff_t>(start), n, crop.begin());
  return crop;
}

}  // namespace escd
