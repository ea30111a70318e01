// NumPy .npy files (format 1.0, little-endian float32, C order): the exchange format for features
// and test fixtures, readable by numpy.load.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace escd {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// Atomic write (see util/atomic_file.h).
void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape);

// Reads a float32 ('<f4') C-order array; throws std::runtime_error naming the file and the problem.
NpyArray read_npy(const std::string& path);

}  // namespace escd
