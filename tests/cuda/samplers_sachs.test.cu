// samplers/sachs compiled by nvcc with the CUDA back end.
#include "samplers/sachs.test.cpp"
