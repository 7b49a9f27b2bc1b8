// diagnostics/mmd.test.cpp compiled by nvcc with the CUDA back end.
#include "diagnostics/mmd.test.cpp"
