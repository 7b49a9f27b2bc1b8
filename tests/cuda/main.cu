// Entry point of hosm_cuda_tests: runs the CUDA back end's tests where a GPU
// is present and exits 77 (ctest: skipped) where none is.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <cuda_runtime.h>
#include <cstdio>

int main(int argc, char** argv) {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        std::printf("hosm_cuda_tests: no CUDA device (%s): skipped\n",
                    e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
        return 77;
    }
    doctest::Context ctx(argc, argv);
    return ctx.run();
}
