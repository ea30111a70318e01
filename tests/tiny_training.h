// A small ESC-50 subset and a tiny Mamba recipe, for tests that run esc-train fit as a process and
// need a whole run to take seconds.
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

// A Mamba of about 10,000 parameters: its recipe (batches of 16, mixing on, one thread, seed 7).
inline void write_tiny_mamba_recipe(const std::string& path, int epochs) {
  std::ofstream(path) << "[model]\nd_model = 16\nn_layers = 2\nd_state = 4\nexpand = 2\n"
                      << "[train]\nepochs = " << epochs << "\nbatch_size = 16\nlr = 3e-3\n"
                      << "warmup_epochs = 1\nema_decay = 0.9\nthreads = 1\nseed = 7\n"
                      << "mix_prob = 0.5\n";
}

}  // namespace escd::test
