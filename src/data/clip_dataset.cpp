#include "data/clip_dataset.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <exception>
#include <map>
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

std::vector<float> window_of(const std::vector<float>& signal, size_t start, size_t n) {
  std::vector<float> out(n, 0.0f);
  if (start < signal.size()) {
    const size_t take = std::min(n, signal.size() - start);
    std::copy(signal.begin() + start, signal.begin() + start + take, out.begin());
  }
  return out;
}

ClipDataset load_clips(ClipIndex index, const DatasetLoadOptions& options, const std::vector<size_t>& only) {
  ClipDataset dataset;
  dataset.clip_samples = options.clip_samples;
  dataset.waveforms.resize(index.clips.size());
  std::vector<size_t> wanted = only;
  if (wanted.empty()) {
    for (size_t i = 0; i < index.clips.size(); ++i) wanted.push_back(i);
  }
  // The clips of each file together: a long recording is decoded once for all its windows.
  std::map<std::string, std::vector<size_t>> by_file;
  for (size_t i : wanted) by_file[index.clips[i].audio_path].push_back(i);
  const std::vector<std::pair<std::string, std::vector<size_t>>> todo(by_file.begin(), by_file.end());

  std::atomic<size_t> next{0};
  std::atomic<size_t> refitted{0};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (size_t k = next++; k < todo.size(); k = next++) {
      try {
        DecodedAudio audio = decode_audio_file(todo[k].first, options.sample_rate);
        for (size_t i : todo[k].second) {
          const ClipInfo& clip = index.clips[i];
          if (clip.start_sample >= 0) {
            dataset.waveforms[i] = window_of(audio.samples, static_cast<size_t>(clip.start_sample), options.clip_samples);
          } else {
            if (audio.samples.size() != options.clip_samples) ++refitted;
            dataset.waveforms[i] = fit_length(audio.samples, options.clip_samples);
          }
        }
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
