// noise/multimeasurement compiled by nvcc with the CUDA back end.
#include "noise/multimeasurement.test.cpp"
