// Natural log of a block of floats, vectorised through glibc's libmvec where the compiler can use it.
// The front end takes the log of 128 mel energies per frame; scalar logf was a quarter of its time.
#pragma once

namespace escd {

// out[i] = log(in[i] + offset) for i < n. in + offset must be positive and finite (mel energies
// plus the log floor are). Accurate to a few ulp of logf; in and out may be the same array.
void log_with_offset(const float* in, float offset, float* out, int n);

}  // namespace escd
