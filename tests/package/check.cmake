# ctest driver: builds and runs tests/package/consumer against hosm.
#   -DMODE=find_package      install hosm into a scratch prefix, then find_package it
#   -DMODE=add_subdirectory  add hosm's source tree as a subproject
# Inputs: SRC (hosm source dir), WORK (scratch dir), GENERATOR.
file(REMOVE_RECURSE "${WORK}")
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
endfunction()
set(consumer_args -DHOSM_CONSUME=${MODE} -DHOSM_SOURCE_DIR=${SRC})
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} -S ${SRC} -B ${WORK}/hosm-build -G ${GENERATOR} -DHOSM_BUILD_TESTS=OFF
      -DHOSM_BUILD_EXAMPLES=OFF -DHOSM_BUILD_BENCH=OFF -DHOSM_ENABLE_CUDA=OFF
      -DCMAKE_INSTALL_PREFIX=${WORK}/prefix)
  run(${CMAKE_COMMAND} --install ${WORK}/hosm-build)
  list(APPEND consumer_args -DCMAKE_PREFIX_PATH=${WORK}/prefix)
endif()
run(${CMAKE_COMMAND} -S ${SRC}/tests/package/consumer -B ${WORK}/consumer-build -G ${GENERATOR}
    ${consumer_args})
run(${CMAKE_COMMAND} --build ${WORK}/consumer-build)
run(${WORK}/consumer-build/consumer)
message(STATUS "hosm consumed by ${MODE}: ok")
