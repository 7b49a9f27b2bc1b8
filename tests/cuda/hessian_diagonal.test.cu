// hessian/diagonal compiled by nvcc with the CUDA back end.
#include "hessian/diagonal.test.cpp"
