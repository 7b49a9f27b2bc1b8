// targets/gaussian compiled by nvcc with the CUDA back end.
#include "targets/gaussian.test.cpp"
