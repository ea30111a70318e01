// The disk side of event recordings: one thread that writes each recording as FLAC (libsndfile)
// into a temporary beside its final name and renames it into place when the recording finishes,
// then applies the retention limits. The processing loop only queues audio here and never waits
// for the disk. A failing disk (full, read-only, a directory that vanished) fails that recording:
// logged once until a file is written again, counted in stats(), reported in take_results().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "recording_retention.h"

namespace escd::daemon {

// What a file says about itself (FLAC tags).
struct RecordingTags {
  std::string title;    // the class
  std::string comment;  // model, score and span, as JSON
  std::string date;     // UTC, ISO 8601
};

// One recording that is finished: on disk, or not (and why).
struct RecordingResult {
  uint64_t id = 0;
  std::string file;      // relative to the directory: <class>/<name>.flac
  bool written = false;
  std::string error;     // why not
  uint64_t samples = 0;  // in the file
  int rate = 0;
  uint64_t bytes = 0;
};

class RecordingWriter {
 public:
  // Applies `limits` to what `directory` already holds (and removes temporaries a crash left), on
  // the writer thread. `max_queued_samples` bounds the audio waiting for the disk.
  RecordingWriter(std::string directory, RetentionLimits limits, size_t max_queued_samples);
  // Writes everything queued, then stops the thread.
  ~RecordingWriter();
  RecordingWriter(const RecordingWriter&) = delete;
  RecordingWriter& operator=(const RecordingWriter&) = delete;

  // Queue work for recording `id`. begin() and append() return false, queueing nothing, when the
  // queue is full (the disk is not keeping up): the caller then abort()s the recording.
  bool begin(uint64_t id, std::string file, int rate, RecordingTags tags, std::vector<float> samples);
  bool append(uint64_t id, std::vector<float> samples);
  void finish(uint64_t id);
  void abort(uint64_t id, std::string file, std::string reason);
  // Blocks until everything queued so far is written (tests, shutdown).
  void drain();
  // Recordings finished since the last call.
  std::vector<RecordingResult> take_results();
  // For esc.health: files written, failed and dropped, bytes, retention, the last error.
  nlohmann::json stats() const;
  const std::string& directory() const { return directory_; }

 private:
  struct Job {
    enum class Kind { kBegin, kAppend, kFinish, kAbort } kind;
    uint64_t id;
    std::vector<float> samples;
    std::string file, text;  // begin and abort: the file; abort: the reason
    int rate = 0;
    RecordingTags tags;
  };
  struct Open;  // a recording being written (writer thread only)

  bool push(Job job, bool always);
  void run();
  void handle(Job& job);
  void close(uint64_t id, bool keep, const std::string& reason);
  void fail(Open& open, const std::string& error);
  static std::string check_complete(const Open& open);
  void apply_retention(bool at_start);

  const std::string directory_;
  const RetentionLimits limits_;
  const size_t max_queued_samples_;

  mutable std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<Job> queue_;
  size_t queued_samples_ = 0;
  bool busy_ = true, stopping_ = false;  // busy: a job (or the start-up retention) is in hand
  std::vector<RecordingResult> results_;
  struct Counters {
    uint64_t written = 0, failed = 0, dropped = 0, deleted = 0, bytes_written = 0, kept_files = 0, kept_bytes = 0;
    std::string last_error;
  } counters_;

  std::map<uint64_t, std::unique_ptr<Open>> open_;  // writer thread only
  bool failing_ = false;                            // writer thread only: logged, not yet recovered
  std::thread thread_;
};

}  // namespace escd::daemon
