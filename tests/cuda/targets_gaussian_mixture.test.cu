// targets/gaussian_mixture compiled by nvcc with the CUDA back end.
#include "targets/gaussian_mixture.test.cpp"
