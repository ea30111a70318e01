#include "audio/raw_pcm_source.h"

#include <fcntl.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iterator>
#include <stdexcept>

#include "audio/sample_guard.h"

namespace escd {
namespace {

using Clock = std::chrono::steady_clock;

// Samples are assembled from bytes rather than reinterpreted, so the stream is little-endian on any host.
uint32_t le32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

float s16le_sample(const uint8_t* p) {
  const auto v = static_cast<int16_t>(static_cast<uint16_t>(p[0] | (p[1] << 8)));
  return static_cast<float>(v) / 32768.0f;
}
// The first three bytes only: S24_LE's fourth byte (padding, or a copy of the sign) is not read.
float s24_sample(const uint8_t* p) {
  const uint32_t bits = uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16);
  const int32_t v = static_cast<int32_t>(bits ^ 0x800000u) - 0x800000;  // sign-extends bit 23
  return static_cast<float>(v) / 8388608.0f;
}
float s32le_sample(const uint8_t* p) { return static_cast<float>(static_cast<int32_t>(le32(p))) / 2147483648.0f; }
float f32le_sample(const uint8_t* p) {
  const uint32_t bits = le32(p);
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

struct FormatInfo {
  PcmFormat format;
  const char* name;
  const char* arecord_name;  // arecord -f NAME gives this layout
  size_t bytes;              // per sample
  float (*decode)(const uint8_t*);
};

constexpr FormatInfo kFormats[] = {
    {PcmFormat::S16LE, "s16le", "S16_LE", 2, s16le_sample},
    {PcmFormat::S24LE, "s24_le", "S24_LE", 4, s24_sample},
    {PcmFormat::S24_3LE, "s24_3le", "S24_3LE", 3, s24_sample},
    {PcmFormat::S32LE, "s32le", "S32_LE", 4, s32le_sample},
    {PcmFormat::F32LE, "f32le", "FLOAT_LE", 4, f32le_sample},
};

const FormatInfo& format_info(PcmFormat format) {
  for (const FormatInfo& f : kFormats) {
    if (f.format == format) return f;
  }
  throw std::logic_error("raw PCM: a format without an entry in kFormats");
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "s16le, s24_le, ... or f32le (or arecord's names: S16_LE, ...)", for the error messages.
std::string format_choices() {
  std::string ours, arecord;
  for (const FormatInfo& f : kFormats) {
    const bool last = &f == &kFormats[std::size(kFormats) - 1];
    ours += std::string(ours.empty() ? "" : last ? " or " : ", ") + f.name;
    arecord += std::string(arecord.empty() ? "" : ", ") + f.arecord_name;
  }
  return ours + " (or arecord's names: " + arecord + ")";
}

}  // namespace

PcmFormat parse_pcm_format(const std::string& name) {
  const std::string wanted = lower(name);
  for (const FormatInfo& f : kFormats) {
    if (wanted == f.name || wanted == lower(f.arecord_name)) return f.format;
  }
  if (wanted == "s24le") {
    throw std::invalid_argument("raw PCM format '" + name + "' is ambiguous: s24_le is 24 bits in 4-byte words (arecord "
                                "S24_LE), s24_3le is 3-byte packed samples (arecord S24_3LE, ffmpeg's s24le)");
  }
  throw std::invalid_argument("unknown raw PCM format '" + name + "': expected " + format_choices());
}

const char* pcm_format_name(PcmFormat format) { return format_info(format).name; }

size_t pcm_sample_bytes(PcmFormat format) { return format_info(format).bytes; }

RawPcmSource::RawPcmSource(PcmFormat format, int rate, int channels, int fd, std::string name)
    : format_(format), rate_(rate), channels_(channels), fd_(fd),
      frame_bytes_(pcm_sample_bytes(format) * static_cast<size_t>(std::max(channels, 1))) {
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
  const FormatInfo& format = format_info(format_);
  for (size_t i = 0; i < samples; ++i) out[at + i] = format.decode(&pending_[format.bytes * i]);
  // Integer samples are within [-1, 1] by construction; only floats can be NaN, Inf or huge.
  SampleGuardCounts guarded;
  if (format_ == PcmFormat::F32LE) guard_samples(out.data() + at, samples, guarded);
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
