#include "models/mamba/selective_scan.h"

#include <ATen/Dispatch.h>
#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "models/common/simd_lanes.h"
#include "util/simd_level.h"

// The loop bodies are written once as templates and instantiated for float as a portable build and
// an AVX2+FMA build (the per-frame step also as an AVX-512 build), one picked at run time by
// util/simd_level.h (the project is compiled for baseline x86-64, and the scan is where vector width
// pays most). The attribute-free templates must inline into the entry points to inherit their
// instruction set, hence always_inline.
#if defined(__GNUC__) && defined(__x86_64__)
#define ESCD_SCAN_INLINE inline __attribute__((always_inline))
#define ESCD_SCAN_HAVE_AVX2 1
#else
#define ESCD_SCAN_INLINE inline
#define ESCD_SCAN_HAVE_AVX2 0
#endif

namespace escd {
namespace {

using mamba_detail::exp_lanes;
using mamba_detail::kLanes;
using mamba_detail::LaneArray;
using mamba_detail::Lanes;
using mamba_detail::load_lanes;
using mamba_detail::sigmoid_lanes;
using mamba_detail::store_lanes;
using mamba_detail::sum_lanes;

template <typename T>
struct ScanInputs {
  int64_t batch, length, channels, state;
  const T* u;      // [batch, length, channels]
  const T* delta;  // [batch, length, channels]
  const T* A;      // [channels, state]
  const T* B;      // [batch, length, state]
  const T* C;      // [batch, length, state]
  const T* D;      // [channels]
  const T* z;      // [batch, length, channels] or null (no gate)
  int64_t blocks() const { return (channels + kLanes - 1) / kLanes; }
};

// One channel block's constants: A as N lane vectors (A_lanes[n][w] = A[e0 + w, n]) and D.
// Lanes past the last channel are zero (u = delta = A = D = 0): their state stays 0 and they add
// nothing to any reduction, so partial blocks need no special case.
template <typename T>
struct BlockConstants {
  explicit BlockConstants(int64_t N) : A(N), D(1) {}
  void load(const ScanInputs<T>& s, int64_t e0, int64_t width) {
    for (int64_t n = 0; n < s.state; ++n) {
      A[n] = Lanes<T>{};
      for (int64_t w = 0; w < width; ++w) A[n][w] = s.A[(e0 + w) * s.state + n];
    }
    D[0] = load_lanes(s.D + e0, width);
  }
  LaneArray<T> A, D;  // D: one lane vector
};

// Runs the recurrence over all time steps for one (batch row, channel block). Writes the gated
// output to `out` when given; the backward pass instead asks for the ungated y (`y_pre`, [length])
// and every state (`states`, [length][state]).
template <typename T>
ESCD_SCAN_INLINE void scan_block(const ScanInputs<T>& s, int64_t b, int64_t e0, const BlockConstants<T>& k,
                                 Lanes<T>* __restrict h, T* __restrict out, Lanes<T>* __restrict y_pre,
                                 Lanes<T>* __restrict states) {
  const int64_t L = s.length, E = s.channels, N = s.state;
  const int64_t width = std::min(kLanes, E - e0);
  for (int64_t n = 0; n < N; ++n) h[n] = Lanes<T>{};
  for (int64_t t = 0; t < L; ++t) {
    const int64_t row = b * L + t;
    const Lanes<T> u = load_lanes(s.u + row * E + e0, width);
    const Lanes<T> d = load_lanes(s.delta + row * E + e0, width);
    const Lanes<T> du = d * u;
    Lanes<T> y = k.D[0] * u;
    const T* Bt = s.B + row * N;
    const T* Ct = s.C + row * N;
    for (int64_t n = 0; n < N; ++n) {
      h[n] = exp_lanes(d * k.A[n]) * h[n] + du * Bt[n];
      y += Ct[n] * h[n];
    }
    if (states != nullptr) std::copy(h, h + N, states + t * N);
    if (y_pre != nullptr) y_pre[t] = y;
    if (out != nullptr) {
      if (s.z != nullptr) {
        const Lanes<T> z = load_lanes(s.z + row * E + e0, width);
        y *= z * sigmoid_lanes<T>(z);
      }
      store_lanes(out + row * E + e0, y, width);
    }
  }
}

// Forward over work items [begin, end) of (batch row, channel block).
template <typename T>
ESCD_SCAN_INLINE void forward_items(const ScanInputs<T>& s, T* out, int64_t begin, int64_t end) {
  BlockConstants<T> k(s.state);
  LaneArray<T> h(s.state);
  for (int64_t item = begin; item < end; ++item) {
    const int64_t b = item / s.blocks(), e0 = (item % s.blocks()) * kLanes;
    k.load(s, e0, std::min(kLanes, s.channels - e0));
    scan_block<T>(s, b, e0, k, h.data(), out, nullptr, nullptr);
  }
}

template <typename T>
struct ScanGrads {
  const T* dout;  // [batch, length, channels]
  T* du;          // [batch, length, channels]
  T* ddelta;      // [batch, length, channels]
  T* dB;          // [batch, length, state]
  T* dC;          // [batch, length, state]
  T* dz;          // [batch, length, channels] or null
  T* dA;          // this chunk's partial [channels, state]
  T* dD;          // this chunk's partial [channels]
};

// Scratch for one backward chunk, allocated once and reused for every block it processes.
template <typename T>
struct BackwardScratch {
  BackwardScratch(int64_t L, int64_t N)
      : k(N), states(L * N), y_pre(L), dB_lanes(L * N), dC_lanes(L * N), carry(N), dA_lanes(N), h(N) {}
  BlockConstants<T> k;
  LaneArray<T> states, y_pre, dB_lanes, dC_lanes, carry, dA_lanes, h;
};

// Reverse-time pass for one (batch row, channel block). g_t = ∂loss/∂h_t obeys
// g_t = C_t·dy_t + exp(Δ_{t+1}A)·g_{t+1}; `carry` holds the second term. dB_t and dC_t are
// accumulated per lane (`dB_lanes`, `dC_lanes`) and summed over lanes once per batch row.
template <typename T>
ESCD_SCAN_INLINE void backward_block(const ScanInputs<T>& s, const ScanGrads<T>& g, int64_t b, int64_t e0,
                                     BackwardScratch<T>& scratch) {
  const int64_t L = s.length, E = s.channels, N = s.state;
  const int64_t width = std::min(kLanes, E - e0);
  BlockConstants<T>& k = scratch.k;
  k.load(s, e0, width);
  Lanes<T>* __restrict states = scratch.states.data();
  Lanes<T>* __restrict carry = scratch.carry.data();
  Lanes<T>* __restrict dA = scratch.dA_lanes.data();
  scan_block<T>(s, b, e0, k, scratch.h.data(), nullptr, scratch.y_pre.data(), states);
  for (int64_t n = 0; n < N; ++n) carry[n] = dA[n] = Lanes<T>{};
  Lanes<T> dD = {};
  for (int64_t t = L - 1; t >= 0; --t) {
    const int64_t row = b * L + t;
    const Lanes<T> u = load_lanes(s.u + row * E + e0, width);
    const Lanes<T> d = load_lanes(s.delta + row * E + e0, width);
    Lanes<T> dy = load_lanes(g.dout + row * E + e0, width);
    if (s.z != nullptr) {
      const Lanes<T> z = load_lanes(s.z + row * E + e0, width);
      const Lanes<T> sig = sigmoid_lanes<T>(z);
      // d/dz [z·σ(z)] = σ(z)·(1 + z·(1 − σ(z)))
      store_lanes(g.dz + row * E + e0, dy * scratch.y_pre[t] * sig * (T(1) + z * (T(1) - sig)), width);
      dy *= z * sig;
    }
    Lanes<T> du = k.D[0] * dy, dd = {};
    dD += dy * u;
    const Lanes<T> d_u = d * u;
    const T* Bt = s.B + row * N;
    const T* Ct = s.C + row * N;
    const Lanes<T>* h_t = states + t * N;
    const Lanes<T>* h_prev = t > 0 ? states + (t - 1) * N : nullptr;
    Lanes<T>* dB_t = scratch.dB_lanes.data() + t * N;
    Lanes<T>* dC_t = scratch.dC_lanes.data() + t * N;
    for (int64_t n = 0; n < N; ++n) {
      const Lanes<T> gn = carry[n] + Ct[n] * dy;
      const Lanes<T> a = exp_lanes(d * k.A[n]);
      // ∂loss/∂(Δ·A) through a = exp(Δ·A); h_{−1} = 0.
      const Lanes<T> g_dA = h_prev != nullptr ? gn * h_prev[n] * a : Lanes<T>{};
      dC_t[n] += dy * h_t[n];
      dd += g_dA * k.A[n] + gn * (Bt[n] * u);
      dA[n] += g_dA * d;
      du += gn * (d * Bt[n]);
      dB_t[n] += gn * d_u;
      carry[n] = gn * a;
    }
    store_lanes(g.du + row * E + e0, du, width);
    store_lanes(g.ddelta + row * E + e0, dd, width);
  }
  for (int64_t w = 0; w < width; ++w) {
    for (int64_t n = 0; n < N; ++n) g.dA[(e0 + w) * N + n] += dA[n][w];
    g.dD[e0 + w] += dD[w];
  }
}

// Backward over batch rows [begin, end): a row owns its dB and dC rows, so no two chunks write
// the same entry; dA and dD go to the chunk's own partial sums.
template <typename T>
ESCD_SCAN_INLINE void backward_rows(const ScanInputs<T>& s, const ScanGrads<T>& g, int64_t begin, int64_t end) {
  const int64_t L = s.length, N = s.state;
  BackwardScratch<T> scratch(L, N);
  for (int64_t b = begin; b < end; ++b) {
    scratch.dB_lanes.zero();
    scratch.dC_lanes.zero();
    for (int64_t block = 0; block < s.blocks(); ++block) backward_block(s, g, b, block * kLanes, scratch);
    for (int64_t i = 0; i < L * N; ++i) {
      g.dB[b * L * N + i] = sum_lanes<T>(scratch.dB_lanes[i]);
      g.dC[b * L * N + i] = sum_lanes<T>(scratch.dC_lanes[i]);
    }
  }
}

struct StepArgs {
  int64_t rows, channels, state;
  const float *x, *delta, *A, *B, *C, *D, *z;
  int64_t x_stride, delta_stride, B_stride, C_stride, z_stride;  // row strides
  float *h, *y;
  int64_t y_stride;
  bool delta_softplus;  // Δ = softplus(delta)
};

// One step of every (row, channel), one vector V of channels at a time (8 for AVX2, 16 for
// AVX-512): the state is [rows, N, E] and A is [N, E], so each state index n updates a vector of
// channels with contiguous loads and no horizontal sums (a zero-padded tail when E is not a
// multiple of the lane count).
template <typename V>
ESCD_SCAN_INLINE void step_rows(const StepArgs& a) {
  using mamba_detail::load_vector;
  using mamba_detail::store_vector;
  constexpr auto kWidth = static_cast<int64_t>(sizeof(V) / sizeof(float));
  const int64_t E = a.channels, N = a.state;
  for (int64_t r = 0; r < a.rows; ++r) {
    const float* Br = a.B + r * a.B_stride;
    const float* Cr = a.C + r * a.C_stride;
    for (int64_t e0 = 0; e0 < E; e0 += kWidth) {
      const int64_t width = std::min(kWidth, E - e0);
      const V x = load_vector<V>(a.x + r * a.x_stride + e0, width);
      const V raw_dt = load_vector<V>(a.delta + r * a.delta_stride + e0, width);
      const V dt = a.delta_softplus ? mamba_detail::softplus_vector(raw_dt) : raw_dt;
      const V dtx = dt * x;
      V acc = {};
      for (int64_t n = 0; n < N; ++n) {
        float* h = a.h + (r * N + n) * E + e0;
        V hn = load_vector<V>(h, width);
        hn = exp_lanes(dt * load_vector<V>(a.A + n * E + e0, width)) * hn + dtx * Br[n];
        acc += Cr[n] * hn;
        store_vector(h, hn, width);
      }
      const V z = load_vector<V>(a.z + r * a.z_stride + e0, width);
      const V y = (acc + load_vector<V>(a.D + e0, width) * x) * (z * mamba_detail::sigmoid_vector(z));
      store_vector(a.y + r * a.y_stride + e0, y, width);
    }
  }
}

#if ESCD_SCAN_HAVE_AVX2
__attribute__((target("avx2,fma"))) void step_rows_avx2(const StepArgs& a) { step_rows<Lanes<float>>(a); }
// The per-frame step gets an AVX-512 build too: escd runs it for every row of the staggered
// windows at every frame, and twice the lanes halve its instructions (the scan kernels used in
// training stay AVX2, where 16-lane vectors did not pay).
__attribute__((target("avx512f"))) void step_rows_avx512(const StepArgs& a) {
  step_rows<mamba_detail::WideLanes>(a);
}

__attribute__((target("avx2,fma"))) void forward_items_avx2(const ScanInputs<float>& s, float* out, int64_t begin,
                                                             int64_t end) {
  forward_items(s, out, begin, end);
}
__attribute__((target("avx2,fma"))) void backward_rows_avx2(const ScanInputs<float>& s, const ScanGrads<float>& g,
                                                             int64_t begin, int64_t end) {
  backward_rows(s, g, begin, end);
}
#endif

template <typename T>
void run_forward(const ScanInputs<T>& s, T* out, int64_t begin, int64_t end) {
#if ESCD_SCAN_HAVE_AVX2
  if constexpr (std::is_same_v<T, float>) {
    if (simd_level() >= SimdLevel::avx2) return forward_items_avx2(s, out, begin, end);
  }
#endif
  forward_items(s, out, begin, end);
}

template <typename T>
void run_backward(const ScanInputs<T>& s, const ScanGrads<T>& g, int64_t begin, int64_t end) {
#if ESCD_SCAN_HAVE_AVX2
  if constexpr (std::is_same_v<T, float>) {
    if (simd_level() >= SimdLevel::avx2) return backward_rows_avx2(s, g, begin, end);
  }
#endif
  backward_rows(s, g, begin, end);
}

template <typename T>
ScanInputs<T> scan_inputs(const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
                          const at::Tensor& C, const at::Tensor& D, const at::Tensor& z) {
  return ScanInputs<T>{u.size(0),           u.size(1),           u.size(2),           A.size(1),
                       u.data_ptr<T>(),     delta.data_ptr<T>(), A.data_ptr<T>(),     B.data_ptr<T>(),
                       C.data_ptr<T>(),     D.data_ptr<T>(),     z.defined() ? z.data_ptr<T>() : nullptr};
}

void run_step(const StepArgs& a) {
#if ESCD_SCAN_HAVE_AVX2
  if (simd_level() == SimdLevel::avx512) return step_rows_avx512(a);
  if (simd_level() == SimdLevel::avx2) return step_rows_avx2(a);
#endif
  step_rows<Lanes<float>>(a);
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class SelectiveScanFunction : public torch::autograd::Function<SelectiveScanFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, at::Tensor u, at::Tensor delta, at::Tensor A, at::Tensor B,
                            at::Tensor C, at::Tensor D, at::Tensor z) {
    // The kernel walks raw rows; views (e.g. x and z sliced out of one projection) are copied once.
    if (z.numel() == 0) z = at::Tensor();  // no gate (see selective_scan())
    for (at::Tensor* t : {&u, &delta, &A, &B, &C, &D, &z}) {
      if (t->defined()) *t = t->contiguous();
    }
    ctx->save_for_backward({u, delta, A, B, C, D, z});
    at::Tensor out = at::empty_like(u);
    AT_DISPATCH_FLOATING_TYPES(u.scalar_type(), "selective_scan_forward", [&] {
      const ScanInputs<scalar_t> s = scan_inputs<scalar_t>(u, delta, A, B, C, D, z);
      scalar_t* out_data = out.data_ptr<scalar_t>();
      at::parallel_for(0, s.batch * s.blocks(), 1,
                       [&](int64_t begin, int64_t end) { run_forward(s, out_data, begin, end); });
    });
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    RECORD_USER_SCOPE("selective_scan");  // autograd numbers no forward op of a custom function
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &u = saved[0], &delta = saved[1], &A = saved[2], &B = saved[3], &C = saved[4], &D = saved[5],
                     &z = saved[6];
    const at::Tensor dout = grad_outputs[0].contiguous();
    at::Tensor du = at::empty_like(u), ddelta = at::empty_like(delta);
    at::Tensor dB = at::empty_like(B), dC = at::empty_like(C);
    at::Tensor dz = z.defined() ? at::empty_like(z) : at::Tensor();
    const int64_t batch = u.size(0);
    const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(batch, at::get_num_threads()));
    at::Tensor dA_parts = at::zeros({chunks, A.size(0), A.size(1)}, A.options());
    at::Tensor dD_parts = at::zeros({chunks, D.size(0)}, D.options());
    AT_DISPATCH_FLOATING_TYPES(u.scalar_type(), "selective_scan_backward", [&] {
      const ScanInputs<scalar_t> s = scan_inputs<scalar_t>(u, delta, A, B, C, D, z);
      const int64_t E = s.channels, N = s.state;
      at::parallel_for(0, chunks, 1, [&](int64_t c_begin, int64_t c_end) {
        for (int64_t c = c_begin; c < c_end; ++c) {
          const ScanGrads<scalar_t> g{dout.data_ptr<scalar_t>(),
                                      du.data_ptr<scalar_t>(),
                                      ddelta.data_ptr<scalar_t>(),
                                      dB.data_ptr<scalar_t>(),
                                      dC.data_ptr<scalar_t>(),
                                      dz.defined() ? dz.data_ptr<scalar_t>() : nullptr,
                                      dA_parts.data_ptr<scalar_t>() + c * E * N,
                                      dD_parts.data_ptr<scalar_t>() + c * E};
          run_backward(s, g, c * batch / chunks, (c + 1) * batch / chunks);
        }
      });
    });
    return {du, ddelta, dA_parts.sum(0), dB, dC, dD_parts.sum(0), dz};
  }
};

void check_shapes(const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
                  const at::Tensor& C, const at::Tensor& D, const at::Tensor& z) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("selective_scan: " + what); };
  if (u.dim() != 3) fail("u must be [batch, length, channels]");
  const int64_t batch = u.size(0), length = u.size(1), channels = u.size(2);
  if (A.dim() != 2 || A.size(0) != channels) fail("A must be [channels, state]");
  const int64_t state = A.size(1);
  if (!delta.sizes().equals(u.sizes())) fail("delta must have u's shape");
  if (z.defined() && !z.sizes().equals(u.sizes())) fail("z must have u's shape");
  const std::vector<int64_t> bc_shape{batch, length, state};
  if (!B.sizes().equals(bc_shape) || !C.sizes().equals(bc_shape)) fail("B and C must be [batch, length, state]");
  if (D.dim() != 1 || D.size(0) != channels) fail("D must be [channels]");
  for (const at::Tensor* t : {&delta, &A, &B, &C, &D}) {
    if (t->scalar_type() != u.scalar_type()) fail("all tensors must share u's dtype");
  }
  if (z.defined() && z.scalar_type() != u.scalar_type()) fail("all tensors must share u's dtype");
  if (!u.device().is_cpu()) fail("CPU tensors only");
}

}  // namespace

at::Tensor selective_scan(const at::Tensor& u, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
                          const at::Tensor& C, const at::Tensor& D, const at::Tensor& z) {
  RECORD_USER_SCOPE("selective_scan");
  check_shapes(u, delta, A, B, C, D, z);
  // autograd's Function::apply needs every tensor argument defined: "no gate" travels as an empty z.
  return SelectiveScanFunction::apply(u, delta, A, B, C, D, z.defined() ? z : at::empty({0}, u.options()));
}

void selective_scan_step(const at::Tensor& x, const at::Tensor& delta, const at::Tensor& A, const at::Tensor& B,
                         const at::Tensor& C, const at::Tensor& D, const at::Tensor& z, at::Tensor& state,
                         at::Tensor& y, bool delta_softplus) {
  const int64_t rows = x.size(0), E = x.size(1), N = A.size(0);
  const at::Tensor* all[] = {&x, &delta, &A, &B, &C, &D, &z, &state, &y};
  for (const at::Tensor* t : all) {
    if (t->scalar_type() != at::kFloat || t->stride(-1) != 1) {
      throw std::invalid_argument("selective_scan_step: float tensors with a contiguous last dimension expected");
    }
  }
  if (!state.is_contiguous() || !A.is_contiguous() || A.size(1) != E || state.size(0) != rows ||
      state.size(1) != N || state.size(2) != E || B.size(1) != N || C.size(1) != N || z.size(1) != E || y.size(1) != E) {
    throw std::invalid_argument("selective_scan_step: mismatched shapes");
  }
  const StepArgs a{rows,
                   E,
                   N,
                   x.data_ptr<float>(),
                   delta.data_ptr<float>(),
                   A.data_ptr<float>(),
                   B.data_ptr<float>(),
                   C.data_ptr<float>(),
                   D.data_ptr<float>(),
                   z.data_ptr<float>(),
                   x.stride(0),
                   delta.stride(0),
                   B.stride(0),
                   C.stride(0),
                   z.stride(0),
                   state.data_ptr<float>(),
                   y.data_ptr<float>(),
                   y.stride(0),
                   delta_softplus};
  run_step(a);
}

}  // namespace escd
