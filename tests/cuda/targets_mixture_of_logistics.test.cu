// targets/mixture_of_logistics compiled by nvcc with the CUDA back end.
#include "targets/mixture_of_logistics.test.cpp"
