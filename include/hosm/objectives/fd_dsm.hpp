// hosm/objectives/fd_dsm.hpp — finite-difference denoising score matching (FD-DSM),
// seed 002 Eq. (10).
//
// Maths. x ~ p_data, z ~ N(0, I), x~ = x + sigma z, and a direction v, |v| = eps.
// Seed 002 Eq. (10), written exactly as the seed does with L = log p_theta:
//
//     J_FD-DSM = (1/(4 eps^2)) E_x E_x~ E_v [ ( L(x~ + v) - L(x~ - v) + 2 v^T (x~ - x) / sigma^2 )^2 ].
//
// Since L(x~ + v) - L(x~ - v) = 2 v^T s(x~) + O(eps^3) (Eq. 8), the bracket is
// 2 v^T (s(x~) + (x~ - x)/sigma^2) + O(eps^3), so with v = eps u (u the unit-scale
// projections of hosm/objectives/ssm.hpp, E[u u^T] = I / D) the per-sample loss tends
// to the sliced DSM
//
//     l_sliced = ( u^T (s(x~) + z / sigma) )^2,    E_u l_sliced = (1/D) |s(x~) + z/sigma|^2,
//
// i.e. J_FD-DSM = J_DSM + O(eps^2) with seed 002's J_DSM (Eq. 2, with its 1/d), which
// is 2/D times hosm's objectives::dsm loss (1/2)|s1 + z/sigma|^2.
//
// For an energy model L = -E + const, with e+ = E(x~ + eps u), e- = E(x~ - eps u):
//
//     r = e- - e+ + 2 eps (u^T z) / sigma,     l = r^2 / (4 eps^2),     L = (1/N) sum_j l_j,
//     dL/de+ = -r / (2 N eps^2),   dL/de- = r / (2 N eps^2),
//
// (2 v^T (x~ - x)/sigma^2 = 2 eps u^T z / sigma). The parameter gradient is one forward
// of the stacked batch [x~ + eps u, x~ - eps u] (D x 2N) and one backward with those
// weights (models::energy_mlp::forward / backward): no input gradients at all,
// against DSM's backprop-through-the-score (seed 002: 1.5x speed-up). Bias against
// the sliced DSM with the same u: O(eps^2) (l - l_sliced = -(eps^2/3) a E3 + O(eps^4)
// with a = u^T(s + z/sigma) and E3 the third u-directional derivative of E).
//
// API (batch views in B's memory; e*, g*: 1 x N; x_tilde, z, u: D x N):
//
//   objectives::fd_dsm<T> obj{sigma, eps, kind = projection::rademacher};
//   obj.sigma(), obj.eps(), obj.kind()
//   T loss<B>(obj, ep, em, z, u)                       from energies at x~ +- eps u
//   T loss_and_gradient<B>(obj, ep, em, z, u, gp, gm)  g* = dL/de* (written)
//   T loss(obj, const energy_mlp<T, B>& m, x_tilde, z, u)
//   T loss_and_gradient(obj, energy_mlp<T, B>& m, x_tilde, z, u)   ADDS dL/dtheta into
//                                                                  m.gradients()
//
// z = (x~ - x) / sigma is the noise that made x~ (noise::gaussian::perturb returns it).
// Errors (hosm::error naming the function and argument): sigma or eps not finite and
// > 0; an invalid projection; N < 1; wrong shapes; non-finite energies, z or u (or
// x_tilde, via the model); a non-finite loss (overflow).
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

/// FD-DSM configuration (seed 002 Eq. 10): noise level sigma, step eps (= |v|),
/// projection distribution.
template <class T>
class fd_dsm {
public:
    using value_type = T;
    fd_dsm(T sigma, T eps, projection kind = projection::rademacher) : sigma_(sigma), eps_(eps), kind_(kind) {
        hosm::detail::check_positive("objectives::fd_dsm", "sigma", sigma);
        hosm::detail::check_positive("objectives::fd_dsm", "eps", eps);
        (void)name(kind);
    }
    T sigma() const { return sigma_; }
    T eps() const { return eps_; }
    projection kind() const { return kind_; }

private:
    T sigma_, eps_;
    projection kind_;
};

namespace detail {

template <class T>
struct fd_dsm_fn {
    const T* ep;
    const T* em;
    batch_view<const T> z, u;
    T* gp;
    T* gm;
    T eps, sigma, scale;  // scale = 1 / (2 N eps^2)
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const T* zj = z.col(j);
        const T* uj = u.col(j);
        T uz = T(0);
        for (index_t i = 0; i < z.dim; ++i) uz += uj[i] * zj[i];
        const T r = em[j] - ep[j] + T(2) * eps * uz / sigma;
        if (gp != nullptr) {
            gp[j] = -scale * r;
            gm[j] = scale * r;
        }
        return r * r / (T(4) * eps * eps);
    }
};

template <concepts::Backend B, class T>
T run_fd_dsm(const char* where, T sigma, T eps, batch_view<const T> ep, batch_view<const T> em,
             batch_view<const T> z, batch_view<const T> u, batch_view<T> gp, batch_view<T> gm, bool grad) {
    hosm::detail::check_positive(where, "sigma", sigma);
    hosm::detail::check_positive(where, "eps", eps);
    const index_t D = z.dim, N = ep.count;
    hosm::detail::check_at_least(where, "ep.count (the batch size N)", N, 1);
    hosm::detail::check_at_least(where, "z.dim (the dimension D)", D, 1);
    check_view<T>(where, "ep", ep, 1, N);
    check_view<T>(where, "em", em, 1, N);
    check_view<T>(where, "z", z, D, N);
    check_view<T>(where, "u", u, D, N);
    if (grad) {
        check_view<T>(where, "gp", gp, 1, N);
        check_view<T>(where, "gm", gm, 1, N);
    }
    check_finite<B>(where, "ep", ep);
    check_finite<B>(where, "em", em);
    check_finite<B>(where, "z", z);
    check_finite<B>(where, "u", u);
    const T l = mean_of_samples<B, T>(
        N, fd_dsm_fn<T>{ep.data, em.data, z, u, grad ? gp.data : nullptr, grad ? gm.data : nullptr, eps, sigma,
                        T(1) / (T(2) * static_cast<T>(N) * eps * eps)});
    return finish(where, l, [] {});
}

template <class T, class B>
T fd_dsm_energy(const char* where, T sigma, T eps, models::energy_mlp<T, B>* train,
                const models::energy_mlp<T, B>& m, batch_view<const T> xt, batch_view<const T> z,
                batch_view<const T> u) {
    hosm::detail::check_positive(where, "eps", eps);
    const index_t D = m.dim(), N = xt.count;
    hosm::detail::check_at_least(where, "x_tilde.count (the batch size N)", N, 1);
    hosm::detail::check_size(where, "x_tilde.dim", xt.dim, D);
    check_view<T>(where, "z", z, D, N);
    check_view<T>(where, "u", u, D, N);
    check_finite<B>(where, "u", u);
    hosm::batch<T, B> xs(D, 2 * N);
    backend::for_each_index<B>(N, shifted_stack_fn<T>{xt.data, u.data, xs.view().data, D, N, eps, false});
    sliced_buffer<T, B> buf(4 * N);  // energies, then their weights
    const batch_view<T> e = buf.row(0, 2 * N), g = buf.row(2 * N, 2 * N);
    if (train != nullptr) train->forward(xs.view(), e);
    else m.energy(xs.view(), e);
    const T l = run_fd_dsm<B, T>(where, sigma, eps, buf.row(0, N), buf.row(N, N), z, u, buf.row(2 * N, N),
                                 buf.row(3 * N, N), train != nullptr);
    if (train != nullptr) train->backward(g);
    return l;
}

}  // namespace detail

/// FD-DSM from energies ep = E(x~ + eps u), em = E(x~ - eps u) (seed 002 Eq. 10).
template <concepts::Backend B = backend::cpp, class T>
T loss(const fd_dsm<T>& obj, std::type_identity_t<batch_view<const T>> ep,
       std::type_identity_t<batch_view<const T>> em, std::type_identity_t<batch_view<const T>> z,
       std::type_identity_t<batch_view<const T>> u) {
    return detail::run_fd_dsm<B, T>("objectives::loss(fd_dsm)", obj.sigma(), obj.eps(), ep, em, z, u, {}, {},
                                    false);
}

/// As loss(); writes gp, gm = dL/dep, dL/dem.
template <concepts::Backend B = backend::cpp, class T>
T loss_and_gradient(const fd_dsm<T>& obj, std::type_identity_t<batch_view<const T>> ep,
                    std::type_identity_t<batch_view<const T>> em, std::type_identity_t<batch_view<const T>> z,
                    std::type_identity_t<batch_view<const T>> u, std::type_identity_t<batch_view<T>> gp,
                    std::type_identity_t<batch_view<T>> gm) {
    return detail::run_fd_dsm<B, T>("objectives::loss_and_gradient(fd_dsm)", obj.sigma(), obj.eps(), ep, em, z,
                                    u, gp, gm, true);
}

/// FD-DSM of an energy model at the noisy points x_tilde = x + sigma z (value).
template <class T, concepts::Backend B>
T loss(const fd_dsm<T>& obj, const models::energy_mlp<T, B>& m, std::type_identity_t<batch_view<const T>> x_tilde,
       std::type_identity_t<batch_view<const T>> z, std::type_identity_t<batch_view<const T>> u) {
    return detail::fd_dsm_energy<T, B>("objectives::loss(fd_dsm, energy_mlp)", obj.sigma(), obj.eps(), nullptr, m,
                                       x_tilde, z, u);
}

/// FD-DSM of an energy model; adds dL/dtheta into m.gradients().
template <class T, concepts::Backend B>
T loss_and_gradient(const fd_dsm<T>& obj, models::energy_mlp<T, B>& m,
                    std::type_identity_t<batch_view<const T>> x_tilde, std::type_identity_t<batch_view<const T>> z,
                    std::type_identity_t<batch_view<const T>> u) {
    return detail::fd_dsm_energy<T, B>("objectives::loss_and_gradient(fd_dsm, energy_mlp)", obj.sigma(), obj.eps(),
                                       &m, m, x_tilde, z, u);
}

}  // namespace hosm::objectives
