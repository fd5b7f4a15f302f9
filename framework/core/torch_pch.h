// The precompiled header shared by every LibTorch translation unit (see cmake/AbqTargets.cmake).
#pragma once
#include <torch/torch.h>
