// samplers/baoab compiled by nvcc with the CUDA back end.
#include "samplers/baoab.test.cpp"
