// targets/toys compiled by nvcc with the CUDA back end.
#include "targets/toys.test.cpp"
