// An audio file as a source (`escd --input clip.wav`): streamed from disk in blocks, paced to the
// wall clock like a microphone unless `fast`, so that the daemon behaves the same on both.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "audio/audio_source.h"

typedef struct sf_private_tag SNDFILE;

namespace escd {

class FileSource : public AudioSource {
 public:
  // Opens anything libsndfile reads. Throws AudioError (audio/decode.h), naming the file, when it is
  // missing, a directory, empty, not audio, or holds no frames.
  explicit FileSource(const std::string& path, bool fast = false);
  ~FileSource() override;

  int sample_rate() const override { return rate_; }
  int channels() const override { return channels_; }
  // Real time: returns once max_frames are due by the wall clock (or at the timeout with what is due).
  // Fast: returns max_frames at once. NaN/Inf samples become 0 and are counted.
  size_t read(std::vector<float>& out, size_t max_frames, std::chrono::milliseconds timeout) override;
  bool finished() const override { return finished_.load(); }
  SourceStats stats() const override;
  void interrupt() override;

  int64_t total_frames() const { return total_frames_; }

 private:
  // Real-time pacing: how many frames read() may deliver now, after waiting at most until deadline.
  size_t frames_due(size_t max_frames, std::chrono::steady_clock::time_point deadline);

  std::string path_;
  bool fast_;
  SNDFILE* file_ = nullptr;
  int rate_ = 0;
  int channels_ = 0;
  int64_t total_frames_ = 0;
  std::atomic<bool> finished_{false};

  std::chrono::steady_clock::time_point started_;  // wall-clock time of frame 0, set by the first read
  bool started_set_ = false;
  uint64_t delivered_ = 0;

  std::mutex mutex_;  // guards interrupted_, for the condition variable that paces read()
  std::condition_variable wake_;
  bool interrupted_ = false;
  mutable std::mutex stats_mutex_;  // stats() may be called from a health thread
  SourceStats stats_;
};

}  // namespace escd
