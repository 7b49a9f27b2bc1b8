// backend/gemm compiled by nvcc with the CUDA back end.
#include "backend/gemm.test.cpp"
