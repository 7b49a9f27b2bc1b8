// hessian/operations compiled by nvcc with the CUDA back end.
#include "hessian/operations.test.cpp"
