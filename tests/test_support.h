// Shared helpers for the test suite: where fixtures and ESC-50 live, temporary directories, WAV writing.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace escd::test {

// $ESC50_DIR, defaulting to ../shared/esc50 beside the source tree.
std::string esc50_dir();
bool esc50_available();
std::string fixture(const std::string& name);

// This process's peak resident set so far (getrusage), in KiB: for tests that a load stays small.
long peak_rss_kb();

// Expects decode_audio_file(path) to throw an AudioError whose message names the file and whose
// reason contains `reason` (a gtest failure otherwise).
void expect_audio_error(const std::string& path, const std::string& reason);

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  const std::string& str() const { return dir_; }

 private:
  std::string dir_;
};

// Writes interleaved float samples with libsndfile; `format` is an SF_FORMAT_* combination.
void write_audio(const std::string& path, const std::vector<float>& interleaved, int rate, int channels, int format);

// The text of a file (a program's log), "" when it cannot be read.
std::string read_text(const std::string& path);

// Runs this test executable again as `environment` (shell words: VAR=value ..., or env -u VAR ...)
// followed by the executable with --gtest_filter=`test`; returns its output, and its system()
// status in *status. For tests of what a process decides from its environment before main.
std::string run_self_as_child(const std::string& environment, const std::string& test, int* status);

// Waits until the file at `path` contains `needle`; false after `timeout`.
bool wait_for_text(const std::string& path, const std::string& needle, std::chrono::milliseconds timeout);

// Reads a whole file with libsndfile (interleaved floats); `rate`, if given, receives its rate.
std::vector<float> read_audio(const std::string& path, int* rate = nullptr);

// A deterministic signal: a chirp from 100 Hz to 6 kHz plus two tones, evaluated at any rate.
std::vector<float> analytic_signal(double seconds, int rate);

}  // namespace escd::test

#define SKIP_WITHOUT_ESC50()                                                                      \
  do {                                                                                            \
    if (!escd::test::esc50_available())                                                           \
      GTEST_SKIP() << "ESC-50 not found at " << escd::test::esc50_dir()                           \
                   << " (set ESC50_DIR to the dataset directory to run this test)";              \
  } while (0)
