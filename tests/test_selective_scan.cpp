// The fused selective scan against a plain per-time-step ATen reference (values and, through the
// reference's autograd, every gradient), in float64 for exactness and float32 for the fast path.
#include <gtest/gtest.h>

#include <ATen/Context.h>
#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>

#include <string>
#include <vector>

#include "models/mamba/selective_scan.h"
#include "models/mamba/selective_scan_reference.h"
#include "simd_levels.h"

namespace escd {
namespace {

struct Shape {
  int64_t batch, length, channels, state;
  bool gate;
};

std::string describe(const Shape& s) {
  return "batch " + std::to_string(s.batch) + " length " + std::to_string(s.length) + " channels " +
         std::to_string(s.channels) + " state " + std::to_string(s.state) + (s.gate ? " gated" : "");
}

// Random inputs in the ranges the model produces: delta > 0 (a softplus), A < 0.
struct ScanArgs {
  at::Tensor u, delta, A, B, C, D, z;

  ScanArgs(const Shape& s, at::ScalarType dtype, uint64_t seed) {
    at::manual_seed(seed);
    const auto opt = at::TensorOptions().dtype(at::kDouble);
    u = at::randn({s.batch, s.length, s.channels}, opt);
    delta = at::softplus(at::randn({s.batch, s.length, s.channels}, opt) - 1.0);
    A = -at::exp(0.5 * at::randn({s.channels, s.state}, opt));
    B = at::randn({s.batch, s.length, s.state}, opt);
    C = at::randn({s.batch, s.length, s.state}, opt);
    D = at::randn({s.channels}, opt);
    if (s.gate) z = at::randn({s.batch, s.length, s.channels}, opt);
    for (at::Tensor* t : all()) *t = t->to(dtype).requires_grad_(true);
  }
  // A copy in another dtype, as fresh leaves.
  ScanArgs as(at::ScalarType dtype) const {
    ScanArgs copy = *this;
    for (at::Tensor* t : copy.all()) *t = t->detach().to(dtype).requires_grad_(true);
    return copy;
  }
  std::vector<at::Tensor*> all() {
    std::vector<at::Tensor*> out{&u, &delta, &A, &B, &C, &D};
    if (z.defined()) out.push_back(&z);
    return out;
  }
  std::vector<at::Tensor> leaves() {
    std::vector<at::Tensor> out;
    for (at::Tensor* t : all()) out.push_back(*t);
    return out;
  }
  at::Tensor fused() const { return selective_scan(u, delta, A, B, C, D, z); }
  at::Tensor reference() const { return reference_selective_scan(u, delta, A, B, C, D, z); }
};

const char* kNames[] = {"u", "delta", "A", "B", "C", "D", "z"};

// ∂(Σ out ⊙ w)/∂inputs for a fixed random weight w (a random cotangent exercises every path).
std::vector<at::Tensor> gradients(const at::Tensor& out, ScanArgs& args, const at::Tensor& weight) {
  return torch::autograd::grad({(out * weight.to(out.scalar_type())).sum()}, args.leaves());
}

double max_relative_error(const at::Tensor& ours, const at::Tensor& reference) {
  const at::Tensor r = reference.detach().to(at::kDouble);
  const double scale = std::max(r.abs().max().item<double>(), 1e-30);
  return (ours.detach().to(at::kDouble) - r).abs().max().item<double>() / scale;
}

const std::vector<Shape> kShapes = {
    {1, 1, 1, 1, false},  {1, 1, 3, 2, true},    {2, 7, 5, 3, false},   {3, 13, 17, 16, true},
    {2, 40, 33, 4, true}, {4, 29, 32, 16, false}, {1, 155, 20, 16, true},
};

TEST(SelectiveScan, Float64ValuesMatchReference) {
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(describe(s));
    const ScanArgs args(s, at::kDouble, 1);
    EXPECT_LT(max_relative_error(args.fused(), args.reference()), 1e-12);
  }
}

TEST(SelectiveScan, Float64GradientsMatchReference) {
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(describe(s));
    ScanArgs fused(s, at::kDouble, 2), reference = fused.as(at::kDouble);
    const at::Tensor weight = at::randn({s.batch, s.length, s.channels}, at::kDouble);
    const std::vector<at::Tensor> ours = gradients(fused.fused(), fused, weight);
    const std::vector<at::Tensor> expected = gradients(reference.reference(), reference, weight);
    ASSERT_EQ(ours.size(), expected.size());
    for (size_t i = 0; i < ours.size(); ++i) {
      SCOPED_TRACE(std::string("gradient of ") + kNames[i]);
      ASSERT_TRUE(ours[i].defined());
      ASSERT_EQ(ours[i].sizes(), expected[i].sizes());
      EXPECT_LT(max_relative_error(ours[i], expected[i]), 1e-11);
    }
  }
}

// A check that does not trust the reference: central differences of the fused scan itself.
TEST(SelectiveScan, Float64GradientsMatchFiniteDifferences) {
  const Shape s{2, 6, 5, 3, true};
  ScanArgs args(s, at::kDouble, 3);
  const at::Tensor weight = at::randn({s.batch, s.length, s.channels}, at::kDouble);
  const std::vector<at::Tensor> analytic = gradients(args.fused(), args, weight);
  std::vector<at::Tensor*> inputs = args.all();
  const double eps = 1e-6;
  for (size_t i = 0; i < inputs.size(); ++i) {
    SCOPED_TRACE(std::string("gradient of ") + kNames[i]);
    at::Tensor flat = inputs[i]->detach().view({-1});  // shares storage with the leaf
    const at::Tensor g = analytic[i].reshape({-1});
    for (int64_t k = 0; k < flat.numel(); k += 3) {
      at::NoGradGuard no_grad;
      const double original = flat[k].item<double>();
      flat[k].fill_(original + eps);
      const double plus = (args.fused() * weight).sum().item<double>();
      flat[k].fill_(original - eps);
      const double minus = (args.fused() * weight).sum().item<double>();
      flat[k].fill_(original);
      const double numeric = (plus - minus) / (2 * eps);
      EXPECT_NEAR(g[k].item<double>(), numeric, 1e-6 * std::max(1.0, std::abs(numeric))) << "entry " << k;
    }
  }
}

TEST(SelectiveScan, Float32MatchesFloat64Reference) {
  escd::test::at_every_simd_level([&] {
    for (const Shape& s : {Shape{2, 155, 48, 16, true}, Shape{3, 31, 19, 16, false}}) {
      SCOPED_TRACE(describe(s));
      ScanArgs reference(s, at::kDouble, 4);
      ScanArgs fused = reference.as(at::kFloat);
      const at::Tensor weight = at::randn({s.batch, s.length, s.channels}, at::kDouble);
      const at::Tensor out = fused.fused();
      ASSERT_EQ(out.scalar_type(), at::kFloat);
      EXPECT_LT(max_relative_error(out, reference.reference()), 1e-5);
      const std::vector<at::Tensor> ours = gradients(out, fused, weight);
      const std::vector<at::Tensor> expected = gradients(reference.reference(), reference, weight);
      for (size_t i = 0; i < ours.size(); ++i) {
        SCOPED_TRACE(std::string("gradient of ") + kNames[i]);
        EXPECT_LT(max_relative_error(ours[i], expected[i]), 1e-4);
      }
    }
  });
}

// Backward splits the batch into per-thread chunks with partial sums for dA and dD: the split must
// not change the result beyond rounding.
TEST(SelectiveScan, ResultsDoNotDependOnThreadCount) {
  const Shape s{5, 20, 37, 16, true};
  const int threads = at::get_num_threads();
  std::vector<std::vector<at::Tensor>> runs;
  for (int n : {1, 2, 3}) {
    at::set_num_threads(n);
    ScanArgs args(s, at::kDouble, 5);
    const at::Tensor weight = at::ones({s.batch, s.length, s.channels}, at::kDouble);
    const at::Tensor out = args.fused();
    std::vector<at::Tensor> run = gradients(out, args, weight);
    run.push_back(out.detach());
    runs.push_back(run);
  }
  at::set_num_threads(threads);
  for (size_t r = 1; r < runs.size(); ++r) {
    for (size_t i = 0; i < runs[0].size(); ++i) EXPECT_LT(max_relative_error(runs[r][i], runs[0][i]), 1e-13);
  }
}

TEST(SelectiveScan, AcceptsNonContiguousViews) {
  // The mixer passes B and C as slices of one projection, and z as a slice of another.
  const Shape s{2, 9, 6, 4, true};
  const ScanArgs args(s, at::kDouble, 6);
  const at::Tensor packed = at::cat({at::randn({2, 9, 3}, at::kDouble), args.B, args.C}, -1).detach();
  const at::Tensor B_view = packed.narrow(-1, 3, 4), C_view = packed.narrow(-1, 7, 4);
  ASSERT_FALSE(B_view.is_contiguous());
  const at::Tensor ours = selective_scan(args.u, args.delta, args.A, B_view, C_view, args.D, args.z);
  EXPECT_LT(max_relative_error(ours, args.reference()), 1e-12);
}

TEST(SelectiveScan, RejectsMismatchedShapesAndTypes) {
  const ScanArgs args(Shape{2, 5, 4, 3, false}, at::kDouble, 7);
  EXPECT_THROW(selective_scan(args.u, args.delta, args.A.t(), args.B, args.C, args.D), std::invalid_argument);
  EXPECT_THROW(selective_scan(args.u, args.delta.narrow(1, 0, 4), args.A, args.B, args.C, args.D),
               std::invalid_argument);
  EXPECT_THROW(selective_scan(args.u, args.delta, args.A, args.B, args.C.to(at::kFloat), args.D),
               std::invalid_argument);
  EXPECT_THROW(selective_scan(args.u, args.delta, args.A, args.B, args.C, args.D, args.u.narrow(2, 0, 2)),
               std::invalid_argument);
}

}  // namespace
}  // namespace escd
