# Which c10d backends src/dist/process_group.cpp can use (see CMakeLists.txt).
#   gloo: the CPU backend; its headers (gloo/algorithm.h) come with Debian's libgloo-dev, or with
#         a PyTorch install's include directory.
#   nccl: the CUDA backend; only with a CUDA libtorch and nccl.h (PTFT_NCCL_INCLUDE_DIR, else
#         searched in the CUDA toolkit and a PyTorch install's site-packages/nvidia/nccl).
set(PTFT_DIST_SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/src/dist/process_group.cpp)
set(PTFT_DIST_DEFINITIONS "")
set(PTFT_DIST_INCLUDES "")

find_path(PTFT_GLOO_INCLUDE_DIR gloo/algorithm.h HINTS ${TORCH_INCLUDE_DIRS}
          DOC "gloo headers (Debian: libgloo-dev)")
if(PTFT_GLOO_INCLUDE_DIR)
  list(APPEND PTFT_DIST_DEFINITIONS USE_C10D_GLOO)
  list(APPEND PTFT_DIST_INCLUDES ${PTFT_GLOO_INCLUDE_DIR})
  set(PTFT_HAVE_GLOO ON)
else()
  message(WARNING "gloo headers not found: data-parallel training on the CPU is disabled "
                  "(install libgloo-dev, scripts/setup.sh)")
  set(PTFT_HAVE_GLOO OFF)
endif()

set(PTFT_HAVE_NCCL OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(_nccl_hints ${TORCH_INCLUDE_DIRS} ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  foreach(dir ${TORCH_INCLUDE_DIRS})
    # <site-packages>/torch/include -> <site-packages>/nvidia/nccl/include
    list(APPEND _nccl_hints ${dir}/../../nvidia/nccl/include)
  endforeach()
  find_path(PTFT_NCCL_INCLUDE_DIR nccl.h HINTS ${_nccl_hints} DOC "nccl.h for the c10d NCCL backend")
  if(PTFT_NCCL_INCLUDE_DIR)
    list(APPEND PTFT_DIST_DEFINITIONS USE_C10D_NCCL)
    list(APPEND PTFT_DIST_INCLUDES ${PTFT_NCCL_INCLUDE_DIR})
    set(PTFT_HAVE_NCCL ON)
  else()
    message(WARNING "CUDA libtorch without nccl.h: data-parallel training on CUDA is disabled "
                    "(set PTFT_NCCL_INCLUDE_DIR)")
  endif()
endif()

# (The compiler's own directories, /usr/include, stay out: named again they break #include_next.)
list(REMOVE_ITEM PTFT_DIST_INCLUDES ${CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES} /usr/include)
# Its own definitions: kept out of the precompiled header's compilation.
set_source_files_properties(${PTFT_DIST_SOURCE} PROPERTIES
  COMPILE_DEFINITIONS "${PTFT_DIST_DEFINITIONS}"
  INCLUDE_DIRECTORIES "${PTFT_DIST_INCLUDES}"
  SKIP_PRECOMPILE_HEADERS ON)
# The gloo inline code in c10d's header calls into libgloo (Debian's is a shared library that
# libtorch_cpu links; a PyTorch wheel has it inside libtorch_cpu).
if(PTFT_HAVE_GLOO)
  find_library(PTFT_GLOO_LIBRARY gloo HINTS ${TORCH_INSTALL_PREFIX}/lib)
  if(PTFT_GLOO_LIBRARY)
    target_link_libraries(ptft PRIVATE ${PTFT_GLOO_LIBRARY})
  endif()
endif()
message(STATUS "ptft data-parallel backends: gloo ${PTFT_HAVE_GLOO}, nccl ${PTFT_HAVE_NCCL}")
