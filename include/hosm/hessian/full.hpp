// hosm/hessian/full.hpp — the full (dense, symmetric) Hessian structure.
//
// Per sample: a D x D column-major matrix, D*D numbers (both triangles are
// stored and kept equal).
#pragma once
#include <hosm/config.hpp>
#include <hosm/core/types.hpp>

namespace hosm::hessian {

/// Structure tag: a dense symmetric D x D matrix per sample.
struct full {
    static constexpr const char* name = "full";
};

/// One sample's dense Hessian: h[i + j * dim] = H(i, j).
template <class T>
struct full_view {
    T* h = nullptr;
    index_t dim = 0;

    HOSM_HOST_DEVICE T& operator()(index_t i, index_t j) const { return h[i + j * dim]; }
    HOSM_HOST_DEVICE operator full_view<const T>() const { return {h, dim}; }
};

}  // namespace hosm::hessian
