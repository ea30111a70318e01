#include "data/esc50_dataset.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "audio/decode.h"

namespace escd {

std::vector<float> fit_length(std::vector<float> signal, size_t n) {
  if (signal.size() == n) return signal;
  std::vector<float> out(n, 0.0f);
  if (signal.size() > n) {
    const size_t start = (signal.size() - n) / 2;
    std::copy(signal.begin() + start, signal.begin() + start + n, out.begin());
  } else {
    std::copy(signal.begin(), signal.end(), out.begin() + (n - signal.size()) / 2);
  }
  return out;
}

Esc50Dataset load_esc50(Esc50Index index, const DatasetLoadOptions& options, const std::vector<size_t>& only) {
  Esc50Dataset dataset;
  dataset.clip_samples = options.clip_samples;
  dataset.waveforms.resize(index.clips.size());
  std::vector<size_t> todo = only;
  if (todo.empty()) {
    for (size_t i = 0; i < index.clips.size(); ++i) todo.push_back(i);
  }

  std::atomic<size_t> next{0};
  std::atomic<size_t> refitted{0};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (size_t k = next++; k < todo.size(); k = next++) {
      const ClipInfo& clip = index.clips[todo[k]];
      try {
        DecodedAudio audio = decode_audio_file(clip.audio_path, options.sample_rate);
        if (audio.samples.size() != options.clip_samples) ++refitted;
        dataset.waveforms[todo[k]] = fit_length(std::move(audio.samples), options.clip_samples);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        next = todo.size();  // stop the other workers early
      }
    }
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < std::max(1, options.threads); ++t) workers.emplace_back(worker);
  for (auto& w : workers) w.join();
  if (first_error) std::rethrow_exception(first_error);
  if (refitted > 0) {
    spdlog::info("{} clip(s) were not {} samples long and were padded or cropped", refitted.load(),
                 options.clip_samples);
  }
  dataset.index = std::move(index);
  return dataset;
}

}  // namespace escd
