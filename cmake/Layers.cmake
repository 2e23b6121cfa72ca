# The layers, each a CMake target that sees only its own folders and the layers it links:
#
#   apps            train_gpu, evaluate, predict, make_dataset, bench, check_mnist
#   locdet_models   models/ (backbones, heads, localizer/, detector/, trainers, predictors)
#   locdet_digits   models/digits/ (MNIST, scenes and presets, label formats, digit metrics)
#   locdet_engine   engine/ (tensor, graph, autodiff, planner, executor + backends, optimizers,
#                   checkpoints, training loop, images, COCO mAP)
#   locdet_kernels_cpu / locdet_kernels_cuda   kernels/cpu, kernels/cuda
#   locdet_kernels_common                      kernels/common (host + device math, headers)
#   locdet_base     kernels/base (errors, device, atomic files, NVTX, OpenMP defaults)
#
# A layer's include root (build/layers/NAME) holds links to its own folders only, and a target
# gets the roots of the layers it links, so `#include "engine/graph.h"` in kernels/cpu fails to
# compile: the build, not a convention, keeps every include pointing down.
#
# locdet_layer(NAME [INTERFACE] DIRS dir... [SOURCE_GLOBS glob...] [LINKS target...])
#   DIRS          folders (relative to the project root) this layer owns and exposes
#   SOURCE_GLOBS  its sources (default: *.cpp and *.cu under each of DIRS, recursively)
function(locdet_layer name)
  cmake_parse_arguments(L "INTERFACE" "" "DIRS;SOURCE_GLOBS;LINKS" ${ARGN})
  set(root ${CMAKE_BINARY_DIR}/layers/${name})
  foreach(dir ${L_DIRS})
    get_filename_component(parent ${root}/${dir} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${dir} ${root}/${dir} SYMBOLIC)
  endforeach()
  if(L_INTERFACE)
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${root})
    target_link_libraries(${name} INTERFACE ${L_LINKS})
    return()
  endif()
  set(globs ${L_SOURCE_GLOBS})
  if(NOT globs)
    foreach(dir ${L_DIRS})
      list(APPEND globs ${dir}/*.cpp ${dir}/*.cu)
    endforeach()
    file(GLOB_RECURSE sources CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR} ${globs})
  else()
    file(GLOB sources CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR} ${globs})
  endif()
  list(TRANSFORM sources PREPEND ${PROJECT_SOURCE_DIR}/)
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PUBLIC ${root})
  target_link_libraries(${name} PUBLIC ${L_LINKS})
  locdet_set_warnings(${name})
endfunction()

# locdet_cuda_as_cxx(file.cu ...): in the CUDA emulation, .cu sources are C++ for the host compiler.
function(locdet_cuda_as_cxx)
  set_source_files_properties(${ARGN} PROPERTIES LANGUAGE CXX COMPILE_OPTIONS "-x;c++")
endfunction()
