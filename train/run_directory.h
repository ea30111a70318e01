// The run directory's files outside the checkpoints: whether it can be written at all, the
// metrics lines a resumed run keeps, and the temporaries an interrupted atomic write leaves.
#pragma once

#include <string>
#include <vector>

namespace escd::train {

// Creates the run directory if needed and proves it writable with a small atomic write, so that a
// read-only or full disk is a clear error before any training, not after the first epoch. Throws
// std::runtime_error naming the directory and the OS error.
void prepare_run_directory(const std::string& run_dir);

// The lines of metrics.jsonl for the epochs before `first_epoch`: a run killed after writing an
// epoch's line but before its checkpoint resumes at that epoch, and its file then reads like an
// uninterrupted run's. Unreadable lines are dropped with a warning.
std::vector<std::string> read_metrics_before(const std::string& path, int first_epoch);

// Writes metrics.jsonl atomically, one line per epoch.
void write_metrics(const std::string& path, const std::vector<std::string>& lines);

// write_file_atomic's temporaries (<name>.tmp.XXXXXX) are left behind when a process is killed
// mid-write. They are never mistaken for the file (it is untouched), but they pile up: a new run or
// a resume removes them, saying so.
void remove_stale_temporaries(const std::string& run_dir);

}  // namespace escd::train
