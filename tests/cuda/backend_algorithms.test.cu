// backend/algorithms compiled by nvcc with the CUDA back end.
#include "backend/algorithms.test.cpp"
