// Precompiled header for escd_core: the heavy, stable headers only.
#pragma once
#include <ATen/core/Tensor.h>
#include <ATen/Functions.h>
#include <spdlog/spdlog.h>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>
