// diagnostics/ksd.test.cpp compiled by nvcc with the CUDA back end.
#include "diagnostics/ksd.test.cpp"
