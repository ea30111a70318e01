// The SPSC ring between the audio callback and the pipeline: order and content survive two threads
// hammering it, and when the consumer is too slow the loss is counted, never hidden.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "audio/spsc_ring.h"

namespace escd {
namespace {

TEST(SpscRing, CapacityIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(SpscRing(1).capacity(), 1u);
  EXPECT_EQ(SpscRing(1000).capacity(), 1024u);
  EXPECT_EQ(SpscRing(4096).capacity(), 4096u);
}

TEST(SpscRing, PushWritesWhatFitsAndPopReturnsItInOrderAcrossTheWrap) {
  SpscRing ring(8);
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(ring.push(a.data(), a.size()), 6u);
  float out[8];
  ASSERT_EQ(ring.pop(out, 4), 4u);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[3], 4.0f);
  // 2 left, 6 free: this push wraps past the end of the array and only 6 of 7 fit.
  const std::vector<float> b = {7, 8, 9, 10, 11, 12, 13};
  EXPECT_EQ(ring.writable(), 6u);
  EXPECT_EQ(ring.push(b.data(), b.size()), 6u);
  EXPECT_EQ(ring.size(), 8u);
  EXPECT_EQ(ring.push(b.data(), 1), 0u);  // full
  ASSERT_EQ(ring.pop(out, 8), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out[i], 5.0f + i);
  EXPECT_EQ(ring.pop(out, 8), 0u);  // empty
  EXPECT_EQ(ring.size(), 0u);
}

// One producer pushes a counting sequence in random block sizes, one consumer pops in other random
// sizes. With a producer that waits when the ring is full (the test, not the callback) nothing is
// lost; the consumer checks every value is the next one.
TEST(SpscRing, TwoThreadsKeepOrderAndLoseNothingWhenTheConsumerKeepsUp) {
  SpscRing ring(1024);
  constexpr uint32_t kTotal = 2'000'000;  // exactly representable in float (below 2^24)
  std::thread producer([&] {
    std::mt19937 rng(1);
    std::vector<float> block(700);
    uint32_t next = 0;
    while (next < kTotal) {
      const uint32_t n = std::min<uint32_t>(1 + rng() % 700, kTotal - next);
      for (uint32_t i = 0; i < n; ++i) block[i] = static_cast<float>(next + i);
      uint32_t written = 0;
      while (written < n) {
        written += static_cast<uint32_t>(ring.push(block.data() + written, n - written));
        if (written < n) std::this_thread::yield();
      }
      next += n;
    }
  });
  std::mt19937 rng(2);
  std::vector<float> out(900);
  uint32_t expected = 0;
  uint32_t mismatches = 0;
  while (expected < kTotal) {
    const size_t got = ring.pop(out.data(), 1 + rng() % 900);
    for (size_t i = 0; i < got; ++i, ++expected) mismatches += out[i] != static_cast<float>(expected);
    if (got == 0) std::this_thread::yield();
  }
  producer.join();
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(ring.size(), 0u);
}

// Like an audio callback, the producer never waits: what does not fit is dropped and counted. The
// consumer is slow on purpose. Whatever arrives must still be in increasing order (drops are gaps,
// never reorderings), and delivered + dropped must add up to everything pushed.
TEST(SpscRing, AProducerThatNeverWaitsCountsItsDropsExactly) {
  SpscRing ring(256);
  constexpr uint32_t kTotal = 400'000;
  std::atomic<uint64_t> dropped{0};
  std::atomic<bool> done{false};
  std::thread producer([&] {
    std::vector<float> block(128);
    for (uint32_t next = 0; next < kTotal; next += 128) {
      for (uint32_t i = 0; i < 128; ++i) block[i] = static_cast<float>(next + i);
      dropped += 128 - ring.push(block.data(), 128);
    }
    done = true;
  });
  uint64_t received = 0;
  float last = -1.0f;
  bool ordered = true;
  std::vector<float> out(64);
  for (;;) {
    const bool finished = done.load();  // read before popping: nothing can arrive after this pop
    const size_t got = ring.pop(out.data(), out.size());
    for (size_t i = 0; i < got; ++i) {
      ordered &= out[i] > last;
      last = out[i];
    }
    received += got;
    if (got == 0 && finished) break;
    if (received % 4096 < 64) std::this_thread::sleep_for(std::chrono::microseconds(50));  // slow consumer
  }
  producer.join();
  EXPECT_TRUE(ordered);
  EXPECT_GT(dropped.load(), 0u) << "the consumer was meant to be too slow";
  EXPECT_EQ(received + dropped.load(), kTotal);
}

}  // namespace
}  // namespace escd
