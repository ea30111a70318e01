// Disk faults: a full disk and a read-only output directory give a clear error (the file, the OS
// error) and leave no partial file that could pass for a complete one; a process killed in the
// middle of an atomic write leaves the old or the new content, never a mix. Simulated with small
// tmpfs mounts (needs root; skips otherwise) and a child process killed by its PID.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <thread>

#include "child_process.h"
#include "scratch_mount.h"
#include "test_support.h"
#include "util/atomic_file.h"

namespace escd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename() != ".filler") names.push_back(e.path().filename());
  }
  return names;
}

#define SKIP_WITHOUT_MOUNT(m) \
  if (!(m).available()) GTEST_SKIP() << "needs root to mount a small tmpfs: " << (m).error()

TEST(DiskFaults, AtomicWriteOnAFullDiskFailsClearlyAndKeepsTheOldFile) {
  test::TempDir dir;
  test::ScratchMount disk(dir.path("disk"), "1m");
  SKIP_WITHOUT_MOUNT(disk);
  const std::string path = dir.path("disk/state.json");
  write_file_atomic(path, "old content");
  disk.fill(8192);
  try {
    write_file_atomic(path, std::string(64 * 1024, 'n'));
    FAIL() << "a 64 KB write into 8 KB of free space succeeded";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("No space left on device"), std::string::npos) << what;
  }
  EXPECT_EQ(slurp(path), "old content");
  EXPECT_EQ(files_in(dir.path("disk")), std::vector<std::string>{"state.json"}) << "a temporary was left behind";
}

TEST(DiskFaults, AtomicWriteIntoAReadOnlyDirectoryFailsClearly) {
  test::TempDir dir;
  test::ScratchMount disk(dir.path("disk"), "1m");
  SKIP_WITHOUT_MOUNT(disk);
  ASSERT_TRUE(disk.make_read_only());
  try {
    write_file_atomic(dir.path("disk/out.npy"), "data");
    FAIL() << "wrote into a read-only file system";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("Read-only file system"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(files_in(dir.path("disk")).empty());
}

// Cleaners (run directories, recordings) find interrupted writes by the temporary's name: the name
// an open AtomicFile really has is recognised, with its destination; look-alikes are not.
TEST(AtomicFileTemporaries, TheNameOfALiveTemporaryIsRecognisedAndLookAlikesAreNot) {
  test::TempDir dir;
  AtomicFile file(dir.path("metrics.jsonl"));
  const std::vector<std::string> names = files_in(dir.str());
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(atomic_temporary_destination(names[0]), std::optional<std::string>("metrics.jsonl")) << names[0];
  for (const char* other : {"metrics.jsonl", "metrics.jsonl.tmp.", "metrics.jsonl.tmp.abc", "metrics.jsonl.tmp.abc-12",
                            "metrics.jsonl.tmp.abcdefg", ".tmp.abc123", "notes.tmp.txt"}) {
    EXPECT_EQ(atomic_temporary_destination(other), std::nullopt) << other;
  }
}

// A child rewrites a 16 MB file over and over, alternating two contents; it is killed at random
// moments (seeded), mostly in the middle of a write. The file is always one content, whole.
TEST(DiskFaults, AKillDuringAnAtomicWriteLeavesTheOldOrTheNewContentWhole) {
  test::TempDir dir;
  const std::string path = dir.path("big.ckpt");
  const size_t size = 16u << 20;
  write_file_atomic(path, std::string(size, 'a'));
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> delay_ms(5, 150);
  int changed = 0;
  for (int round = 0; round < 8; ++round) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int i = 0;; ++i) write_file_atomic(path, std::string(size, i % 2 ? 'a' : 'b'));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    const std::string content = slurp(path);
    ASSERT_EQ(content.size(), size) << "round " << round;
    EXPECT_TRUE(content.find_first_not_of(content[0]) == std::string::npos) << "round " << round << ": mixed content";
    changed += content[0] == 'b';
  }
  std::printf("%d of 8 kills found the second content in place\n", changed);
}

// esc-train fit, as a user runs it, into a full disk and into a read-only directory: it fails
// before loading any data, with the directory and the OS error in the message, and leaves nothing.
class FitOutputFaults : public ::testing::Test {
 protected:
  int fit(const std::string& out) {
    test::ChildProcess p(ESC_TRAIN_BIN,
                         {"fit", "--model", "mamba", "--data", test::esc50_dir(), "--epochs", "1", "--out", out},
                         dir_.path("fit.log"));
    return p.wait(60s);
  }
  std::string log() const { return slurp(dir_.path("fit.log")); }
  test::TempDir dir_;
};

TEST_F(FitOutputFaults, FullDisk) {
  test::ScratchMount disk(dir_.path("disk"), "1m");
  SKIP_WITHOUT_MOUNT(disk);
  disk.fill(0);
  EXPECT_EQ(fit(dir_.path("disk/run")), 1) << log();
  EXPECT_NE(log().find(dir_.path("disk/run") + ": the run directory is not writable"), std::string::npos) << log();
  EXPECT_NE(log().find("No space left on device"), std::string::npos) << log();
  EXPECT_TRUE(files_in(dir_.path("disk/run")).empty());
}

TEST_F(FitOutputFaults, ReadOnlyDirectory) {
  test::ScratchMount disk(dir_.path("disk"), "1m");
  SKIP_WITHOUT_MOUNT(disk);
  fs::create_directories(dir_.path("disk/run"));
  ASSERT_TRUE(disk.make_read_only());
  EXPECT_EQ(fit(dir_.path("disk/run")), 1) << log();
  EXPECT_NE(log().find("Read-only file system"), std::string::npos) << log();
  EXPECT_TRUE(files_in(dir_.path("disk/run")).empty());
}

}  // namespace
}  // namespace escd
