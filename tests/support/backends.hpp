// Back ends the templated test bodies run on: cpp and omp when compiled by the
// host compiler, cuda when the same source is compiled by nvcc.
#pragma once
#if defined(__CUDACC__)
#include <hosm/backend/cuda.hpp>
#define HOSM_TEST_BACKENDS hosm::backend::cuda
#else
#include <hosm/backend/cpp.hpp>
#include <hosm/backend/omp.hpp>
#define HOSM_TEST_BACKENDS hosm::backend::cpp, hosm::backend::omp
#endif
#include <doctest/doctest.h>
