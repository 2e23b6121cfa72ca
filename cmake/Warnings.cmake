# -Wall -Wextra on host code (kept at zero warnings); sanitizers on request.
function(locdet_set_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unknown-pragmas>
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --expt-relaxed-constexpr -lineinfo>)
endfunction()

if(LOCDET_SANITIZE)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=undefined>)
  add_link_options(-fsanitize=address,undefined)
endif()
if(LOCDET_TSAN)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=thread>)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Instrumented loops do not vectorize; clang then warns on every `omp simd`.
    add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wno-pass-failed>)
  endif()
  add_link_options(-fsanitize=thread)
endif()

# libFuzzer targets (tests/fuzz): clang only, CPU only. Everything is compiled with
# coverage instrumentation + ASan + UBSan; only the fuzz_* executables link libFuzzer's main.
option(LOCDET_FUZZ "Build the libFuzzer targets in tests/fuzz (clang, CPU only)" OFF)
if(LOCDET_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "LOCDET_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
                        "-DCMAKE_C_COMPILER=clang")
  endif()
  if(LOCDET_CUDA)
    message(FATAL_ERROR "LOCDET_FUZZ builds the CPU library only: add -DLOCDET_CUDA=OFF")
  endif()
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link,address,undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-Wno-pass-failed>)
  add_link_options(-fsanitize=address,undefined)
endif()

# Third-party stb_image: one benign UB class (memcpy of 0 bytes to a null pointer) is not
# checked in its translation unit; ASan still checks every access it makes.
if(LOCDET_SANITIZE OR LOCDET_FUZZ)
  set_source_files_properties(${PROJECT_SOURCE_DIR}/engine/io/stb_image_impl.cpp PROPERTIES
    COMPILE_OPTIONS -fno-sanitize=nonnull-attribute)
endif()
