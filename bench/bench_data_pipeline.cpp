// Data pipeline throughput: ESC-50 decoding (clips/s) and augmented training batches (clips/s)
// built by the background loader, and how long a consumer that does no work waits for them.
// Usage: bench_data_pipeline [ESC-50 dir] [batches]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "data/batch_loader.h"
#include "data/clip_dataset.h"
#include "data/esc50_index.h"

using clock_type = std::chrono::steady_clock;

static double since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

int main(int argc, char** argv) {
  const char* env = std::getenv("ESC50_DIR");
  const std::string dir = argc > 1 ? argv[1] : (env ? env : "../shared/esc50");
  const int batches = argc > 2 ? std::atoi(argv[2]) : 20;

  escd::ClipDataset data;
  if (std::filesystem::exists(dir + "/meta/esc50.csv")) {
    for (int threads : {1, 2}) {
      const auto t0 = clock_type::now();
      escd::DatasetLoadOptions load;
      load.threads = threads;
      data = escd::load_clips(escd::read_esc50_index(dir), load);
      const double s = since(t0);
      std::printf("decode  %4zu clips  %d thread(s)  %6.2f s  %7.1f clips/s\n", data.waveforms.size(), threads, s,
                  data.waveforms.size() / s);
    }
  } else {
    std::printf("%s: no ESC-50 here; timing batches on 1200 synthetic clips\n", dir.c_str());
    std::mt19937 rng(1);
    std::normal_distribution<float> d(0.0f, 0.1f);
    for (int i = 0; i < 1200; ++i) {
      escd::ClipInfo clip;
      clip.target = i % 50;
      data.index.clips.push_back(clip);
      std::vector<float> w(80000);
      for (float& v : w) v = d(rng);
      data.waveforms.push_back(std::move(w));
    }
  }
  std::vector<size_t> train;
  for (size_t i = 0; i < data.index.clips.size(); ++i) {
    if (data.index.clips[i].fold == 0 || data.index.clips[i].fold <= 3) train.push_back(i);
  }
  for (double mix : {0.0, 0.5}) {
    escd::LoaderOptions options;
    options.augment = true;
    options.augment_config.mix_prob = mix;
    escd::BatchLoader loader(data, train, options);
    loader.start_epoch(0);
    const auto t0 = clock_type::now();
    int clips = 0;
    for (int b = 0; b < batches; ++b) {
      auto batch = loader.next();
      if (!batch) break;
      clips += static_cast<int>(batch->clips.size());
    }
    const double s = since(t0);
    std::printf("batches %4d clips  augment, mix_prob %.1f  %6.2f s  %7.1f clips/s  (producer busy %.2f s)\n", clips,
                mix, s, clips / s, loader.produce_seconds());
  }
  return 0;
}
