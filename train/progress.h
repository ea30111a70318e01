// Training progress: a live one-line bar on a terminal, plain periodic log lines otherwise (files,
// journald), so logs stay readable and terminals stay informative.
#pragma once

#include <chrono>
#include <string>

namespace escd::train {

class Progress {
 public:
  Progress(int epoch, int epochs, size_t steps);
  // After each step: the running mean loss and clips processed so far this epoch.
  void update(size_t step, double loss, size_t clips);
  void finish();

 private:
  int epoch_, epochs_;
  size_t steps_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace escd::train
