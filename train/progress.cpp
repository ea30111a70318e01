#include "progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

namespace escd::train {

Progress::Progress(int epoch, int epochs, size_t steps, bool may_draw)
    : epoch_(epoch), epochs_(epochs), steps_(steps), tty_(may_draw && isatty(fileno(stderr))) {
  start_ = last_print_ = std::chrono::steady_clock::now();
}

void Progress::update(size_t step, double loss, size_t clips) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double since_print = std::chrono::duration<double>(now - last_print_).count();
  const double rate = clips / std::max(elapsed, 1e-9);
  const double eta = elapsed / std::max<size_t>(step, 1) * (steps_ - step);
  if (tty_) {
    const int width = 30;
    const int filled = static_cast<int>(width * step / std::max<size_t>(steps_, 1));
    std::fprintf(stderr, "\repoch %d/%d [%s%s] %zu/%zu loss %.4f %.0f clips/s eta %.0fs   ", epoch_, epochs_,
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), step, steps_, loss, rate,
                 eta);
    std::fflush(stderr);
  } else if (since_print >= 30.0) {
    spdlog::info("epoch {}/{} step {}/{} loss {:.4f} {:.0f} clips/s eta {:.0f}s", epoch_, epochs_, step, steps_, loss,
                 rate, eta);
    last_print_ = now;
  }
}

void Progress::finish() {
  if (tty_) std::fprintf(stderr, "\r%100s\r", "");
}

}  // namespace escd::train
