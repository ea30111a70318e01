// Precompiled header for escd's libraries: the heavy, stable headers only (libtorch's take ~20 s
// to parse per translation unit).
#pragma once
#include <ATen/core/Tensor.h>
#include <ATen/Functions.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
