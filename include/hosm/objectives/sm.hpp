// hosm/objectives/sm.hpp — score matching (SM, Hyvarinen 2005): seed 002 Eq. (1),
// seed 001 ("score matching"), seed 004 (the Fisher score s_P = |grad log p|^2/2 +
// Laplacian log p).
//
// Maths. Up to a constant independent of theta, the Fisher divergence
// (1/2) E |s(x) - grad log p_data(x)|^2 equals, by integration by parts,
//
//     J_SM = E_x [ tr J_s(x) + (1/2) |s(x)|^2 ],   J_s = grad_x s,
//     L = (1/N) sum_j [ tr J_s(x_j) + (1/2) |s(x_j)|^2 ].
//
// For a log-density model J_s = grad^2 log p (symmetric); for a general score
// network J_s is its input Jacobian, and only its trace enters. The trace costs D
// Jacobian-vector products (or one full Jacobian): the O(D) cost that SSM (ssm.hpp)
// and the finite-difference objectives avoid. E_u of SSM and SSM-VR is J_SM / D.
//
// What is covered:
//   * any model that gives its Jacobian: value only, from s1 and
//       - the D x D Jacobians as a (D D) x N batch (models::mlp::jacobian's layout,
//         column-major per sample), or
//       - a hessian::batch<full> (models::mlp_score::jacobian_s1(x, J)), or
//       - a hessian::batch<diagonal> of diag J_s (jacobian_s1(x, Jd)): the trace
//         needs the diagonal only.
//     Parameter gradients need d tr(J_s)/dtheta, which those models cannot
//     back-propagate (no reverse pass through their forward-mode Jacobian): use
//     DSM / SSM-VR / FD-SSMVR to train them.
//   * energy models (models::energy_mlp, s = -grad E): exact value AND parameter
//     gradient. By seed 002 Sec. 3.1, tr and |.|^2 are sums over the coordinate
//     directions e_k, so with e1_k = e_k^T grad E, e2_k = e_k^T grad^2 E e_k
//
//         l = sum_k [ -e2_k + (1/2) e1_k^2 ],  dl/dtheta = sum_k [ -de2_k/dtheta + e1_k de1_k/dtheta ],
//
//     computed by the model's exact Taylor-mode pass on x repeated D times with
//     directions e_1..e_D (cotangents (0, e1/N, -1/N)), in chunks of at most
//     max(N, 4096) columns to bound the workspace. Cost ~9 D forward passes.
//
// API:
//   objectives::sm<T> obj;
//   T loss<B>(obj, s1, J)         s1: D x N; J: (D D) x N Jacobians (column-major)
//   T loss<B>(obj, s1, H)         H: hessian::batch<full, T, B> or <diagonal, T, B>
//   T loss(obj, const energy_mlp<T, B>& m, x)                 exact value
//   T loss_and_gradient(obj, energy_mlp<T, B>& m, x)          exact; ADDS dL/dtheta
//                                                             into m.gradients()
//
// Errors (hosm::error naming the function and argument): D < 1 or N < 1; J or H of
// the wrong shape; x of the wrong dimension or non-finite (via the model); a
// non-finite loss (naming a non-finite s1 or J, or reporting overflow).
#pragma once
#include <algorithm>
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/models/energy_mlp.hpp>
#include <hosm/objectives/detail/checks.hpp>
#include <hosm/objectives/ssm.hpp>

namespace hosm::objectives {

/// Score matching (seed 002 Eq. 1); no configuration.
template <class T>
class sm {
public:
    using value_type = T;
};

namespace detail {

/// l_j = sum_k J_j(k, k) + |s1_j|^2 / 2; J stride `stride` per sample, diagonal step `step`.
template <class T>
struct sm_value_fn {
    batch_view<const T> s1;
    const T* J;
    index_t stride, step;
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const T* s = s1.col(j);
        const T* Jj = J + j * stride;
        T tr = T(0), sq = T(0);
        for (index_t k = 0; k < s1.dim; ++k) {
            tr += Jj[k * step];
            sq += s[k] * s[k];
        }
        return tr + sq / T(2);
    }
};

template <concepts::Backend B, class T>
T sm_from_jacobian(const char* where, batch_view<const T> s1, const T* J, index_t stride, index_t step,
                   const char* jname) {
    const index_t D = s1.dim, N = s1.count;
    const T l = mean_of_samples<B, T>(N, sm_value_fn<T>{s1, J, stride, step});
    return finish(where, l, [&] {
        check_finite<B>(where, "s1", s1);
        check_finite<B>(where, jname, batch_view<const T>{J, stride, N});
        (void)D;
    });
}

/// Column q = j K + (k - k0) of the chunk: x_j with direction e_k, k in [k0, k0 + K).
template <class T>
struct sm_chunk_fn {
    const T* x;
    T* xs;
    T* ws;
    index_t D, K, k0;
    HOSM_HOST_DEVICE void operator()(index_t q) const {
        const index_t j = q / K, k = k0 + q % K;
        for (index_t i = 0; i < D; ++i) {
            xs[q * D + i] = x[j * D + i];
            ws[q * D + i] = i == k ? T(1) : T(0);
        }
    }
};

template <class T, class B>
T sm_energy(const char* where, models::energy_mlp<T, B>* train, const models::energy_mlp<T, B>& m,
            batch_view<const T> x) {
    const index_t D = m.dim(), N = x.count;
    hosm::detail::check_at_least(where, "x.count (the batch size N)", N, 1);
    hosm::detail::check_size(where, "x.dim", x.dim, D);
    const index_t max_columns = std::max<index_t>(N, 4096);
    const index_t K = std::clamp<index_t>(max_columns / N, 1, D);  // directions per chunk
    hosm::batch<T, B> xs(D, K * N), ws(D, K * N);
    sliced_buffer<T, B> buf(4 * K * N);  // e1, e2, c1, c2
    const T inv_n = T(1) / static_cast<T>(N);
    T total = T(0);
    for (index_t k0 = 0; k0 < D; k0 += K) {
        const index_t Kc = std::min(K, D - k0), M = Kc * N;
        const batch_view<T> xv{xs.view().data, D, M}, wv{ws.view().data, D, M};
        backend::for_each_index<B>(M, sm_chunk_fn<T>{x.data, xv.data, wv.data, D, Kc, k0});
        const batch_view<T> e1 = buf.row(0, M), e2 = buf.row(M, M), c1 = buf.row(2 * M, M),
                            c2 = buf.row(3 * M, M);
        if (train != nullptr) train->directional_forward(xv, wv, {}, e1, e2);
        else m.directional(xv, wv, {}, e1, e2);
        // sum over the chunk's columns of -e2 + e1^2 / 2, and the cotangents
        total += mean_of_samples<B, T>(
                     M, ssm_energy_fn<T>{e1.data, e2.data, train ? c1.data : nullptr,
                                         train ? c2.data : nullptr, inv_n}) *
                 static_cast<T>(M);
        if (train != nullptr) train->directional_backward({}, c1, c2);
    }
    return finish(where, total * inv_n, [] {});
}

}  // namespace detail

/// L = (1/N) sum_j [tr J_j + |s1_j|^2 / 2] with J the (D D) x N column-major Jacobians.
template <concepts::Backend B = backend::cpp, class T>
T loss(const sm<T>&, std::type_identity_t<batch_view<const T>> s1, std::type_identity_t<batch_view<const T>> J) {
    constexpr const char* where = "objectives::loss(sm)";
    const index_t D = s1.dim, N = s1.count;
    detail::check_sizes(where, D, N);
    detail::check_view<T>(where, "s1", s1, D, N);
    detail::check_view<T>(where, "J", J, D * D, N);
    return detail::sm_from_jacobian<B, T>(where, s1, J.data, D * D, D + 1, "J");
}

/// As above with the Jacobians in a hessian::batch<full> (e.g. mlp_score::jacobian_s1).
template <concepts::Backend B, class T>
T loss(const sm<T>&, std::type_identity_t<batch_view<const T>> s1, const hessian::batch<hessian::full, T, B>& J) {
    constexpr const char* where = "objectives::loss(sm)";
    const index_t D = s1.dim, N = s1.count;
    detail::check_sizes(where, D, N);
    detail::check_view<T>(where, "s1", s1, D, N);
    detail::check_hessian(where, "J", J, D, N);
    return detail::sm_from_jacobian<B, T>(where, s1, J.data(), D * D, D + 1, "J");
}

/// As above with only diag(J) (a hessian::batch<diagonal>): the trace needs no more.
template <concepts::Backend B, class T>
T loss(const sm<T>&, std::type_identity_t<batch_view<const T>> s1,
       const hessian::batch<hessian::diagonal, T, B>& J) {
    constexpr const char* where = "objectives::loss(sm)";
    const index_t D = s1.dim, N = s1.count;
    detail::check_sizes(where, D, N);
    detail::check_view<T>(where, "s1", s1, D, N);
    detail::check_hessian(where, "J", J, D, N);
    return detail::sm_from_jacobian<B, T>(where, s1, J.data(), D, 1, "J");
}

/// Exact SM of an energy model (value only): l = -tr grad^2 E + |grad E|^2 / 2.
template <class T, concepts::Backend B>
T loss(const sm<T>&, const models::energy_mlp<T, B>& m, std::type_identity_t<batch_view<const T>> x) {
    return detail::sm_energy<T, B>("objectives::loss(sm, energy_mlp)", nullptr, m, x);
}

/// Exact SM of an energy model; adds dL/dtheta into m.gradients().
template <class T, concepts::Backend B>
T loss_and_gradient(const sm<T>&, models::energy_mlp<T, B>& m, std::type_identity_t<batch_view<const T>> x) {
    return detail::sm_energy<T, B>("objectives::loss_and_gradient(sm, energy_mlp)", &m, m, x);
}

}  // namespace hosm::objectives
