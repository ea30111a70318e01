#include "audio/raw_pcm_source.h"

#include <fcntl.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "audio/sample_guard.h"

namespace escd {
namespace {

using Clock = std::chrono::steady_clock;

size_t sample_bytes(PcmFormat format) { return format == PcmFormat::S16LE ? 2 : 4; }

// Assembled from bytes rather than reinterpreted, so the stream is little-endian on any host.
float s16le_sample(const uint8_t* p) {
  const auto v = static_cast<int16_t>(static_cast<uint16_t>(p[0] | (p[1] << 8)));
  return static_cast<float>(v) / 32768.0f;
}
float f32le_sample(const uint8_t* p) {
  const uint32_t bits = uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

}  // namespace

PcmFormat parse_pcm_format(const std::string& name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "s16le") return PcmFormat::S16LE;
  if (lower == "f32le") return PcmFormat::F32LE;
  throw std::invalid_argument("unknown raw PCM format '" + name + "': expected s16le or f32le");
}

const char* pcm_format_name(PcmFormat format) { return format == PcmFormat::S16LE ? "s16le" : "f32le"; }

RawPcmSource::RawPcmSource(PcmFormat format, int rate, int channels, int fd, std::string name)
    : format_(format), rate_(rate), channels_(channels), fd_(fd),
      frame_bytes_(sample_bytes(format) * static_cast<size_t>(std::max(channels, 1))) {
  if (rate < 1 || rate > 768000) {
    throw std::invalid_argument("raw PCM on " + name + ": sample rate " + std::to_string(rate) +
                                " Hz is out of range (expected 1..768000)");
  }
  if (channels < 1 || channels > 64) {
    throw std::invalid_argument("raw PCM on " + name + ": " + std::to_string(channels) +
                                " channels is out of range (expected 1..64)");
  }
  if (pipe2(wake_pipe_, O_NONBLOCK | O_CLOEXEC) != 0) {
    throw std::runtime_error("raw PCM on " + name + ": cannot create a wake-up pipe: " + std::strerror(errno));
  }
  stats_.device = std::move(name);
}

RawPcmSource::~RawPcmSource() {
  for (int p : wake_pipe_) {
    if (p >= 0) close(p);
  }
}

size_t RawPcmSource::decode_frames(std::vector<float>& out, size_t max_frames) {
  const size_t frames = std::min(pending_.size() / frame_bytes_, max_frames);
  if (frames == 0) return 0;
  const size_t samples = frames * static_cast<size_t>(channels_);
  const size_t at = out.size();
  out.resize(at + samples);
  SampleGuardCounts guarded;
  if (format_ == PcmFormat::S16LE) {
    for (size_t i = 0; i < samples; ++i) out[at + i] = s16le_sample(&pending_[2 * i]);
  } else {
    for (size_t i = 0; i < samples; ++i) out[at + i] = f32le_sample(&pending_[4 * i]);
    guard_samples(out.data() + at, samples, guarded);
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(frames * frame_bytes_));
  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_.frames_delivered += frames;
  stats_.non_finite_replaced += guarded.non_finite;
  stats_.out_of_range_clamped += guarded.clamped;
  return frames;
}

size_t RawPcmSource::read(std::vector<float>& out, size_t max_frames, std::chrono::milliseconds timeout) {
  if (max_frames == 0) return 0;
  if (size_t frames = decode_frames(out, max_frames); frames > 0) return frames;
  if (finished_.load()) return 0;

  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    const int ready = poll(fds, 2, static_cast<int>(std::max<long long>(left, 0)));
    if (ready < 0 && errno != EINTR) {
      std::lock_guard<std::mutex> lock(stats_mutex_);
      stats_.last_error = stats_.device + ": poll failed: " + std::strerror(errno);
      finished_.store(true);
      return 0;
    }
    if (fds[1].revents & POLLIN) {
      char drain[64];
      while (::read(wake_pipe_[0], drain, sizeof drain) > 0) {
      }
      return 0;
    }
    if (ready > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      // pending_ holds less than a frame here (whole frames were delivered above). Read up to the
      // frames asked for; a part of a frame that comes with them waits in pending_ for the next read.
      const size_t have = pending_.size();
      pending_.resize(max_frames * frame_bytes_);
      const ssize_t got = ::read(fd_, pending_.data() + have, pending_.size() - have);
      pending_.resize(have + static_cast<size_t>(std::max<ssize_t>(got, 0)));
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        std::lock_guard<std::mutex> lock(stats_mutex_);
        if (got < 0) {
          stats_.last_error = stats_.device + ": read failed: " + std::strerror(errno);
        } else if (!pending_.empty()) {
          stats_.last_error = stats_.device + ": input ended inside a frame; " + std::to_string(pending_.size()) +
                              " trailing bytes ignored (" + std::to_string(frame_bytes_) + " bytes per frame)";
        }
        finished_.store(true);
        return 0;
      }
      if (size_t frames = decode_frames(out, max_frames); frames > 0) return frames;
    }
    if (Clock::now() >= deadline) return 0;
  }
}

SourceStats RawPcmSource::stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return stats_;
}

void RawPcmSource::interrupt() {
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = write(wake_pipe_[1], &byte, 1);
}

}  // namespace escd
