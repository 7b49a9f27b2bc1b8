// hosm/objectives/fd_ssm.hpp — finite-difference sliced score matching (FD-SSM),
// seed 002 Eq. (9).
//
// Maths. Seed 002 Eq. (8) (Theorem 1 with K = 1, alpha_1 = 1; hosm/fd/) approximates
// the directional derivatives of L = log p_theta along v, |v| = eps, by function values:
//
//     v^T grad L(x)   = (1/2) [L(x + v) - L(x - v)]        + O(eps^3),
//     v^T grad^2 L v  = L(x + v) + L(x - v) - 2 L(x)       + O(eps^4),
//
// and Eq. (9) substitutes them into SSM (Eq. 3, C_v = eps^2):
//
//     J_FD-SSM = (1/eps^2) E_x E_v [ L(x+v) + L(x-v) - 2 L(x) + (1/8) (L(x+v) - L(x-v))^2 ]
//              = J_SSM + O(eps^2).
//
// hosm draws v = eps u with the unit-scale projections u of hosm/objectives/ssm.hpp
// (|v| = eps exactly for rademacher and sphere). For an energy model log p = -E + const
// the partition function cancels in every difference; with e0 = E(x), e+ = E(x + v),
// e- = E(x - v):
//
//     l = (1/eps^2) [ -(e+ - e0) - (e- - e0) + (1/8) (e+ - e-)^2 ],   L = (1/N) sum_j l_j,
//     dL/de0 = 2 / (N eps^2),  dL/de+- = (1/(N eps^2)) [ -1 +- (e+ - e-) / 4 ].
//
// The loss is a weighted sum of energies at 3 points per sample, so its parameter
// gradient is ONE forward of the stacked batch [x, x + eps u, x - eps u] (D x 3N) and
// ONE backward with the weights dL/de (models::energy_mlp::forward / backward): no
// second derivatives (the point of seed 002, Fig. 1). Cost ~3 + 6 forward passes of
// the batch, about that of hosm's exact Taylor-mode SSM gradient (ssm.hpp); seed
// 002's 2.5x speed-up is against nested reverse-mode autodiff. The bias against the exact SSM
// with the same u (objectives::ssm) is O(eps^2): per sample
//   l - l_SSM = eps^2 [ -(1/12) E4 + (1/6) E1 E3 ] + O(eps^4),  E_k = u-directional
//   k-th derivative of E at x;
// rounding adds ~ machine-eps |E| / eps^2 (eps ~ 1e-2..1e-1 in float, as in seed 002's
// experiments with eps = 0.1).
//
// API (batch views in B's memory; e*, g*: 1 x N; x, u: D x N):
//
//   objectives::fd_ssm<T> obj{eps, kind = projection::rademacher};  obj.eps(), obj.kind()
//   T loss<B>(obj, e0, ep, em)                                      from energies
//   T loss_and_gradient<B>(obj, e0, ep, em, g0, gp, gm)             g* = dL/de* (written)
//   T loss(obj, const energy_mlp<T, B>& m, x, u)                    value
//   T loss_and_gradient(obj, energy_mlp<T, B>& m, x, u)             ADDS dL/dtheta into
//                                                                   m.gradients()
//
// Errors (hosm::error naming the function and argument): eps not finite and > 0; an
// invalid projection; N < 1; e*, g*, u, x of the wrong shape; non-finite energies or u
// (or x, via the model); a non-finite loss (overflow).
#pragma once
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/models/energy_mlp.hpp>
#include <hosm/objectives/detail/checks.hpp>
#include <hosm/objectives/ssm.hpp>

namespace hosm::objectives {

/// FD-SSM configuration (seed 002 Eq. 9): step eps (= |v|) and projection distribution.
template <class T>
class fd_ssm {
public:
    using value_type = T;
    explicit fd_ssm(T eps, projection kind = projection::rademacher) : eps_(eps), kind_(kind) {
        hosm::detail::check_positive("objectives::fd_ssm", "eps", eps);
        (void)name(kind);
    }
    T eps() const { return eps_; }
    projection kind() const { return kind_; }

private:
    T eps_;
    projection kind_;
};

namespace detail {

template <class T>
struct fd_ssm_fn {
    const T* e0;
    const T* ep;
    const T* em;
    T* g0;
    T* gp;
    T* gm;
    T inv_eps2, scale;  // 1/eps^2, 1/(N eps^2)
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const T d = ep[j] - em[j];
        if (g0 != nullptr) {
            g0[j] = T(2) * scale;
            gp[j] = scale * (T(-1) + d / T(4));
            gm[j] = scale * (T(-1) - d / T(4));
        }
        return inv_eps2 * (-(ep[j] - e0[j]) - (em[j] - e0[j]) + d * d / T(8));
    }
};

template <concepts::Backend B, class T>
T run_fd_ssm(const char* where, T eps, batch_view<const T> e0, batch_view<const T> ep, batch_view<const T> em,
             batch_view<T> g0, batch_view<T> gp, batch_view<T> gm, bool grad) {
    hosm::detail::check_positive(where, "eps", eps);
    const index_t N = e0.count;
    hosm::detail::check_at_least(where, "e0.count (the batch size N)", N, 1);
    check_view<T>(where, "e0", e0, 1, N);
    check_view<T>(where, "ep", ep, 1, N);
    check_view<T>(where, "em", em, 1, N);
    if (grad) {
        check_view<T>(where, "g0", g0, 1, N);
        check_view<T>(where, "gp", gp, 1, N);
        check_view<T>(where, "gm", gm, 1, N);
    }
    check_finite<B>(where, "e0", e0);
    check_finite<B>(where, "ep", ep);
    check_finite<B>(where, "em", em);
    const T inv_eps2 = T(1) / (eps * eps);
    const T l = mean_of_samples<B, T>(
        N, fd_ssm_fn<T>{e0.data, ep.data, em.data, grad ? g0.data : nullptr, grad ? gp.data : nullptr,
                        grad ? gm.data : nullptr, inv_eps2, inv_eps2 / static_cast<T>(N)});
    return finish(where, l, [] {});
}

template <class T, class B>
T fd_ssm_energy(const char* where, T eps, models::energy_mlp<T, B>* train, const models::energy_mlp<T, B>& m,
                batch_view<const T> x, batch_view<const T> u) {
    hosm::detail::check_positive(where, "eps", eps);
    const index_t D = m.dim(), N = x.count;
    hosm::detail::check_at_least(where, "x.count (the batch size N)", N, 1);
    hosm::detail::check_size(where, "x.dim", x.dim, D);
    check_view<T>(where, "u", u, D, N);
    check_finite<B>(where, "u", u);
    hosm::batch<T, B> xs(D, 3 * N);
    backend::for_each_index<B>(N, shifted_stack_fn<T>{x.data, u.data, xs.view().data, D, N, eps, true});
    sliced_buffer<T, B> buf(6 * N);  // energies, then their weights
    const batch_view<T> e = buf.row(0, 3 * N), g = buf.row(3 * N, 3 * N);
    if (train != nullptr) train->forward(xs.view(), e);
    else m.energy(xs.view(), e);
    const T l = run_fd_ssm<B, T>(where, eps, buf.row(0, N), buf.row(N, N), buf.row(2 * N, N), buf.row(3 * N, N),
                                 buf.row(4 * N, N), buf.row(5 * N, N), train != nullptr);
    if (train != nullptr) train->backward(g);
    return l;
}

}  // namespace detail

/// FD-SSM from energies e0 = E(x), ep = E(x + eps u), em = E(x - eps u) (seed 002 Eq. 9).
template <concepts::Backend B = backend::cpp, class T>
T loss(const fd_ssm<T>& obj, std::type_identity_t<batch_view<const T>> e0,
       std::type_identity_t<batch_view<const T>> ep, std::type_identity_t<batch_view<const T>> em) {
    return detail::run_fd_ssm<B, T>("objectives::loss(fd_ssm)", obj.eps(), e0, ep, em, {}, {}, {}, false);
}

/// As loss(); writes g0, gp, gm = dL/de0, dL/dep, dL/dem.
template <concepts::Backend B = backend::cpp, class T>
T loss_and_gradient(const fd_ssm<T>& obj, std::type_identity_t<batch_view<const T>> e0,
                    std::type_identity_t<batch_view<const T>> ep, std::type_identity_t<batch_view<const T>> em,
                    std::type_identity_t<batch_view<T>> g0, std::type_identity_t<batch_view<T>> gp,
                    std::type_identity_t<batch_view<T>> gm) {
    return detail::run_fd_ssm<B, T>("objectives::loss_and_gradient(fd_ssm)", obj.eps(), e0, ep, em, g0, gp, gm,
                                    true);
}

/// FD-SSM of an energy model at x with projections u (value).
template <class T, concepts::Backend B>
T loss(const fd_ssm<T>& obj, const models::energy_mlp<T, B>& m, std::type_identity_t<batch_view<const T>> x,
       std::type_identity_t<batch_view<const T>> u) {
    return detail::fd_ssm_energy<T, B>("objectives::loss(fd_ssm, energy_mlp)", obj.eps(), nullptr, m, x, u);
}

/// FD-SSM of an energy model; adds dL/dtheta into m.gradients() (one forward and one
/// backward of the stacked batch [x, x + eps u, x - eps u]).
template <class T, concepts::Backend B>
T loss_and_gradient(const fd_ssm<T>& obj, models::energy_mlp<T, B>& m,
                    std::type_identity_t<batch_view<const T>> x, std::type_identity_t<batch_view<const T>> u) {
    return detail::fd_ssm_energy<T, B>("objectives::loss_and_gradient(fd_ssm, energy_mlp)", obj.eps(), &m, m, x,
                                       u);
}

}  // namespace hosm::objectives
