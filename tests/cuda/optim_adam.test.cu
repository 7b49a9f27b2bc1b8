// optim/adam.test.cpp compiled by nvcc with the CUDA back end.
#include "optim/adam.test.cpp"
