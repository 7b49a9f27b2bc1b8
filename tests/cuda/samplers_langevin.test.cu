// samplers/langevin compiled by nvcc with the CUDA back end.
#include "samplers/langevin.test.cpp"
