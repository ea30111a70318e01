// A lock-free single-producer/single-consumer ring of floats: the only thing an audio callback may
// touch. push() and pop() never lock, allocate or block, so a real-time thread can call them.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace escd {

class SpscRing {
 public:
  // Capacity is rounded up to a power of two so that a position maps to a slot with a mask.
  explicit SpscRing(size_t min_capacity) : capacity_(round_up_pow2(min_capacity)), mask_(capacity_ - 1),
                                           slots_(new float[capacity_]) {}
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  size_t capacity() const { return capacity_; }

  // Producer side. Writes as many of the n samples as fit and returns how many it wrote; the caller
  // counts the rest as dropped (an audio callback cannot wait for the consumer).
  size_t push(const float* data, size_t n) {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);  // only the producer writes tail
    const uint64_t head = head_.load(std::memory_order_acquire);  // slots the consumer has released
    const size_t count = std::min<size_t>(n, capacity_ - static_cast<size_t>(tail - head));
    copy_in(tail, data, count);
    tail_.store(tail + count, std::memory_order_release);  // publish the samples to the consumer
    return count;
  }

  // Producer side: how many samples push() would accept now. The consumer can only make it grow, so
  // the producer may use it to push whole frames of interleaved audio.
  size_t writable() const {
    return capacity_ - static_cast<size_t>(tail_.load(std::memory_order_relaxed) -
                                           head_.load(std::memory_order_acquire));
  }

  // Consumer side. Reads up to max samples into out; returns how many it read.
  size_t pop(float* out, size_t max) {
    const uint64_t head = head_.load(std::memory_order_relaxed);  // only the consumer writes head
    const uint64_t tail = tail_.load(std::memory_order_acquire);  // samples the producer published
    const size_t count = std::min<size_t>(max, static_cast<size_t>(tail - head));
    copy_out(head, out, count);
    head_.store(head + count, std::memory_order_release);  // hand the slots back to the producer
    return count;
  }

  // Samples waiting. Exact from either side's own point of view; a snapshot for anyone else.
  size_t size() const {
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    const uint64_t head = head_.load(std::memory_order_acquire);
    return static_cast<size_t>(tail - head);
  }

 private:
  static size_t round_up_pow2(size_t n) {
    size_t c = 1;
    while (c < n) c <<= 1;
    return c;
  }

  // Positions grow without bound (64 bits never wrap in practice), so full and empty differ without
  // sacrificing a slot; a copy that crosses the end of the array is split in two.
  void copy_in(uint64_t pos, const float* data, size_t n) {
    const size_t at = static_cast<size_t>(pos) & mask_;
    const size_t first = std::min(n, capacity_ - at);
    std::memcpy(slots_.get() + at, data, first * sizeof(float));
    std::memcpy(slots_.get(), data + first, (n - first) * sizeof(float));
  }
  void copy_out(uint64_t pos, float* out, size_t n) const {
    const size_t at = static_cast<size_t>(pos) & mask_;
    const size_t first = std::min(n, capacity_ - at);
    std::memcpy(out, slots_.get() + at, first * sizeof(float));
    std::memcpy(out + first, slots_.get(), (n - first) * sizeof(float));
  }

  const size_t capacity_;
  const size_t mask_;
  std::unique_ptr<float[]> slots_;
  // Separate cache lines: the producer writes tail_ and the consumer head_ on different cores.
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
};

}  // namespace escd
