// hosm/hessian/diagonal.hpp — the diagonal Hessian structure.
//
// Per sample: the D diagonal entries; H = diag(d). Also the structure of
// seed 000's diagonal D2SM (Eq. 17), where only diag(s2) is modelled.
#pragma once
#include <hosm/config.hpp>
#include <hosm/core/types.hpp>

namespace hosm::hessian {

/// Structure tag: H = diag(d), D numbers per sample.
struct diagonal {
    static constexpr const char* name = "diagonal";
};

template <class T>
struct diagonal_view {
    T* d = nullptr;
    index_t dim = 0;

    HOSM_HOST_DEVICE operator diagonal_view<const T>() const { return {d, dim}; }
};

}  // namespace hosm::hessian
