// samplers/walk_jump compiled by nvcc with the CUDA back end.
#include "samplers/walk_jump.test.cpp"
