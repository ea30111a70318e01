#include "audio/file_source.h"

#include <sndfile.h>

#include <cmath>
#include <filesystem>

#include "audio/decode.h"
#include "audio/sample_guard.h"

namespace escd {

using Clock = std::chrono::steady_clock;

FileSource::FileSource(const std::string& path, bool fast) : path_(path), fast_(fast) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw AudioError(path, "no such file");
  if (fs::is_directory(status)) throw AudioError(path, "is a directory, not an audio file");
  if (fs::is_regular_file(status) && fs::file_size(path, ec) == 0) throw AudioError(path, "file is empty (0 bytes)");

  SF_INFO info{};
  file_ = sf_open(path.c_str(), SFM_READ, &info);
  if (!file_) {
    throw AudioError(path, std::string("not a readable audio file (libsndfile: ") + sf_strerror(nullptr) + ")");
  }
  if (info.channels <= 0 || info.samplerate <= 0 || info.frames <= 0) {
    sf_close(file_);
    throw AudioError(path, "holds no audio: " + std::to_string(info.frames) + " frames, " +
                               std::to_string(info.channels) + " channels at " + std::to_string(info.samplerate) + " Hz");
  }
  if (info.samplerate < kMinFileRate || info.samplerate > kMaxFileRate) {
    sf_close(file_);
    throw AudioError(path, "sample rate " + std::to_string(info.samplerate) + " Hz is outside " +
                               std::to_string(kMinFileRate) + ".." + std::to_string(kMaxFileRate) + " Hz");
  }
  rate_ = info.samplerate;
  channels_ = info.channels;
  total_frames_ = info.frames;
  stats_.device = path;
}

FileSource::~FileSource() {
  if (file_) sf_close(file_);
}

size_t FileSource::frames_due(size_t max_frames, Clock::time_point deadline) {
  if (!started_set_) {
    started_ = Clock::now();
    started_set_ = true;
  }
  const auto frame_time = [&](uint64_t frame) {
    return started_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(double(frame) / rate_));
  };
  // Wait until a whole block is due, or the deadline, whichever comes first; a consumer that fell
  // behind gets its block at once (no waiting), so it catches up.
  const Clock::time_point block_due = frame_time(delivered_ + max_frames);
  {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_until(lock, std::min(block_due, deadline), [&] { return interrupted_; });
    interrupted_ = false;  // one interrupt() cuts one wait short
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
  const auto due_total = static_cast<uint64_t>(elapsed * rate_);
  return due_total > delivered_ ? static_cast<size_t>(std::min<uint64_t>(due_total - delivered_, max_frames)) : 0;
}

size_t FileSource::read(std::vector<float>& out, size_t max_frames, std::chrono::milliseconds timeout) {
  if (finished_.load() || max_frames == 0) return 0;
  const size_t want = fast_ ? max_frames : frames_due(max_frames, Clock::now() + timeout);
  if (want == 0) return 0;

  const size_t at = out.size();
  out.resize(at + want * channels_);
  const sf_count_t got = sf_readf_float(file_, out.data() + at, static_cast<sf_count_t>(want));
  const size_t frames = got > 0 ? static_cast<size_t>(got) : 0;
  out.resize(at + frames * channels_);
  SampleGuardCounts guarded;
  guard_samples(out.data() + at, out.size() - at, guarded);
  delivered_ += frames;

  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_.frames_delivered = delivered_;
  stats_.non_finite_replaced += guarded.non_finite;
  stats_.out_of_range_clamped += guarded.clamped;
  if (frames < want) {
    // A short read is the end of the file, or a read error part-way (a truncated file).
    if (sf_error(file_) != SF_ERR_NO_ERROR) stats_.last_error = path_ + ": read error: " + sf_strerror(file_);
    finished_.store(true);
  }
  if (static_cast<int64_t>(delivered_) >= total_frames_) finished_.store(true);  // say so with the last block
  return frames;
}

SourceStats FileSource::stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return stats_;
}

void FileSource::interrupt() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    interrupted_ = true;
  }
  wake_.notify_all();
}

}  // namespace escd
