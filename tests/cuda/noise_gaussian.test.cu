// noise/gaussian compiled by nvcc with the CUDA back end.
#include "noise/gaussian.test.cpp"
