// Where esc-train finds ESC-50, as a user meets it (esc-train as a child process): --data, else
// $ESC50_DIR, else an error saying what to pass and where ESC-50 comes from; and a directory laid
// out like the official ESC-50 repository (audio/*.wav at 44.1 kHz, meta/esc50.csv) loads.
#include <gtest/gtest.h>

#include <sndfile.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "child_process.h"
#include "test_support.h"

namespace escd {
namespace {

using namespace std::chrono_literals;

// Sets (or, with nullopt, unsets) ESC50_DIR for the children started in its lifetime, then puts
// back what the test process had.
class ScopedEsc50Dir {
 public:
  explicit ScopedEsc50Dir(const std::optional<std::string>& value) {
    if (const char* old = std::getenv("ESC50_DIR")) old_ = old;
    if (value) {
      setenv("ESC50_DIR", value->c_str(), 1);
    } else {
      unsetenv("ESC50_DIR");
    }
  }
  ~ScopedEsc50Dir() {
    if (old_) {
      setenv("ESC50_DIR", old_->c_str(), 1);
    } else {
      unsetenv("ESC50_DIR");
    }
  }
  ScopedEsc50Dir(const ScopedEsc50Dir&) = delete;
  ScopedEsc50Dir& operator=(const ScopedEsc50Dir&) = delete;

 private:
  std::optional<std::string> old_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Ten 5 s clips of two classes, one per class and fold, as the official repository has them:
// 16-bit mono WAV at 44.1 kHz named <fold>-<source>-<take>-<target>.wav, and its csv header.
void make_official_layout(const std::string& root) {
  std::filesystem::create_directories(root + "/audio");
  std::filesystem::create_directories(root + "/meta");
  std::ofstream csv(root + "/meta/esc50.csv");
  csv << "filename,fold,target,category,esc10,src_file,take\n";
  const std::vector<float> clip = test::analytic_signal(5.0, 44100);
  for (int fold = 1; fold <= 5; ++fold) {
    for (int target = 0; target < 2; ++target) {
      const std::string source = std::to_string(100000 + 10 * fold + target);
      const std::string name = std::to_string(fold) + "-" + source + "-A-" + std::to_string(target) + ".wav";
      csv << name << "," << fold << "," << target << "," << (target == 0 ? "dog" : "rooster") << ",True," << source
          << ",A\n";
      test::write_audio(root + "/audio/" + name, clip, 44100, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    }
  }
}

class EscTrainData : public ::testing::Test {
 protected:
  // Runs esc-train with `args`; returns the exit code, the output in log().
  int run(const std::vector<std::string>& args) {
    ++runs_;
    test::ChildProcess p(ESC_TRAIN_BIN, args, log_path());
    return p.wait(120s);
  }
  std::string log_path() const { return dir_.path("run" + std::to_string(runs_) + ".log"); }
  std::string log() const { return slurp(log_path()); }
  test::TempDir dir_;
  int runs_ = 0;
};

TEST_F(EscTrainData, WithoutDataOrEsc50DirEveryCommandFailsSayingWhatToPass) {
  const std::string out = dir_.path("run-out");
  const std::vector<std::vector<std::string>> commands = {
      {"fit", "--model", "mamba", "--out", out},
      {"eval", "--checkpoint", dir_.path("none.pt")},
      {"dataset"},
      {"pretrain", "--out", out},
  };
  // Unset, and set but empty (as `ESC50_DIR= esc-train ...` leaves it): both mean "not given".
  for (const std::optional<std::string>& env : {std::optional<std::string>(), std::optional<std::string>("")}) {
    const ScopedEsc50Dir scoped(env);
    for (const auto& args : commands) {
      const int code = run(args);
      const std::string text = log();
      EXPECT_EQ(code, 1) << args[0] << ": " << text;
      EXPECT_NE(text.find(args[0] + ": no dataset: pass --data PATH or set ESC50_DIR=DIR"), std::string::npos)
          << text;
      EXPECT_NE(text.find("https://github.com/karolpiczak/ESC-50"), std::string::npos) << text;
      EXPECT_NE(text.find("meta/esc50.csv"), std::string::npos) << text;
      EXPECT_FALSE(std::filesystem::exists(out)) << args[0] << " wrote its run directory before failing";
    }
  }
}

TEST_F(EscTrainData, HelpSaysTheDefaultIsEsc50Dir) {
  for (const std::string command : {"fit", "eval", "dataset", "pretrain"}) {
    EXPECT_EQ(run({command, "--help"}), 0);
    EXPECT_NE(log().find("default: $ESC50_DIR"), std::string::npos) << command << ":\n" << log();
  }
}

TEST_F(EscTrainData, Esc50DirIsReadAndTheOfficialLayoutLoads) {
  const std::string root = dir_.path("ESC-50-master");
  make_official_layout(root);
  const ScopedEsc50Dir scoped(root);
  ASSERT_EQ(run({"dataset", "--partial-data", "--threads", "1", "--batches", "1"}), 0) << log();
  // The standard split of the ten clips, all decoded (44.1 kHz WAV resampled to 16 kHz).
  EXPECT_NE(log().find(root + ": 10 clips, 50 classes; train 6 / val 2 / test 2"), std::string::npos) << log();
  EXPECT_NE(log().find("decoded 10 clips"), std::string::npos) << log();
  // 5 s at 44.1 kHz resample to exactly 5 s at 16 kHz: nothing needed padding or cropping.
  EXPECT_EQ(log().find("padded or cropped"), std::string::npos) << log();
}

TEST_F(EscTrainData, DataOverridesEsc50Dir) {
  const std::string root = dir_.path("esc50");
  make_official_layout(root);
  const ScopedEsc50Dir scoped(dir_.path("no-such-dir"));
  ASSERT_EQ(run({"dataset", "--data", root, "--partial-data", "--threads", "1", "--batches", "1"}), 0) << log();
  EXPECT_NE(log().find(root + ": 10 clips"), std::string::npos) << log();
  // And without --data the variable is what is read: its (missing) directory is the one named.
  EXPECT_EQ(run({"dataset", "--partial-data"}), 1);
  EXPECT_NE(log().find(dir_.path("no-such-dir") + ": no such file or directory"), std::string::npos) << log();
}

}  // namespace
}  // namespace escd
