// random/stream compiled by nvcc with the CUDA back end.
#include "random/stream.test.cpp"
