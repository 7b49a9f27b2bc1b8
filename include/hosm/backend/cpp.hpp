// hosm/backend/cpp.hpp — the sequential host back end.
#pragma once
#include <thrust/host_vector.h>
#include <thrust/system/cpp/execution_policy.h>

namespace hosm::backend {

/// Sequential host execution through Thrust's cpp system. Memory is host
/// memory; every Thrust algorithm runs on the calling thread.
struct cpp {
    static constexpr const char* name = "cpp";
    static constexpr bool host_memory = true;
    template <class T>
    using vector = thrust::host_vector<T>;
    static auto policy() { return thrust::cpp::par; }
};

}  // namespace hosm::backend
