// samplers/mala compiled by nvcc with the CUDA back end.
#include "samplers/mala.test.cpp"
