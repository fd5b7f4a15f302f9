# Closing summary of optional features and how to enable each.
macro(_abq_feature on text hint)
  if(${on})
    message(STATUS "  [x] ${text}")
  else()
    message(STATUS "  [ ] ${text} -- ${hint}")
  endif()
endmacro()
message(STATUS "abqlab ${PROJECT_VERSION} (${CMAKE_BUILD_TYPE}), LibTorch ${Torch_VERSION}, BLAS: ${ABQ_BLAS_NOTE}")
_abq_feature(ABQ_TORCH_HAS_CUDA "CUDA LibTorch (device: cuda)"
  "configure with -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')")
_abq_feature(ABQ_HAVE_CUDA_COMPILER "kernels/ (arbitrary-bit GEMM)" "install the CUDA toolkit (nvcc)")
_abq_feature(CCACHE_PROGRAM "ccache" "apt-get install ccache")
_abq_feature(ABQ_BUILD_TESTS "tests" "-DABQ_BUILD_TESTS=ON")
