// hosm/models/detail/gps_kernels.hpp — per-sample kernels of models::gps
// (HOSM_HOST_DEVICE functors over raw pointers; see hosm/models/gps.hpp).
// y, g, G: (M D) x N with measurement m of sample j in rows m D .. m D + D - 1;
// ybar, nu, xhat, gnu: D x N.
#pragma once
#include <hosm/config.hpp>
#include <hosm/core/types.hpp>

namespace hosm::models::detail {

/// g_m = (ybar - y_m) / sigma^2 - nu / M   (seed 003 Eq. 8 divided by sigma^2).
template <class T>
struct gps_score_fn {
    const T* y;
    const T* ybar;
    const T* nu;
    T* g;
    index_t D, M;
    T inv_s2;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* yj = y + j * M * D;
        const T* yb = ybar + j * D;
        const T* nj = nu + j * D;
        T* gj = g + j * M * D;
        const T invM = T(1) / static_cast<T>(M);
        for (index_t m = 0; m < M; ++m)
            for (index_t i = 0; i < D; ++i) gj[m * D + i] = (yb[i] - yj[m * D + i]) * inv_s2 - nj[i] * invM;
    }
};

/// gnu_j = scale * sum_m G_m  (dL/dnu = -(1/M) sum_m dL/dg_m, times the sign).
template <class T>
struct gps_sum_measurements_fn {
    const T* G;
    T* gnu;
    index_t D, M;
    T scale;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* Gj = G + j * M * D;
        T* o = gnu + j * D;
        for (index_t i = 0; i < D; ++i) {
            T s = T(0);
            for (index_t m = 0; m < M; ++m) s += Gj[m * D + i];
            o[i] = scale * s;
        }
    }
};

/// out[n] = scale * in[n], entrywise (in and out may alias).
template <class T>
struct gps_scale_fn {
    const T* in;
    T* out;
    T scale;
    HOSM_HOST_DEVICE void operator()(index_t n) const { out[n] = scale * in[n]; }
};

/// xhat = ybar - sigma_eff^2 nu, entrywise (seed 003 Eq. 10).
template <class T>
struct gps_denoise_fn {
    const T* ybar;
    const T* nu;
    T* xhat;
    T s2eff;
    HOSM_HOST_DEVICE void operator()(index_t n) const { xhat[n] = ybar[n] - s2eff * nu[n]; }
};

}  // namespace hosm::models::detail
