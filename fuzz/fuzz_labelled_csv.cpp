// A user's CSV of file,label[,fold] as esc-train reads it (libcsv, the column and field checks, the
// files' headers, classes and folds). The CSV lives in /dev/shm beside two short WAV files and a
// file that is not audio, so that rows naming them get past the lookup. Accepted outcomes: an index
// whose every clip has a fold 1..5 and a class that names it, every class with two files or more,
// or a DatasetError.
#include <sndfile.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "data/dataset_reader.h"

namespace {

std::string make_dataset_dir() {
  namespace fs = std::filesystem;
  const fs::path root = fs::path("/dev/shm") / ("escd-fuzz-labelled-" + std::to_string(getpid()));
  fs::create_directories(root);
  const std::vector<short> samples(1600, 1000);
  for (const char* name : {"a.wav", "b.wav"}) {
    SF_INFO info{};
    info.samplerate = 16000;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* f = sf_open((root / name).c_str(), SFM_WRITE, &info);
    if (f == nullptr) std::abort();
    sf_write_short(f, samples.data(), static_cast<sf_count_t>(samples.size()));
    sf_close(f);
  }
  std::ofstream(root / "c.txt") << "not audio";
  return root.string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string root = make_dataset_dir();
  const std::string csv = root + "/labels.csv";
  {
    std::ofstream out(csv, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const escd::ClipIndex index = escd::read_dataset(csv);
    std::map<int, int> per_class;
    for (const auto& clip : index.clips) {
      if (clip.fold < 1 || clip.fold > 5 || clip.target < 0 || clip.target >= static_cast<int>(index.class_names.size())) {
        std::abort();
      }
      if (index.class_names[clip.target] != clip.category) std::abort();
      ++per_class[clip.target];
    }
    if (index.class_names.size() < 2) std::abort();
    for (const auto& [target, n] : per_class) {
      if (n < 2) std::abort();
    }
  } catch (const escd::DatasetError&) {
  }
  return 0;
}
