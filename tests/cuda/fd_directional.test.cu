// fd/directional compiled by nvcc with the CUDA back end (the batched kernel case).
#include "fd/directional.test.cpp"
