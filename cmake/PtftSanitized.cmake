# AddressSanitizer + UndefinedBehaviorSanitizer builds inside the normal build tree, so that CI
# runs them (issue 21, item 2; CTest label `sanitize`):
#   ptft_base_sanitized            the torch-free library's sources (every parser of outside data:
#                                  tokenizers, safetensors, GGUF, Jinja, JSONL/YAML, images, IDX,
#                                  serve's HTTP layer) compiled with the sanitizers (objects);
#   ptft_base_tests_sanitized      its unit tests over those objects (tests/CMakeLists.txt);
#   ptft-sanitized                 the real binary with that half instrumented; the torch half
#                                  (models, training) links the normal objects, as libtorch is
#                                  not instrumented either (scripts/sanitize.sh --all covers it).
# Each links the instrumented objects directly, ahead of the libptft_base.a archive that comes
# with the libraries' usage requirements: no member of that archive is then ever pulled, and
# every symbol has one, instrumented, definition.
include_guard(GLOBAL)
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  message(STATUS "ptft: the sanitized targets need g++ or clang++; skipped")
  return()
endif()

# -O0: half the build time of -O1 (174 vs 314 s cold on 2 cores, which keeps CI in its budget),
# the same checks; the tests then take ~65 s instead of ~40. -Wno-maybe-uninitialized: g++ 12 warns
# inside <regex> and <functional> under ASan when optimising (false positives).
set(PTFT_SANITIZER_COMPILE_OPTIONS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
    -O0 -g1 -Wno-maybe-uninitialized)
set(PTFT_SANITIZER_LINK_OPTIONS -fsanitize=address,undefined)
# halt_on_error: the first report fails the process; leaks are reported at exit.
set(PTFT_SANITIZER_ENV "ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

ptft_base_library(ptft_base_sanitized OBJECT)
target_compile_options(ptft_base_sanitized PRIVATE ${PTFT_SANITIZER_COMPILE_OPTIONS})

add_executable(ptft_sanitized $<TARGET_OBJECTS:ptft_base_sanitized> $<TARGET_OBJECTS:ptft_app>)
set_target_properties(ptft_sanitized PROPERTIES OUTPUT_NAME ptft-sanitized)
target_link_libraries(ptft_sanitized PRIVATE ptft CLI11::CLI11)
target_link_options(ptft_sanitized PRIVATE ${PTFT_SANITIZER_LINK_OPTIONS})
