// Training progress: a live one-line bar on a terminal, plain periodic log lines otherwise (files,
// journald), so logs stay readable and terminals stay informative.
#pragma once

#include <chrono>
#include <string>

namespace escd::train {

class Progress {
 public:
  // `may_draw`: false for the data-parallel ranks other than 0, which share rank 0's terminal under
  // --nproc and log periodic lines instead of a second bar.
  Progress(int epoch, int epochs, size_t steps, bool may_draw = true);
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
