// esc-train features <audio> --out <file.npy>: the [T, 128] log-mel of a file, as the models see it.
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "audio/decode.h"
#include "commands.h"
#include "features/log_mel.h"
#include "util/npy.h"

namespace escd::train {

std::function<int()> add_features_command(CLI::App& app) {
  struct Args {
    std::string input, output;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("features", "Write the log-mel features of an audio file as a .npy [T, 128]");
  cmd->add_option("input", args->input, "Audio file (WAV, FLAC, anything libsndfile reads)")->required();
  cmd->add_option("--out,-o", args->output, "Output .npy file (float32, [T, 128])")->required();
  return [args] {
    const FrontEndConfig config;
    const DecodedAudio audio = decode_audio_file(args->input, config.sample_rate);
    const std::vector<float> frames = compute_log_mel(audio.samples, config);
    const auto t = static_cast<int64_t>(config.frames_for(audio.samples.size()));
    if (t == 0) {
      spdlog::warn("{}: {} samples at {} Hz is shorter than one frame ({} samples): writing [0, {}]",
                   args->input, audio.samples.size(), config.sample_rate, config.n_fft, config.n_mels);
    }
    write_npy(args->output, frames.data(), {t, config.n_mels});
    spdlog::info("{}: {} Hz x {} ch -> {} frames -> {}", args->input, audio.source_rate, audio.source_channels, t,
                 args->output);
    return 0;
  };
}

}  // namespace escd::train
