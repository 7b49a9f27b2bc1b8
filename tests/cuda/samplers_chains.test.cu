// samplers/chains compiled by nvcc with the CUDA back end.
#include "samplers/chains.test.cpp"
