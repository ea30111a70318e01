// ESC-50's meta/esc50.csv as esc-train reads it (libcsv plus our row and field checks). The
// dataset directory lives in /dev/shm, with a few audio files present so that rows naming them
// get past the lookup. The first byte picks allow_partial and the class count. Accepted outcomes:
// an index whose every clip has a valid fold, target and class name, or a DatasetError.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/esc50_index.h"

namespace {

std::string make_dataset_dir() {
  namespace fs = std::filesystem;
  const fs::path root = fs::path("/dev/shm") / ("escd-fuzz-esc50-" + std::to_string(getpid()));
  fs::create_directories(root / "meta");
  fs::create_directories(root / "audio");
  for (const char* name : {"1-100032-A-0.wav", "1-100038-A-14.wav", "2-109505-A-21.flac", "a.wav", "b.wav"}) {
    std::ofstream(root / "audio" / name) << "x";
  }
  return root.string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string root = make_dataset_dir();
  if (size < 1) return 0;
  {
    std::ofstream csv(root + "/meta/esc50.csv", std::ios::binary | std::ios::trunc);
    csv.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  escd::Esc50IndexOptions options;
  options.allow_partial = (data[0] & 1) != 0;
  options.n_classes = 1 + (data[0] >> 1) % 50;
  try {
    const auto index = escd::read_esc50_index(root, options);
    if (index.class_names.size() != static_cast<size_t>(options.n_classes)) std::abort();
    for (const auto& clip : index.clips) {
      if (clip.fold < 1 || clip.fold > 5 || clip.target < 0 || clip.target >= options.n_classes) std::abort();
      if (index.class_names[clip.target] != clip.category) std::abort();
    }
  } catch (const escd::DatasetError&) {
  }
  return 0;
}
