// Anchor translation unit that owns the torch precompiled header.
#include "framework/core/torch_pch.h"
