# Every external dependency is found here, once.
find_package(Threads REQUIRED)
find_package(Torch REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(HDF5 REQUIRED COMPONENTS C CXX)
find_package(Eigen3 REQUIRED NO_MODULE)
find_package(Boost REQUIRED COMPONENTS program_options)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
if(ABQ_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()

# Torch's exported flags carry the C++ ABI define; a plain INTERFACE target keeps them in one place.
add_library(abq_torch INTERFACE)
target_link_libraries(abq_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(abq_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
separate_arguments(ABQ_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(abq_torch INTERFACE ${ABQ_TORCH_CXX_FLAGS})
# Debian's libblas.so.3 is OpenBLAS on its own pthread pool by default; LibTorch's loops run on
# OpenMP, and two pools on the same cores fight (framework/pipeline/cpu_threads.h). Where the
# OpenMP build of OpenBLAS is installed, every binary that links LibTorch loads it first: an
# executable's DT_RPATH (not RUNPATH) also serves the libraries it loads, libtorch_cpu included.
set(ABQ_OPENBLAS_OPENMP_DIR "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp")
if(EXISTS "${ABQ_OPENBLAS_OPENMP_DIR}/libblas.so.3")
  target_link_options(abq_torch INTERFACE "LINKER:--disable-new-dtags" "LINKER:-rpath,${ABQ_OPENBLAS_OPENMP_DIR}")
  set(ABQ_BLAS_NOTE "OpenBLAS on OpenMP (${ABQ_OPENBLAS_OPENMP_DIR})")
else()
  set(ABQ_BLAS_NOTE "system libblas.so.3 (install libopenblas0-openmp for one shared thread pool)")
endif()

add_library(abq_hdf5 INTERFACE)
target_include_directories(abq_hdf5 SYSTEM INTERFACE ${HDF5_INCLUDE_DIRS})
target_link_libraries(abq_hdf5 INTERFACE ${HDF5_CXX_LIBRARIES} ${HDF5_LIBRARIES})
target_compile_definitions(abq_hdf5 INTERFACE ${HDF5_DEFINITIONS})

# CUDA is optional: a CUDA compiler enables kernels/, a CUDA LibTorch enables device: cuda.
include(CheckLanguage)
check_language(CUDA)
set(ABQ_HAVE_CUDA_COMPILER OFF)
if(CMAKE_CUDA_COMPILER AND ABQ_BUILD_KERNELS)
  set(ABQ_HAVE_CUDA_COMPILER ON)
endif()
set(ABQ_TORCH_HAS_CUDA OFF)
if(TORCH_CUDA_LIBRARIES OR CAFFE2_USE_CUDA)
  set(ABQ_TORCH_HAS_CUDA ON)
endif()
