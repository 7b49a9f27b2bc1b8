// hosm/models/detail/expfam_kernels.hpp — per-sample kernels of
// models::exponential_family (HOSM_HOST_DEVICE functors over raw pointers; see
// hosm/models/exponential_family.hpp for the maths and the layouts).
//
// S is a statistics policy (expfam_statistics.hpp) with value_type T, D = dim(),
// K = size(). Scratch layouts, one block per sample j:
//   grad  K x D (column-major: grad[k + K i] = dT_k/dx_i), K D entries at j K D
//   vec   K entries at j K
//   ga    D entries at j D
#pragma once
#include <hosm/config.hpp>
#include <hosm/core/types.hpp>

namespace hosm::models::detail {

/// rhs_j = Laplacian(T)(x_j) + (grad_x T)^T grad a (x_j); grad_j kept for A = G G^T.
template <class S, class T>
struct expfam_moment_fn {
    S s;
    const T* x;
    T* grad;
    T* rhs;
    T* ga;
    index_t D, K;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        T* g = grad + j * K * D;
        T* r = rhs + j * K;
        T* a = ga + j * D;
        T la = T(0);
        s.derivatives(x + j * D, g, r);
        (void)s.base(x + j * D, a, &la);
        for (index_t i = 0; i < D; ++i) {
            const T ai = a[i];
            for (index_t k = 0; k < K; ++k) r[k] += g[k + K * i] * ai;
        }
    }
};

/// out_j = grad_x log p(x_j) = (grad_x T)(x_j) theta + grad a(x_j).
template <class S, class T>
struct expfam_score_fn {
    S s;
    const T* x;
    const T* theta;
    T* grad;
    T* lap;
    T* out;
    index_t D, K;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        T* g = grad + j * K * D;
        T* o = out + j * D;
        T la = T(0);
        s.derivatives(x + j * D, g, lap + j * K);
        (void)s.base(x + j * D, o, &la);
        for (index_t i = 0; i < D; ++i) {
            T v = o[i];
            for (index_t k = 0; k < K; ++k) v += g[k + K * i] * theta[k];
            o[i] = v;
        }
    }
};

/// out_j = theta^T T(x_j) + a(x_j) (the unnormalised log density).
template <class S, class T>
struct expfam_log_density_fn {
    S s;
    const T* x;
    const T* theta;
    T* t;
    T* ga;
    T* out;
    index_t D, K;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        T* tj = t + j * K;
        T la = T(0);
        s.value(x + j * D, tj);
        T v = s.base(x + j * D, ga + j * D, &la);
        for (index_t k = 0; k < K; ++k) v += theta[k] * tj[k];
        out[j] = v;
    }
};

/// Hyvärinen score of sample j: l_j = 1/2 ||s_j||^2 + theta^T Lap T(x_j) + Lap a(x_j),
/// s_j = (grad T) theta + grad a; with grad, dl_j/dtheta = (grad T)^T s_j + Lap T(x_j)
/// into the K entries at vec + j K.
template <class S, class T>
struct expfam_sm_fn {
    S s;
    const T* x;
    const T* theta;
    T* grad;
    T* vec;
    T* ga;
    T* loss;
    index_t D, K;
    bool with_gradient;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        T* g = grad + j * K * D;
        T* lp = vec + j * K;
        T* sc = ga + j * D;
        T la = T(0);
        s.derivatives(x + j * D, g, lp);
        (void)s.base(x + j * D, sc, &la);
        T l = la;
        for (index_t k = 0; k < K; ++k) l += theta[k] * lp[k];
        for (index_t i = 0; i < D; ++i) {
            T v = sc[i];
            for (index_t k = 0; k < K; ++k) v += g[k + K * i] * theta[k];
            sc[i] = v;
            l += v * v / T(2);
        }
        loss[j] = l;
        if (with_gradient)
            for (index_t i = 0; i < D; ++i) {
                const T si = sc[i];
                for (index_t k = 0; k < K; ++k) lp[k] += g[k + K * i] * si;
            }
    }
};

/// out[k] (=, or += when add) scale * sum_j v[k + rows j], one row per call.
template <class T>
struct expfam_row_sum_fn {
    const T* v;
    T* out;
    index_t rows, N;
    T scale;
    bool add;
    HOSM_HOST_DEVICE void operator()(index_t k) const {
        T s = T(0);
        for (index_t j = 0; j < N; ++j) s += v[k + rows * j];
        out[k] = add ? out[k] + scale * s : scale * s;
    }
};

}  // namespace hosm::models::detail
