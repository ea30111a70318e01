#include "recording_writer.h"

#include <sndfile.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <filesystem>
#include <utility>

#include "util/atomic_file.h"

namespace escd::daemon {
namespace fs = std::filesystem;

struct RecordingWriter::Open {
  RecordingResult result;
  std::unique_ptr<AtomicFile> file;
  SNDFILE* sound = nullptr;
  bool failed = false;

  ~Open() {
    if (sound) sf_close(sound);
  }
};

RecordingWriter::RecordingWriter(std::string directory, RetentionLimits limits, size_t max_queued_samples)
    : directory_(std::move(directory)), limits_(limits), max_queued_samples_(max_queued_samples) {
  thread_ = std::thread([this] { run(); });
}

RecordingWriter::~RecordingWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

bool RecordingWriter::push(Job job, bool always) {
  {
    std::lock_guard lock(mutex_);
    if (!always && queued_samples_ + job.samples.size() > max_queued_samples_) return false;
    queued_samples_ += job.samples.size();
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

bool RecordingWriter::begin(uint64_t id, std::string file, int rate, RecordingTags tags, std::vector<float> samples) {
  return push({Job::Kind::kBegin, id, std::move(samples), std::move(file), "", rate, std::move(tags)}, false);
}
bool RecordingWriter::append(uint64_t id, std::vector<float> samples) {
  return push({Job::Kind::kAppend, id, std::move(samples), "", "", 0, {}}, false);
}
void RecordingWriter::finish(uint64_t id) { push({Job::Kind::kFinish, id, {}, "", "", 0, {}}, true); }
void RecordingWriter::abort(uint64_t id, std::string file, std::string reason) {
  push({Job::Kind::kAbort, id, {}, std::move(file), std::move(reason), 0, {}}, true);
}

void RecordingWriter::drain() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

std::vector<RecordingResult> RecordingWriter::take_results() {
  std::lock_guard lock(mutex_);
  return std::exchange(results_, {});
}

nlohmann::json RecordingWriter::stats() const {
  std::lock_guard lock(mutex_);
  const Counters& c = counters_;
  return {{"directory", directory_},
          {"written", c.written},
          {"failed", c.failed},
          {"dropped", c.dropped},
          {"bytes_written", c.bytes_written},
          {"deleted", c.deleted},
          {"kept_files", c.kept_files},
          {"kept_bytes", c.kept_bytes},
          {"queued_samples", queued_samples_},
          {"last_error", c.last_error}};
}

void RecordingWriter::run() {
  apply_retention(true);  // busy_ starts true: drain() waits for this too
  std::unique_lock lock(mutex_);
  busy_ = false;
  idle_.notify_all();
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and everything queued is written
    Job job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    try {
      handle(job);
    } catch (const std::exception& e) {  // e.g. out of memory: that recording fails, the thread goes on
      if (const auto it = open_.find(job.id); it != open_.end()) fail(*it->second, std::string("failed: ") + e.what());
    }
    lock.lock();
    queued_samples_ -= job.samples.size();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
  lock.unlock();
  // Whatever was never finished (a caller that stopped without finish()) is kept as it stands.
  while (!open_.empty()) close(open_.begin()->first, true, "");
  idle_.notify_all();
}

void RecordingWriter::fail(Open& open, const std::string& error) {
  if (open.failed) return;
  open.failed = true;
  open.result.error = error;
  if (open.sound) sf_close(open.sound);
  open.sound = nullptr;
  open.file.reset();  // removes the temporary
}

void RecordingWriter::handle(Job& job) {
  switch (job.kind) {
    case Job::Kind::kBegin: {
      auto open = std::make_unique<Open>();
      open->result.id = job.id;
      open->result.file = job.file;
      open->result.rate = job.rate;
      Open& o = *open;
      open_[job.id] = std::move(open);
      const fs::path path = fs::path(directory_) / job.file;
      std::error_code ec;
      fs::create_directories(path.parent_path(), ec);
      if (ec) return fail(o, path.parent_path().string() + ": cannot create the directory: " + ec.message());
      try {
        o.file = std::make_unique<AtomicFile>(path.string());
      } catch (const std::exception& e) {
        return fail(o, e.what());
      }
      SF_INFO info{};
      info.samplerate = job.rate;
      info.channels = 1;
      info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
      o.sound = sf_open_fd(o.file->fd(), SFM_WRITE, &info, SF_FALSE);
      if (!o.sound) return fail(o, path.string() + ": " + sf_strerror(nullptr));
      sf_command(o.sound, SFC_SET_CLIPPING, nullptr, SF_TRUE);  // a full-scale peak clips, never wraps
      sf_set_string(o.sound, SF_STR_TITLE, job.tags.title.c_str());
      sf_set_string(o.sound, SF_STR_COMMENT, job.tags.comment.c_str());
      sf_set_string(o.sound, SF_STR_DATE, job.tags.date.c_str());
      sf_set_string(o.sound, SF_STR_SOFTWARE, "escd");
      [[fallthrough]];
    }
    case Job::Kind::kAppend: {
      const auto it = open_.find(job.id);
      if (it == open_.end() || it->second->failed || job.samples.empty()) return;
      Open& o = *it->second;
      const auto n = static_cast<sf_count_t>(job.samples.size());
      if (sf_writef_float(o.sound, job.samples.data(), n) != n || sf_error(o.sound) != SF_ERR_NO_ERROR) {
        return fail(o, o.file->path() + ": write failed: " + sf_strerror(o.sound));
      }
      o.result.samples += job.samples.size();
      return;
    }
    case Job::Kind::kFinish:
      return close(job.id, true, "");
    case Job::Kind::kAbort:
      // A recording dropped before its begin() was queued has nothing open: it is reported all the same.
      if (!open_.count(job.id)) {
        open_[job.id] = std::make_unique<Open>();
        open_[job.id]->result.id = job.id;
        open_[job.id]->result.file = job.file;
      }
      return close(job.id, false, job.text);
  }
}

// libsndfile does not report every write the disk refused (the FLAC encoder's last frame and the
// header rewritten at close): the temporary is read back, and must hold every sample sent.
std::string RecordingWriter::check_complete(const Open& o) {
  const std::string what = o.file->path() + ": incomplete on disk (the disk refused part of it)";
  if (::lseek(o.file->fd(), 0, SEEK_SET) != 0) return what;
  SF_INFO info{};
  SNDFILE* back = sf_open_fd(o.file->fd(), SFM_READ, &info, SF_FALSE);
  if (!back) return what + ": " + sf_strerror(nullptr);
  sf_close(back);
  if (info.frames != static_cast<sf_count_t>(o.result.samples)) {
    return what + ": " + std::to_string(info.frames) + " of " + std::to_string(o.result.samples) + " samples";
  }
  return "";
}

void RecordingWriter::close(uint64_t id, bool keep, const std::string& reason) {
  const auto it = open_.find(id);
  if (it == open_.end()) return;
  std::unique_ptr<Open> open = std::move(it->second);
  open_.erase(it);
  Open& o = *open;
  if (!keep) fail(o, reason);
  if (!o.failed && o.result.samples == 0) fail(o, "no audio to record (no pre-roll, post-roll or event audio)");
  if (!o.failed) {
    const int closed = sf_close(o.sound);
    o.sound = nullptr;
    if (closed != 0) {
      fail(o, o.file->path() + ": write failed: " + sf_error_number(closed));
    } else if (const std::string damage = check_complete(o); !damage.empty()) {
      fail(o, damage);
    } else {
      try {
        o.file->commit(0640, AtomicFile::Replace::kNever);
        o.result.written = true;
        std::error_code ec;
        const auto bytes = fs::file_size(o.file->path(), ec);
        o.result.bytes = ec ? 0 : bytes;
      } catch (const std::exception& e) {
        fail(o, e.what());
      }
    }
  }
  {
    std::lock_guard lock(mutex_);
    Counters& c = counters_;
    if (o.result.written) {
      ++c.written;
      c.bytes_written += o.result.bytes;
    } else if (!keep) {
      ++c.dropped;
      c.last_error = o.result.error;
    } else {
      ++c.failed;
      c.last_error = o.result.error;
    }
    results_.push_back(o.result);
  }
  if (o.result.written && failing_) {
    spdlog::info("recordings: writing again ({})", o.result.file);
    failing_ = false;
  } else if (!o.result.written && !failing_) {
    // Once per streak of failures: a full disk would otherwise log every event.
    spdlog::error("recordings: {} not written: {} (escd goes on; esc.health counts the failures)", o.result.file,
                  o.result.error);
    failing_ = true;
  }
  if (o.result.written) apply_retention(false);
}

void RecordingWriter::apply_retention(bool at_start) {
  RetentionResult r;
  try {
    r = enforce_retention(directory_, limits_, fs::file_time_type::clock::now(), at_start);
  } catch (const std::exception& e) {  // out of memory listing a huge directory: try again after the next file
    r.error = e.what();
  }
  if (at_start && r.leftovers > 0) spdlog::info("recordings: removed {} unfinished file(s) of an earlier run", r.leftovers);
  if (!r.error.empty()) spdlog::warn("recordings: retention: {}", r.error);
  std::lock_guard lock(mutex_);
  counters_.deleted += r.deleted;
  counters_.kept_files = r.kept_files;
  counters_.kept_bytes = r.kept_bytes;
}

}  // namespace escd::daemon
