// FFTW's planner is not thread-safe (executing a plan is): every FFTW plan in escd is created and
// destroyed under this one lock, whichever module makes it (the log-mel front end, the batch
// thread's room augmentation, evaluation).
#pragma once

#include <mutex>

namespace escd {

std::mutex& fftw_planner_mutex();

}  // namespace escd
