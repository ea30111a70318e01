// Seeds for fuzz_checkpoint and fuzz_checkpoint_meta: the smallest models of each architecture
// saved as real checkpoints (a few kB, so that libFuzzer can mutate them whole), and their
// metadata records. Usage: make_checkpoint_seeds <fuzz/corpus directory>
#include <torch/serialize/input-archive.h>

#include <fstream>
#include <iostream>
#include <string>

#include "models/common/checkpoint.h"
#include "models/common/registry.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_checkpoint_seeds <fuzz/corpus directory>\n";
    return 2;
  }
  const std::string corpus = argv[1];
  torch::manual_seed(0);
  const nlohmann::json tiny = {
      {"mamba", {{"d_model", 4}, {"n_layers", 1}, {"d_state", 2}, {"expand", 1}}},
      {"liquid_s4", {{"d_model", 4}, {"n_layers", 1}, {"d_state", 2}}},
  };
  for (const auto& [architecture, hyperparameters] : tiny.items()) {
    const auto model = escd::create_model(architecture, hyperparameters, /*n_mels=*/4, /*n_classes=*/3);
    escd::FrontEndConfig front_end;
    front_end.n_mels = 4;  // as the model expects
    const std::string ckpt = corpus + "/fuzz_checkpoint/" + architecture + ".ckpt";
    escd::save_checkpoint(ckpt, *model, front_end, {"dog", "rain", "siren"}, {{"epoch", 1}});
    torch::serialize::InputArchive archive;
    archive.load_from(ckpt);
    c10::IValue meta;
    archive.read("escd_meta", meta);
    std::ofstream(corpus + "/fuzz_checkpoint_meta/" + architecture + ".json") << meta.toStringRef();
    std::cout << ckpt << "\n";
  }
  return 0;
}
