# Fuzz targets (tests/fuzz/<name>_fuzz.cpp, each an LLVMFuzzerTestOneInput).
#
# EPMPULSE_FUZZ=ON (make fuzz; clang): each target is a libFuzzer binary
# fuzz_<name>, built with ASan and UBSan from the few sources it reaches, so a
# fuzz build compiles neither the actors nor the HTTP server.
# Otherwise (make test; g++): fuzz_replay_<name> feeds the checked-in corpus
# and regressions to the same entry point, one ctest test fuzz.<name> each.

option(EPMPULSE_FUZZ "Build the libFuzzer targets (needs clang)" OFF)

set(EPMPULSE_FUZZ_TARGETS status_body config_loader change_log epm_answer)
set(EPMPULSE_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)

if(EPMPULSE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "EPMPULSE_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  set(fuzz_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer -g -O1 -UNDEBUG)
  # What the entry points reach: request validation, the config loader, the
  # status model, the change log's records and the reading of EPM's answers.
  # The config loader and common/ are globbed like the service's own sources,
  # so a new config section cannot leave the fuzz build behind.
  file(GLOB fuzz_config_sources CONFIGURE_DEPENDS
    ${CMAKE_SOURCE_DIR}/config/*.cpp
    ${CMAKE_SOURCE_DIR}/common/*.cpp)
  add_library(epmpulse_fuzz_core STATIC
    ${fuzz_config_sources}
    ${CMAKE_SOURCE_DIR}/actors/common/json_writer.cpp
    ${CMAKE_SOURCE_DIR}/actors/state/status_model.cpp
    ${CMAKE_SOURCE_DIR}/actors/state/state_log.cpp
    ${CMAKE_SOURCE_DIR}/actors/pull/epm_status.cpp
    ${CMAKE_SOURCE_DIR}/http/status_body_reader.cpp
    ${CMAKE_SOURCE_DIR}/http/status_request.cpp)
  target_include_directories(epmpulse_fuzz_core PUBLIC ${CMAKE_SOURCE_DIR} ${DATE_INCLUDE_DIR})
  target_compile_options(epmpulse_fuzz_core PUBLIC ${fuzz_sanitizers}
    PRIVATE -fsanitize=fuzzer-no-link)
  target_link_libraries(epmpulse_fuzz_core PRIVATE date::date-tz)
  target_link_libraries(epmpulse_fuzz_core PUBLIC caf::core fmt::fmt
    nlohmann_json::nlohmann_json simdjson::simdjson)
  add_custom_target(fuzz_targets)
  foreach(name ${EPMPULSE_FUZZ_TARGETS})
    add_executable(fuzz_${name} ${EPMPULSE_FUZZ_DIR}/${name}_fuzz.cpp)
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_${name} PRIVATE epmpulse_fuzz_core)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    set_target_properties(fuzz_${name} PROPERTIES EXCLUDE_FROM_ALL ON
      RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
    add_dependencies(fuzz_targets fuzz_${name})
  endforeach()
else()
  foreach(name ${EPMPULSE_FUZZ_TARGETS})
    add_executable(fuzz_replay_${name} ${EPMPULSE_FUZZ_DIR}/${name}_fuzz.cpp
      ${EPMPULSE_FUZZ_DIR}/replay_main.cpp)
    set_target_properties(fuzz_replay_${name} PROPERTIES UNITY_BUILD OFF)
    target_link_libraries(fuzz_replay_${name} PRIVATE epmpulse_core)
    add_test(NAME fuzz.${name} COMMAND fuzz_replay_${name}
      ${EPMPULSE_FUZZ_DIR}/corpus/${name} ${EPMPULSE_FUZZ_DIR}/regressions/${name})
    set_tests_properties(fuzz.${name} PROPERTIES TIMEOUT 120)
  endforeach()
endif()
