// fd/directional.test.cpp compiled by nvcc with the CUDA back end.
#include "fd/directional.test.cpp"
