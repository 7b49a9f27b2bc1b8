// hosm/diagnostics/rbf_kernel.hpp — the Gaussian radial basis function kernel.
//
//   k(x, y) = exp(-|x - y|^2 / (2 h^2)),   bandwidth h > 0,
//
// a characteristic kernel on R^D, so the MMD it induces is 0 iff the two laws
// are equal (Gretton, Borgwardt, Rasch, Schölkopf & Smola 2012, "A kernel
// two-sample test", JMLR 13, §2 and Theorem 5).
//
//   rbf_kernel<T>{h}
//   k(x, y, D)       the kernel value; x, y point at D numbers of any
//                    floating types, arithmetic in T (double by default).
//
// Per-pair, HOSM_HOST_DEVICE, no checks: validate h on the host (mmd.hpp
// raises hosm::error for h <= 0).
#pragma once
#include <cmath>

#include <hosm/config.hpp>
#include <hosm/core/types.hpp>

namespace hosm::diagnostics {

template <class T = double>
struct rbf_kernel {
    T bandwidth = T(1);

    template <class V, class W>
    HOSM_HOST_DEVICE T operator()(const V* x, const W* y, index_t dim) const {
        T r2 = T(0);
        for (index_t i = 0; i < dim; ++i) {
            const T r = static_cast<T>(x[i]) - static_cast<T>(y[i]);
            r2 += r * r;
        }
        return std::exp(-r2 / (T(2) * bandwidth * bandwidth));
    }
};

}  // namespace hosm::diagnostics
