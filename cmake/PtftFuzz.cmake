# libFuzzer targets (fuzz/), built with clang++ whatever compiler builds the rest of ptft.
#
# fuzz/ is a standalone CMake project configured with CMAKE_CXX_COMPILER=clang++ into
# ${CMAKE_BINARY_DIR}/fuzz as the ExternalProject `ptft_fuzz` (part of `all`). With tests on,
# CTest runs each fuzzer over its seed corpus for a fixed number of inputs and a fixed seed
# (50000 inputs, about 10 s on 2 cores):
#   cmake --build build --target ptft_fuzz && ctest --test-dir build -R fuzz_
# For a long run: build/fuzz/fuzz_safetensors -max_total_time=600 /tmp/corpus tests/io/fuzz_corpus
include_guard(GLOBAL)

find_program(PTFT_CLANGXX NAMES clang++ clang++-18 clang++-17 clang++-16 clang++-15 clang++-14)
if(NOT PTFT_CLANGXX)
  message(STATUS "ptft: clang++ not found; skipping the libFuzzer targets (fuzz/)")
  return()
endif()

# A clang without the libFuzzer/sanitizer runtimes (e.g. no libclang-rt-dev) would fail later,
# in the middle of the build: probe it once here instead.
set(_ptft_probe_dir ${CMAKE_BINARY_DIR}/fuzz-probe)
file(WRITE ${_ptft_probe_dir}/probe.cpp
  "#include <cstddef>\n#include <cstdint>\n"
  "extern \"C\" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n")
execute_process(
  COMMAND ${PTFT_CLANGXX} -fsanitize=fuzzer,address,undefined probe.cpp -o probe
  WORKING_DIRECTORY ${_ptft_probe_dir}
  RESULT_VARIABLE _ptft_probe_rc OUTPUT_QUIET ERROR_VARIABLE _ptft_probe_err)
if(NOT _ptft_probe_rc EQUAL 0)
  message(STATUS "ptft: ${PTFT_CLANGXX} cannot link -fsanitize=fuzzer,address,undefined; "
                 "skipping the libFuzzer targets (install libFuzzer / compiler-rt)")
  return()
endif()
message(STATUS "ptft: building libFuzzer targets with ${PTFT_CLANGXX}")

include(ExternalProject)
get_filename_component(_ptft_root ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
set(PTFT_FUZZ_DIR ${CMAKE_BINARY_DIR}/fuzz)
ExternalProject_Add(ptft_fuzz
  SOURCE_DIR ${_ptft_root}/fuzz
  BINARY_DIR ${PTFT_FUZZ_DIR}
  CMAKE_ARGS -DCMAKE_CXX_COMPILER=${PTFT_CLANGXX} -DCMAKE_BUILD_TYPE=RelWithDebInfo
  BUILD_ALWAYS ON      # the sources live outside fuzz/; let its own build decide what is stale
  INSTALL_COMMAND ""
  BUILD_BYPRODUCTS ${PTFT_FUZZ_DIR}/fuzz_safetensors ${PTFT_FUZZ_DIR}/fuzz_jinja ${PTFT_FUZZ_DIR}/fuzz_gguf
                   ${PTFT_FUZZ_DIR}/fuzz_serve_request ${PTFT_FUZZ_DIR}/fuzz_tokenizer_json
                   ${PTFT_FUZZ_DIR}/fuzz_gguf_tokenizer ${PTFT_FUZZ_DIR}/fuzz_gpt2_vocab
                   ${PTFT_FUZZ_DIR}/fuzz_wordpiece_vocab ${PTFT_FUZZ_DIR}/fuzz_config_yaml
                   ${PTFT_FUZZ_DIR}/fuzz_image_decode ${PTFT_FUZZ_DIR}/fuzz_idx ${PTFT_FUZZ_DIR}/fuzz_jsonl_rows
                   ${PTFT_FUZZ_DIR}/fuzz_yolo ${PTFT_FUZZ_DIR}/fuzz_sentencepiece ${PTFT_FUZZ_DIR}/fuzz_http_framing
  USES_TERMINAL_BUILD ON)

if(PTFT_BUILD_TESTS AND (BUILD_TESTING OR NOT DEFINED BUILD_TESTING))
  # ptft_fuzz_corpus_test(<test> <fuzzer> <seed corpus> <scratch suffix> <artifact prefix>)
  # libFuzzer writes new inputs into the first corpus directory: give it a scratch directory,
  # emptied each run, so the committed seeds stay untouched and runs stay reproducible.
  # An optional 6th argument: the number of inputs (default 50000; fewer for slow targets).
  function(ptft_fuzz_corpus_test test fuzzer corpus scratch_suffix artifact_prefix)
    set(runs 50000)
    if(ARGC GREATER 5)
      set(runs ${ARGV5})
    endif()
    set(scratch ${PTFT_FUZZ_DIR}/corpus-scratch${scratch_suffix})
    add_test(NAME ${test}
      COMMAND sh -c "rm -rf '${scratch}' && mkdir -p '${scratch}' && exec \"$0\" \"$@\""
              ${PTFT_FUZZ_DIR}/${fuzzer}
              -runs=${runs} -seed=1234 -max_len=4096 -timeout=10 -rss_limit_mb=2048
              -print_final_stats=1 -artifact_prefix=${PTFT_FUZZ_DIR}/${artifact_prefix}
              ${scratch} ${corpus}
      WORKING_DIRECTORY ${PTFT_FUZZ_DIR})
    set_tests_properties(${test} PROPERTIES TIMEOUT 120 LABELS fuzz)
  endfunction()
  ptft_fuzz_corpus_test(fuzz_safetensors_corpus fuzz_safetensors ${_ptft_root}/tests/io/fuzz_corpus "" crash-)
  ptft_fuzz_corpus_test(fuzz_jinja_corpus fuzz_jinja ${_ptft_root}/tests/jinja/fuzz_corpus -jinja crash-jinja-)
  ptft_fuzz_corpus_test(fuzz_gguf_corpus fuzz_gguf ${_ptft_root}/tests/io/fuzz_corpus_gguf -gguf crash-gguf-)
  ptft_fuzz_corpus_test(fuzz_serve_request_corpus fuzz_serve_request
                        ${_ptft_root}/tests/serve/fuzz_corpus_serve_request -serve crash-serve-)
  ptft_fuzz_corpus_test(fuzz_http_framing_corpus fuzz_http_framing
                        ${_ptft_root}/tests/serve/fuzz_corpus_http_framing -http-framing crash-http-framing-)
  ptft_fuzz_corpus_test(fuzz_tokenizer_json_corpus fuzz_tokenizer_json
                        ${_ptft_root}/tests/tokenizer/fuzz_corpus_tokenizer_json -tokenizer-json crash-tokenizer-json-)
  ptft_fuzz_corpus_test(fuzz_gguf_tokenizer_corpus fuzz_gguf_tokenizer
                        ${_ptft_root}/tests/tokenizer/fuzz_corpus_gguf_tokenizer -gguf-tokenizer crash-gguf-tokenizer-)
  ptft_fuzz_corpus_test(fuzz_gpt2_vocab_corpus fuzz_gpt2_vocab
                        ${_ptft_root}/tests/tokenizer/fuzz_corpus_gpt2_vocab -gpt2-vocab crash-gpt2-vocab-)
  ptft_fuzz_corpus_test(fuzz_wordpiece_vocab_corpus fuzz_wordpiece_vocab
                        ${_ptft_root}/tests/tokenizer/fuzz_corpus_wordpiece_vocab -wordpiece-vocab crash-wordpiece-vocab-)
  ptft_fuzz_corpus_test(fuzz_config_yaml_corpus fuzz_config_yaml
                        ${_ptft_root}/tests/core/fuzz_corpus_config_yaml -config-yaml crash-config-yaml- 10000)
  ptft_fuzz_corpus_test(fuzz_image_decode_corpus fuzz_image_decode
                        ${_ptft_root}/tests/data/fuzz_corpus_image_decode -image-decode crash-image-decode-)
  ptft_fuzz_corpus_test(fuzz_idx_corpus fuzz_idx ${_ptft_root}/tests/data/fuzz_corpus_idx -idx crash-idx-)
  ptft_fuzz_corpus_test(fuzz_jsonl_rows_corpus fuzz_jsonl_rows
                        ${_ptft_root}/tests/data/fuzz_corpus_jsonl_rows -jsonl-rows crash-jsonl-rows-)
  ptft_fuzz_corpus_test(fuzz_yolo_corpus fuzz_yolo ${_ptft_root}/tests/data/fuzz_corpus_yolo -yolo crash-yolo-)
  ptft_fuzz_corpus_test(fuzz_sentencepiece_corpus fuzz_sentencepiece
                        ${_ptft_root}/tests/tokenizer/fuzz_corpus_sentencepiece -sentencepiece crash-sentencepiece-)
endif()
