# Target helpers: every folder library and test binary is declared through these two functions,
# so warnings, the torch precompiled header and include roots are set in one place.
#
#   abq_library(NAME SOURCES a.cpp b.cpp DEPS abq_core ... [TORCH])
#   abq_test(NAME SOURCES x_test.cpp DEPS abq_config ... [LABELS unit] [TORCH] [PROPERTIES ctest properties ...])

set(ABQ_WARNINGS -Wall -Wextra -Wno-unused-parameter)

# One precompiled header for every target that uses LibTorch. The first torch target owns it;
# the others reuse it (identical flags are required, hence the shared helper).
function(_abq_torch_pch target)
  if(NOT TARGET abq_torch_pch)
    add_library(abq_torch_pch STATIC ${PROJECT_SOURCE_DIR}/framework/core/torch_pch.cpp)
    target_link_libraries(abq_torch_pch PUBLIC abq_torch)
    target_compile_options(abq_torch_pch PRIVATE ${ABQ_WARNINGS})
    target_include_directories(abq_torch_pch PUBLIC ${PROJECT_SOURCE_DIR})
    target_precompile_headers(abq_torch_pch PRIVATE ${PROJECT_SOURCE_DIR}/framework/core/torch_pch.h)
  endif()
  target_precompile_headers(${target} REUSE_FROM abq_torch_pch)
endfunction()

function(abq_library name)
  cmake_parse_arguments(ARG "TORCH" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${ABQ_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  if(ARG_TORCH)
    target_link_libraries(${name} PUBLIC abq_torch)
    _abq_torch_pch(${name})
  endif()
endfunction()

function(abq_test name)
  cmake_parse_arguments(ARG "TORCH" "" "SOURCES;DEPS;LABELS;PROPERTIES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${ABQ_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE ABQ_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(ARG_TORCH)
    target_link_libraries(${name} PRIVATE abq_torch)
    _abq_torch_pch(${name})
  endif()
  set(labels ${ARG_LABELS})
  if(NOT labels)
    set(labels unit)
  endif()
  # Scratch files go under the build tree, not /tmp: std::filesystem::temp_directory_path() and
  # ::testing::TempDir() (gtest >= 1.12, after TEST_TMPDIR) read TMPDIR; CLI runs a test starts inherit it.
  set(scratch "${PROJECT_BINARY_DIR}/test-tmp")
  file(MAKE_DIRECTORY "${scratch}")
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
                       PROPERTIES LABELS "${labels}" ENVIRONMENT "TMPDIR=${scratch}" ${ARG_PROPERTIES})
endfunction()
