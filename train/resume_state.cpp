#include "resume_state.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <sstream>
#include <stdexcept>

#include "settings_difference.h"
#include "util/atomic_file.h"

namespace escd::train {

void save_resume_state(const std::string& path, torch::nn::Module& model, WeightEma& ema,
                       torch::optim::AdamW& optimizer, const ResumeState& state, const nlohmann::json& identity) {
  torch::serialize::OutputArchive archive;
  nlohmann::json meta = identity;
  meta["next_epoch"] = state.next_epoch;
  meta["best_val"] = state.best_val;
  meta["global_step"] = state.global_step;
  meta["ema_updates"] = ema.updates();
  archive.write("meta", c10::IValue(meta.dump()));
  for (const auto& p : model.named_parameters()) archive.write("p." + p.key(), p.value().detach());
  for (const auto& b : model.named_buffers()) archive.write("b." + b.key(), b.value(), true);
  for (size_t i = 0; i < ema.shadow().size(); ++i) archive.write("ema." + std::to_string(i), ema.shadow()[i], true);
  archive.write("rng", at::detail::getDefaultCPUGenerator().get_state(), true);
  torch::serialize::OutputArchive optim;
  optimizer.save(optim);
  archive.write("optimizer", optim);
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

ResumeState load_resume_state(const std::string& path, const std::string& bytes, torch::nn::Module& model,
                              WeightEma& ema, torch::optim::AdamW& optimizer, const nlohmann::json& identity) {
  torch::serialize::InputArchive archive;
  try {
    std::istringstream in(bytes);
    archive.load_from(in);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": unreadable resume state: " + std::string(e.what()).substr(0, 200));
  }
  c10::IValue meta_value;
  archive.read("meta", meta_value);
  const nlohmann::json meta = nlohmann::json::parse(meta_value.toStringRef());
  // Every key of the identity must match; a key the run was started without (an older esc-train's
  // state) is a difference too.
  if (const auto difference = difference_from_record(meta, identity)) {
    throw std::runtime_error(path + ": the run was started with another " + difference->name +
                             "; resume needs the same settings (was " + difference->was + ", now " + difference->now + ")");
  }
  at::NoGradGuard no_grad;
  for (auto& p : model.named_parameters()) {
    at::Tensor t;
    archive.read("p." + p.key(), t);
    p.value().copy_(t);
  }
  for (auto& b : model.named_buffers()) {
    at::Tensor t;
    archive.read("b." + b.key(), t, true);
    b.value().copy_(t);
  }
  for (size_t i = 0; i < ema.shadow().size(); ++i) {
    at::Tensor t;
    archive.read("ema." + std::to_string(i), t, true);
    ema.shadow()[i].copy_(t);
  }
  ema.set_updates(meta.at("ema_updates").get<int64_t>());
  at::Tensor rng;
  archive.read("rng", rng, true);
  at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle to the global one
  generator.set_state(rng);
  torch::serialize::InputArchive optim;
  archive.read("optimizer", optim);
  try {
    optimizer.load(optim);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": the optimiser state does not fit this build's parameter groups (written by "
                             "another version of esc-train?): " + std::string(e.what()).substr(0, 120));
  }
  ResumeState state;
  state.next_epoch = meta.at("next_epoch").get<int>();
  state.best_val = meta.at("best_val").get<double>();
  state.global_step = meta.at("global_step").get<int64_t>();
  return state;
}

}  // namespace escd::train
