// hessian/low_rank compiled by nvcc with the CUDA back end.
#include "hessian/low_rank.test.cpp"
