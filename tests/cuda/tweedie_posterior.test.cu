// tweedie/posterior.test.cpp compiled by nvcc with the CUDA back end.
#include "tweedie/posterior.test.cpp"
