// hosm/models/detail/rbm_kernels.hpp — per-sample kernels of
// models::gauss_bernoulli_rbm (HOSM_HOST_DEVICE functors over raw pointers; see
// hosm/models/gauss_bernoulli_rbm.hpp for the maths). Batches are column-major
// with one column per sample: v, r, R: D x N; a, rho, drho, delta: H x N.
// W is H x D column-major (W[j + H k] = W_jk).
#pragma once
#include <hosm/config.hpp>
#include <hosm/core/types.hpp>
#include <hosm/models/activation.hpp>

namespace hosm::models::detail {

/// a_j += b; rho_j = sigmoid(a_j); drho_j = rho_j (1 - rho_j).
template <class T>
struct rbm_hidden_fn {
    T* a;
    const T* b;
    T* rho;
    T* drho;
    index_t H;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        T* aj = a + j * H;
        for (index_t i = 0; i < H; ++i) {
            const T v = aj[i] + b[i];
            aj[i] = v;
            if (rho) rho[i + j * H] = activations::softplus::derivative(v);
            if (drho) drho[i + j * H] = activations::softplus::second_derivative(v);
        }
    }
};

/// out_j = F(v_j) = 1/2 ||v_j||^2 - c^T v_j - sum_i softplus(a_ij)   (a already has b).
template <class T>
struct rbm_free_energy_fn {
    const T* v;
    const T* a;
    const T* c;
    T* out;
    index_t D, H;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* vj = v + j * D;
        const T* aj = a + j * H;
        T f = T(0);
        for (index_t k = 0; k < D; ++k) f += vj[k] * (vj[k] / T(2) - c[k]);
        for (index_t i = 0; i < H; ++i) f -= activations::softplus::value(aj[i]);
        out[j] = f;
    }
};

/// r_j = (W^T rho)_j + c - v_j, in place on r (which holds W^T rho on entry).
template <class T>
struct rbm_score_fn {
    const T* v;
    const T* c;
    T* r;
    index_t D;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        T* rj = r + j * D;
        const T* vj = v + j * D;
        for (index_t k = 0; k < D; ++k) rj[k] += c[k] - vj[k];
    }
};

/// wn_i = ||W_i||^2 (row i of W), one row per call.
template <class T>
struct rbm_row_norm_fn {
    const T* W;
    T* wn;
    index_t H, D;
    HOSM_HOST_DEVICE void operator()(index_t i) const {
        T s = T(0);
        for (index_t k = 0; k < D; ++k) s += W[i + H * k] * W[i + H * k];
        wn[i] = s;
    }
};

/// l_j = 1/2 ||r_j||^2 + sum_i drho_ij wn_i - D (the Hyvärinen score of sample j).
template <class T>
struct rbm_sm_fn {
    const T* r;
    const T* drho;
    const T* wn;
    T* loss;
    index_t D, H;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* rj = r + j * D;
        const T* dj = drho + j * H;
        T l = -static_cast<T>(D);
        for (index_t k = 0; k < D; ++k) l += rj[k] * rj[k] / T(2);
        for (index_t i = 0; i < H; ++i) l += dj[i] * wn[i];
        loss[j] = l;
    }
};

/// delta_j = u_j o drho_j + wn o drho_j o (1 - 2 rho_j), in place on u (= W r_j on entry).
template <class T>
struct rbm_delta_fn {
    T* u;
    const T* rho;
    const T* drho;
    const T* wn;
    index_t H;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        for (index_t i = 0; i < H; ++i) {
            const index_t n = i + j * H;
            u[n] = drho[n] * (u[n] + wn[i] * (T(1) - T(2) * rho[n]));
        }
    }
};

/// gW(i, k) += 2 m_i W(i, k), one entry per call (m_i = mean_j drho_ij).
template <class T>
struct rbm_norm_grad_fn {
    T* gW;
    const T* W;
    const T* m;
    index_t H;
    HOSM_HOST_DEVICE void operator()(index_t n) const { gW[n] += T(2) * m[n % H] * W[n]; }
};

/// out[i] (=, or += when add) scale * sum_j v[i + rows j], one row per call.
template <class T>
struct rbm_row_sum_fn {
    const T* v;
    T* out;
    index_t rows, N;
    T scale;
    bool add;
    HOSM_HOST_DEVICE void operator()(index_t i) const {
        T s = T(0);
        for (index_t j = 0; j < N; ++j) s += v[i + rows * j];
        out[i] = add ? out[i] + scale * s : scale * s;
    }
};

}  // namespace hosm::models::detail
