// optim/sgd.test.cpp compiled by nvcc with the CUDA back end.
#include "optim/sgd.test.cpp"
