#include "test_support.h"

#include <gtest/gtest.h>

#include "audio/decode.h"

#include <sndfile.h>
#include <sys/resource.h>
#include <unistd.h>

#include <climits>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace escd::test {

std::string esc50_dir() {
  if (const char* env = std::getenv("ESC50_DIR"); env && *env) return env;
  return std::string(ESCD_SOURCE_DIR) + "/../shared/esc50";
}

bool esc50_available() { return std::filesystem::exists(esc50_dir() + "/meta/esc50.csv"); }

std::string fixture(const std::string& name) { return std::string(ESCD_SOURCE_DIR) + "/tests/fixtures/" + name; }

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "escd-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void write_audio(const std::string& path, const std::vector<float>& interleaved, int rate, int channels, int format) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) throw std::runtime_error(path + ": " + sf_strerror(nullptr));
  sf_writef_float(f, interleaved.data(), static_cast<sf_count_t>(interleaved.size() / channels));
  sf_close(f);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string run_self_as_child(const std::string& environment, const std::string& test, int* status) {
  char self[PATH_MAX] = {};
  if (readlink("/proc/self/exe", self, sizeof self - 1) <= 0) return "readlink /proc/self/exe failed";
  const std::string log = testing::TempDir() + "child_" + std::to_string(getpid()) + ".log";
  const std::string command =
      environment + " '" + self + "' --gtest_filter=" + test + " > '" + log + "' 2>&1";
  *status = std::system(command.c_str());
  return read_text(log);
}

bool wait_for_text(const std::string& path, const std::string& needle, std::chrono::milliseconds timeout) {
  for (const auto deadline = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < deadline;) {
    if (read_text(path).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::vector<float> read_audio(const std::string& path, int* rate) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (!f) throw std::runtime_error(path + ": " + sf_strerror(nullptr));
  std::vector<float> out(static_cast<size_t>(info.frames * info.channels));
  const sf_count_t got = sf_readf_float(f, out.data(), info.frames);
  sf_close(f);
  out.resize(static_cast<size_t>(got * info.channels));
  if (rate) *rate = info.samplerate;
  return out;
}

std::vector<float> analytic_signal(double seconds, int rate) {
  const auto n = static_cast<size_t>(std::lround(seconds * rate));
  std::vector<float> out(n);
  const double pi = 3.14159265358979323846;
  for (size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / rate;
    const double chirp_phase = 2 * pi * (100.0 * t + 0.5 * (6000.0 - 100.0) / seconds * t * t);
    out[i] = static_cast<float>(0.3 * std::sin(chirp_phase) + 0.1 * std::sin(2 * pi * 440 * t) +
                                0.05 * std::sin(2 * pi * 2500 * t));
  }
  return out;
}

void expect_audio_error(const std::string& path, const std::string& reason) {
  try {
    decode_audio_file(path);
    ADD_FAILURE() << path << ": decoded, expected an error containing '" << reason << "'";
  } catch (const AudioError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(e.reason().find(reason), std::string::npos) << e.what();
  }
}

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace escd::test
