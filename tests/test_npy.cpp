#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_support.h"
#include "util/npy.h"

namespace escd {
namespace {

TEST(Npy, RoundTripKeepsShapeAndValues) {
  test::TempDir dir;
  const std::vector<float> data{1.5f, -2.0f, 3.25f, 0.0f, 1e-8f, -7.0f};
  write_npy(dir.path("a.npy"), data.data(), {2, 3});
  const NpyArray back = read_npy(dir.path("a.npy"));
  EXPECT_EQ(back.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(back.data, data);
}

TEST(Npy, HeaderIsAlignedTo64Bytes) {
  test::TempDir dir;
  const float x = 1.0f;
  write_npy(dir.path("x.npy"), &x, {1});
  std::ifstream in(dir.path("x.npy"), std::ios::binary | std::ios::ate);
  EXPECT_EQ((static_cast<long>(in.tellg()) - 4) % 64, 0);
}

TEST(Npy, RejectsTruncatedAndForeignFiles) {
  test::TempDir dir;
  const std::vector<float> data(10, 1.0f);
  write_npy(dir.path("a.npy"), data.data(), {10});
  std::filesystem::resize_file(dir.path("a.npy"), std::filesystem::file_size(dir.path("a.npy")) - 4);
  EXPECT_THROW(read_npy(dir.path("a.npy")), std::runtime_error);
  std::ofstream(dir.path("b.npy")) << "hello";
  try {
    read_npy(dir.path("b.npy"));
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("b.npy"), std::string::npos);
  }
  EXPECT_THROW(read_npy(dir.path("missing.npy")), std::runtime_error);
}

TEST(Npy, UnwritableDirectoryIsAnErrorAndLeavesNothing) {
  EXPECT_THROW(write_npy("/nonexistent-dir/x.npy", nullptr, {0}), std::runtime_error);
}

}  // namespace
}  // namespace escd
