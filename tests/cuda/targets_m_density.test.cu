// targets/m_density compiled by nvcc with the CUDA back end.
#include "targets/m_density.test.cpp"
