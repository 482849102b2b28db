# Use ccache when it is installed: rebuilds on CI and after `git checkout` are then cheap.
# The sloppiness settings let ccache hit for sources compiled with a precompiled header.
find_program(PTFT_CCACHE ccache)
if(PTFT_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      # Paths under the source tree become relative: a fresh clone elsewhere (CI) still hits.
      "CCACHE_BASEDIR=${CMAKE_SOURCE_DIR}"
      ${PTFT_CCACHE})
  message(STATUS "ptft: using ccache (${PTFT_CCACHE})")
endif()
