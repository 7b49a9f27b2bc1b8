// samplers/reverse_sde compiled by nvcc with the CUDA back end.
#include "samplers/reverse_sde.test.cpp"
