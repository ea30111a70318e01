#include "features/log_mel_tensor.h"

#include <ATen/Functions.h>

#include "features/log_mel.h"

namespace escd {

at::Tensor log_mel_tensor(const std::vector<float>& samples, const FrontEndConfig& config) {
  std::vector<float> frames = compute_log_mel(samples, config);
  const auto t = static_cast<int64_t>(config.frames_for(samples.size()));
  return at::from_blob(frames.data(), {t, config.n_mels}, at::kFloat).clone();
}

}  // namespace escd
