// hessian/full compiled by nvcc with the CUDA back end.
#include "hessian/full.test.cpp"
