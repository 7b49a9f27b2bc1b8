// hosm/backend/omp.hpp — the OpenMP host back end.
//
// Needs OpenMP (the hosm::hosm target adds it when found). Thrust's OMP system
// does not compile under nvcc 13, so include this header only from translation
// units compiled by the host compiler.
#pragma once
#if defined(__CUDACC__)
#error "hosm/backend/omp.hpp: Thrust's OMP system does not compile under nvcc; include it from a host translation unit"
#endif
#include <thrust/host_vector.h>
#include <thrust/system/omp/execution_policy.h>

namespace hosm::backend {

/// Parallel host execution through Thrust's OMP system: batched work is
/// split over the OpenMP threads (OMP_NUM_THREADS / omp_set_num_threads).
struct omp {
    static constexpr const char* name = "omp";
    static constexpr bool host_memory = true;
    template <class T>
    using vector = thrust::host_vector<T>;
    static auto policy() { return thrust::omp::par; }
};

}  // namespace hosm::backend
