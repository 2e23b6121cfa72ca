# Every third-party dependency comes in as an imported target; all come from Debian
# packages (tools/bootstrap.sh installs them) or the CUDA toolkit.
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)

if(LOCDET_STATIC_DEPS)
  set(BLA_STATIC ON)
endif()
set(BLA_VENDOR OpenBLAS)
find_package(BLAS REQUIRED)

find_path(STB_INCLUDE_DIR stb_image_write.h PATH_SUFFIXES stb REQUIRED
  HINTS /usr/include/stb)

# What each layer brings in (CMakeLists.txt links them to the layers).
add_library(locdet_base_deps INTERFACE)
add_library(locdet::base_deps ALIAS locdet_base_deps)
target_link_libraries(locdet_base_deps INTERFACE Threads::Threads)

add_library(locdet_cpu_kernel_deps INTERFACE)
add_library(locdet::cpu_kernel_deps ALIAS locdet_cpu_kernel_deps)
target_link_libraries(locdet_cpu_kernel_deps INTERFACE OpenMP::OpenMP_CXX ${BLAS_LIBRARIES})
if(LOCDET_STATIC_DEPS)
  target_link_libraries(locdet_cpu_kernel_deps INTERFACE gfortran)
endif()

add_library(locdet_engine_deps INTERFACE)
add_library(locdet::engine_deps ALIAS locdet_engine_deps)
target_include_directories(locdet_engine_deps SYSTEM INTERFACE ${STB_INCLUDE_DIR})
target_link_libraries(locdet_engine_deps INTERFACE nlohmann_json::nlohmann_json)

if(LOCDET_ONEDNN)
  # oneDNN 2.x from Debian (libdnnl-dev). Not find_package(dnnl): Debian's package config
  # requires the OpenCL headers for the GPU runtime we do not use.
  find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp)
  find_library(DNNL_LIBRARY dnnl)
  if(NOT DNNL_INCLUDE_DIR OR NOT DNNL_LIBRARY)
    message(FATAL_ERROR "oneDNN not found: install libdnnl-dev (tools/bootstrap.sh does), or configure with "
                        "-DLOCDET_ONEDNN=OFF to run CPU convolutions on the im2col reference only")
  endif()
  message(STATUS "oneDNN: ${DNNL_LIBRARY}")
  add_library(locdet_onednn INTERFACE)
  add_library(locdet::onednn ALIAS locdet_onednn)
  target_include_directories(locdet_onednn SYSTEM INTERFACE ${DNNL_INCLUDE_DIR})
  target_link_libraries(locdet_onednn INTERFACE ${DNNL_LIBRARY})
endif()

if(LOCDET_CUDA)
  find_package(CUDAToolkit REQUIRED)
  # cuDNN ships with the CUDA install here; on GPU hosts it may come from a Python wheel
  # (nvidia-cudnn): point CUDNN_ROOT at it, or rely on LD_LIBRARY_PATH at run time.
  find_path(CUDNN_INCLUDE_DIR cudnn.h
    HINTS ${CUDNN_ROOT} $ENV{CUDNN_ROOT} ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include REQUIRED)
  find_library(CUDNN_LIBRARY cudnn
    HINTS ${CUDNN_ROOT} $ENV{CUDNN_ROOT} ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}
    PATH_SUFFIXES lib lib64 REQUIRED)
  message(STATUS "cuDNN: ${CUDNN_LIBRARY}")
  # The base layer asks the CUDA runtime for devices and marks NVTX ranges; the CUDA kernels
  # add cuBLAS and cuDNN.
  target_link_libraries(locdet_base_deps INTERFACE CUDA::cudart)
  if(TARGET CUDA::nvtx3)
    target_link_libraries(locdet_base_deps INTERFACE CUDA::nvtx3)
  endif()
  add_library(locdet_cuda_kernel_deps INTERFACE)
  add_library(locdet::cuda_kernel_deps ALIAS locdet_cuda_kernel_deps)
  target_include_directories(locdet_cuda_kernel_deps SYSTEM INTERFACE ${CUDNN_INCLUDE_DIR})
  target_link_libraries(locdet_cuda_kernel_deps INTERFACE CUDA::cublas ${CUDNN_LIBRARY})
endif()

find_package(GTest REQUIRED)

if(LOCDET_CUDA_EMULATION)
  # Fibers for the threads of an emulated CUDA block (kernels/cuda/emu/scheduler.cpp).
  find_package(Boost 1.74 REQUIRED COMPONENTS context)
endif()
