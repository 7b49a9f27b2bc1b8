// hosm/models/detail/sigma_kernels.hpp — per-sample kernels of
// models::sigma_mlp_score (HOSM_HOST_DEVICE functors over raw pointers).
// x, s1, g1, dx: D x N; u, du: (D + 1) x N; sigma: N numbers.
#pragma once
#include <cmath>

#include <hosm/config.hpp>
#include <hosm/core/types.hpp>

namespace hosm::models::detail {

/// u_j = [x_j; log sigma_j].
template <class T>
struct sigma_concat_fn {
    const T* x;
    const T* sigma;
    T* u;
    index_t D;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* xj = x + j * D;
        T* uj = u + j * (D + 1);
        for (index_t i = 0; i < D; ++i) uj[i] = xj[i];
        uj[D] = std::log(sigma[j]);
    }
};

/// out_j = in_j / sigma_j (in and out may alias).
template <class T>
struct sigma_divide_fn {
    const T* in;
    const T* sigma;
    T* out;
    index_t D;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T inv = T(1) / sigma[j];
        for (index_t i = 0; i < D; ++i) out[i + j * D] = in[i + j * D] * inv;
    }
};

/// dx_j = du_j[0 .. D): drops the log-sigma row of the input gradient.
template <class T>
struct sigma_drop_last_fn {
    const T* du;
    T* dx;
    index_t D;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        for (index_t i = 0; i < D; ++i) dx[i + j * D] = du[i + j * (D + 1)];
    }
};

/// dst[j] = src[j] (sigma copy), or the constant value when src is null.
template <class T>
struct sigma_copy_fn {
    const T* src;
    T* dst;
    T value;
    HOSM_HOST_DEVICE void operator()(index_t j) const { dst[j] = src ? src[j] : value; }
};

/// 1 for a sigma that is not finite and > 0.
template <class T>
struct sigma_bad_fn {
    const T* sigma;
    HOSM_HOST_DEVICE index_t operator()(index_t j) const {
        const T s = sigma[j];
        return (s > T(0) && s - s == T(0)) ? index_t(0) : index_t(1);
    }
};

}  // namespace hosm::models::detail
