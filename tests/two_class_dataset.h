// An ESC-50-shaped directory of two classes, for tests that train real models in seconds.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_support.h"

namespace escd::test {

// An ESC-50-shaped directory holding only classes 0 and 1 (80 clips: symlinks to the real audio).
inline void make_two_class_dataset(const std::string& root) {
  std::filesystem::create_directories(root + "/meta");
  std::filesystem::create_directories(root + "/audio");
  std::ifstream in(esc50_dir() + "/meta/esc50.csv");
  std::ofstream out(root + "/meta/esc50.csv");
  std::string line;
  std::getline(in, line);
  out << line << "\n";
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::string filename, fold, target;
    std::getline(row, filename, ',');
    std::getline(row, fold, ',');
    std::getline(row, target, ',');
    if (target != "0" && target != "1") continue;
    out << line << "\n";
    const std::string stem = std::filesystem::path(filename).stem().string();
    for (const char* ext : {".wav", ".flac"}) {
      const std::filesystem::path audio = esc50_dir() + "/audio/" + stem + ext;
      if (std::filesystem::exists(audio)) std::filesystem::create_symlink(std::filesystem::absolute(audio), root + "/audio/" + stem + ext);
    }
  }
}

}  // namespace escd::test
