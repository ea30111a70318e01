#include "data/clip_index.h"

#include <algorithm>

namespace escd {

std::vector<size_t> clips_in_folds(const ClipIndex& index, const std::vector<int>& folds) {
  std::vector<size_t> out;
  for (size_t i = 0; i < index.clips.size(); ++i) {
    if (std::find(folds.begin(), folds.end(), index.clips[i].fold) != folds.end()) out.push_back(i);
  }
  return out;
}

}  // namespace escd
