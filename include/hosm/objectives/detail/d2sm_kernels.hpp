// hosm/objectives/detail/d2sm_kernels.hpp — the batched drivers behind d2sm,
// d2sm_vr and joint (hosm/objectives/d2sm.hpp, d2sm_vr.hpp, joint.hpp).
//
//   run_d2sm<B>(where, sigma, gamma, s1, s2, z, g1, g2)
//       (1/N) sum_j [ D2SM_j + gamma DSM_j ] and, when g2 != nullptr, the
//       gradients g1 = dL/ds1, g2 = dL/ds2 (S's layout), each column its sample's.
//   run_d2sm_vr<B>(where, sigma, gamma, sp, sm, s0, s2p, s2m, s20, z, gp, gm, g0, g2p, g2m, g20)
//       (1/N) sum_j [ D2SM-VR_j + gamma DSM-VR_j ] and the gradients in the six outputs.
//
// One HOSM_HOST_DEVICE functor per sample (backend::for_each_index<B>), then a
// B reduction of the per-sample losses (detail::mean_of_samples). For a
// low-rank s2 on a host back end, run_d2sm's per-sample work is the Gram-matrix
// kernel of d2sm_low_rank_host.hpp (same formulas, Eigen products).
#pragma once
#include <array>
#include <type_traits>
#include <utility>
#include <vector>

#include <hosm/backend/algorithms.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/operations.hpp>
#include <hosm/objectives/detail/checks.hpp>
#include <hosm/objectives/detail/d2sm_low_rank_host.hpp>
#include <hosm/objectives/detail/dsm_sample.hpp>
#include <hosm/objectives/detail/psi.hpp>

namespace hosm::objectives::detail {

template <class S, class T>
using cref_t = hessian::detail::batch_ref<S, const T>;
template <class S, class T>
using mref_t = hessian::detail::batch_ref<S, T>;

template <class S, class T>
struct d2sm_fn {
    cref_t<S, T> H;
    mref_t<S, T> G;
    batch_view<const T> s1, z;
    batch_view<T> g1;
    T sigma, gamma, scale;
    bool grad;

    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const auto h = H.sample(j);
        const T* s = s1.col(j);
        const T* zj = z.col(j);
        T l = d2sm_sample(h, s, zj, sigma);
        if (gamma != T(0)) l += gamma * dsm_sample(s1.dim, s, zj, sigma);
        if (grad) {
            const T inv_var = T(1) / (sigma * sigma), c = T(2) * scale;
            psi_backward(h, s, zj, inv_var, c, c, G.sample(j), g1.col(j));
            if (gamma != T(0)) dsm_backward(s1.dim, s, zj, sigma, gamma * scale, g1.col(j), true);
        }
        return l;
    }
};

/// d2sm_fn for a low-rank s2 on host back ends (d2sm_low_rank_host.hpp).
template <class S, class T>
struct d2sm_low_rank_host_fn {
    cref_t<S, T> H;
    mref_t<S, T> G;
    batch_view<const T> s1, z;
    batch_view<T> g1;
    T sigma, gamma, scale;
    bool grad;

    T operator()(index_t j) const {
        const T* s = s1.col(j);
        const T* zj = z.col(j);
        const T c = T(2) * scale;
        T l = d2sm_low_rank_host(H.sample(j), s, zj, sigma, grad, c, c,
                                 grad ? G.sample(j) : hessian::low_rank_view<T>{}, grad ? g1.col(j) : nullptr);
        if (gamma != T(0)) {
            l += gamma * dsm_sample(s1.dim, s, zj, sigma);
            if (grad) dsm_backward(s1.dim, s, zj, sigma, gamma * scale, g1.col(j), true);
        }
        return l;
    }
};

template <class S, class T>
struct d2sm_vr_fn {
    cref_t<S, T> Hp, Hm, H0;
    mref_t<S, T> Gp, Gm, G0;
    batch_view<const T> sp, sm, s0, z;
    batch_view<T> gp, gm, g0;
    T sigma, gamma, scale;
    bool grad;

    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const auto hp = Hp.sample(j), hm = Hm.sample(j), h0 = H0.sample(j);
        const T *a = sp.col(j), *b = sm.col(j), *c = s0.col(j), *zj = z.col(j);
        const T inv_var = T(1) / (sigma * sigma);
        T l = (psi_sq(hp, a) + psi_sq(hm, b)) / T(2) + vr_cross(hp, a, hm, b, h0, c, zj) * inv_var;
        if (gamma != T(0)) l += gamma * dsm_vr_sample(sp.dim, a, b, zj, sigma);
        if (grad) {
            // d/dpsi+ = E+, d/dpsi- = E-, d/dpsi0 = -2 A (see d2sm_vr.hpp)
            psi_backward(hp, a, zj, inv_var, scale, scale, Gp.sample(j), gp.col(j));
            psi_backward(hm, b, zj, inv_var, scale, scale, Gm.sample(j), gm.col(j));
            psi_backward(h0, c, zj, inv_var, T(0), T(-2) * scale, G0.sample(j), g0.col(j));
            if (gamma != T(0))
                dsm_vr_backward(sp.dim, a, b, zj, sigma, gamma * scale, gp.col(j), gm.col(j), true);
        }
        return l;
    }
};

template <concepts::Backend B, class S, class T>
T run_d2sm(const char* where, T sigma, T gamma, batch_view<const T> s1,
           const hessian::batch<S, T, B>& s2, batch_view<const T> z, batch_view<T> g1,
           hessian::batch<S, T, B>* g2) {
    hosm::detail::check_positive(where, "sigma", sigma);
    hosm::detail::check_nonnegative(where, "gamma", gamma);
    const index_t D = s1.dim, N = s1.count;
    check_sizes(where, D, N);
    check_view<T>(where, "s1", s1, D, N);
    check_hessian(where, "s2", s2, D, N);
    check_view<T>(where, "z", z, D, N);
    const bool grad = g2 != nullptr;
    mref_t<S, T> G{};
    if (grad) {
        check_view<T>(where, "g1", g1, D, N);
        check_hessian(where, "g2", *g2, D, N, rank_of(s2));
        std::vector<named_view<T>> in{{"s1", s1}, {"z", z}}, out{{"g1", g1}};
        views_of(in, "s2", s2);
        views_of(out, "g2", *g2);
        check_disjoint<T>(where, in, out);
        G = hessian::detail::mref(*g2);
    }
    check_finite<B>(where, "z", z);
    T loss;
    if constexpr (B::host_memory && hessian::is_low_rank_v<S>)
        loss = mean_of_samples<B, T>(
            N, d2sm_low_rank_host_fn<S, T>{hessian::detail::cref(s2), G, s1, z, g1, sigma, gamma,
                                           T(1) / static_cast<T>(N), grad});
    else
        loss = mean_of_samples<B, T>(N, d2sm_fn<S, T>{hessian::detail::cref(s2), G, s1, z, g1, sigma,
                                                      gamma, T(1) / static_cast<T>(N), grad});
    return finish(where, loss, [&] {
        check_finite<B>(where, "s1", s1);
        check_hessian_finite(where, "s2", s2);
    });
}

/// The s2 triple of the VR objectives at x + sigma z, x - sigma z and x: checks
/// s2_plus / s2_minus / s2_clean (D x N) and, when g2p is given, their
/// gradients (same dim, count and rank); appends their views to `in` and
/// `out`, checks that no output overlaps an input or another output, and
/// returns the gradients' mutable refs (empty refs without gradients).
template <class S, class T, class B>
std::array<mref_t<S, T>, 3> check_s2_triple(const char* where, index_t D, index_t N,
                                            const hessian::batch<S, T, B>& s2p,
                                            const hessian::batch<S, T, B>& s2m,
                                            const hessian::batch<S, T, B>& s20,
                                            hessian::batch<S, T, B>* g2p,
                                            hessian::batch<S, T, B>* g2m,
                                            hessian::batch<S, T, B>* g20,
                                            std::vector<named_view<T>>& in,
                                            std::vector<named_view<T>>& out) {
    check_hessian(where, "s2_plus", s2p, D, N);
    check_hessian(where, "s2_minus", s2m, D, N);
    check_hessian(where, "s2_clean", s20, D, N);
    if (!g2p) return {};
    check_hessian(where, "g2_plus", *g2p, D, N, rank_of(s2p));
    check_hessian(where, "g2_minus", *g2m, D, N, rank_of(s2m));
    check_hessian(where, "g2_clean", *g20, D, N, rank_of(s20));
    views_of(in, "s2_plus", s2p);
    views_of(in, "s2_minus", s2m);
    views_of(in, "s2_clean", s20);
    views_of(out, "g2_plus", *g2p);
    views_of(out, "g2_minus", *g2m);
    views_of(out, "g2_clean", *g20);
    check_disjoint<T>(where, in, out);
    return {hessian::detail::mref(*g2p), hessian::detail::mref(*g2m), hessian::detail::mref(*g20)};
}

template <concepts::Backend B, class S, class T>
T run_d2sm_vr(const char* where, T sigma, T gamma, batch_view<const T> sp, batch_view<const T> sm,
              batch_view<const T> s0, const hessian::batch<S, T, B>& s2p,
              const hessian::batch<S, T, B>& s2m, const hessian::batch<S, T, B>& s20,
              batch_view<const T> z, batch_view<T> gp, batch_view<T> gm, batch_view<T> g0,
              hessian::batch<S, T, B>* g2p, hessian::batch<S, T, B>* g2m,
              hessian::batch<S, T, B>* g20) {
    hosm::detail::check_positive(where, "sigma", sigma);
    hosm::detail::check_nonnegative(where, "gamma", gamma);
    const index_t D = sp.dim, N = sp.count;
    check_sizes(where, D, N);
    check_view<T>(where, "s1_plus", sp, D, N);
    check_view<T>(where, "s1_minus", sm, D, N);
    check_view<T>(where, "s1_clean", s0, D, N);
    check_view<T>(where, "z", z, D, N);
    const bool grad = g2p != nullptr;
    if (grad) {
        check_view<T>(where, "g1_plus", gp, D, N);
        check_view<T>(where, "g1_minus", gm, D, N);
        check_view<T>(where, "g1_clean", g0, D, N);
    }
    std::vector<named_view<T>> in{{"s1_plus", sp}, {"s1_minus", sm}, {"s1_clean", s0}, {"z", z}};
    std::vector<named_view<T>> out;
    if (grad) out = {{"g1_plus", gp}, {"g1_minus", gm}, {"g1_clean", g0}};
    const auto [Gp, Gm, G0] = check_s2_triple(where, D, N, s2p, s2m, s20, g2p, g2m, g20, in, out);
    check_finite<B>(where, "z", z);
    const T loss = mean_of_samples<B, T>(
        N, d2sm_vr_fn<S, T>{hessian::detail::cref(s2p), hessian::detail::cref(s2m),
                            hessian::detail::cref(s20), Gp, Gm, G0, sp, sm, s0, z, gp, gm, g0,
                            sigma, gamma, T(1) / static_cast<T>(N), grad});
    return finish(where, loss, [&] {
        check_finite<B>(where, "s1_plus", sp);
        check_finite<B>(where, "s1_minus", sm);
        check_finite<B>(where, "s1_clean", s0);
        check_hessian_finite(where, "s2_plus", s2p);
        check_hessian_finite(where, "s2_minus", s2m);
        check_hessian_finite(where, "s2_clean", s20);
    });
}

}  // namespace hosm::objectives::detail
