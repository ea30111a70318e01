// How many threads the numeric libraries may use, set in one place.
#pragma once

namespace escd {

// Sets libtorch's intra-op threads and the BLAS library's own thread pool to n. Debian's libtorch
// calls OpenBLAS through the generic BLAS interface; OpenBLAS then keeps its own pool of one thread
// per core that spins between calls, which at::set_num_threads does not reach (escd then used a
// whole core while idle). Logs the thread count and which OpenBLAS kernel runs.
void set_compute_threads(int n);

}  // namespace escd
