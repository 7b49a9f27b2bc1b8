// hosm/objectives/d2sm_centered.hpp — centred D2SM: learn s2 from the
// posterior covariance about a given s1 (seed 000 Theorem 2 with Eq. 18),
// plain and with antithetic variance reduction, for full, low-rank and
// diagonal s2.
//
// Why. Eq. (13) regresses s2 + s1 s1^T onto (z z^T - I)/sigma^2. With the
// s1 a model actually has, s = s1~ + delta, its minimiser in s2 is
//     s2~ + s1~ s1~^T - s s^T = s2~ - (s1~ delta^T + delta s1~^T) - delta delta^T,
// an error LINEAR in the error delta of s1 and proportional to |s1~|. Tweedie
// (Eq. 4 and 18) gives the centred alternative. With e = (x~ - x)/sigma + sigma s
// (= z + sigma s for x~ = x + sigma z), E[e | x~] = sigma (s - s1~) and
// Cov[e | x~] = Cov[x | x~]/sigma^2 = sigma^2 s2~ + I, so
//     E[(e e^T - I)/sigma^2 | x~] = s2~ + delta delta^T:
// regressing s2 onto (e e^T - I)/sigma^2 has the exact s2~ as minimiser when s
// is exact (as Eq. 13 has), and an error QUADRATIC in delta otherwise. On hosm's
// 80-d logistic mixture (examples/table1.cpp) this took the direct diagonal s2
// from 15.2 to 7.4 with the same frozen s1.
//
// s1 is GIVEN (Theorem 2's setting): it enters as a constant and receives no
// gradient. Train it by DSM / DSM-VR first, or alongside with its own loss.
//
// Losses (C = (I - e e^T)/sigma^2, A = (I - z z^T)/sigma^2, per sample; the
// diagonal structure uses the diagonal of every matrix, as Eq. 17 does):
//
//   d2sm_centered:     l = ||H + C||^2 - ||C||^2 = ||H||^2 + 2 <C, H>,  e = z + sigma s.
//       ||C||^2 does not involve s2 and is dropped (it is O(D^2/sigma^4) and
//       would swamp the loss in float). dl/dH = 2 (H + C).
//   d2sm_centered_vr:  x+ = x + sigma z (e+ = z + sigma s+), x- = x - sigma z
//       (its noise is -z: e- = -z + sigma s-); C+- = A + B+- with
//       B+- = -+(z s+-^T + s+- z^T)/sigma - s+- s+-^T. As for D2SM-VR
//       (d2sm_vr.hpp), the pair MEAN of the two plain losses, less the
//       control variate 2 <A, H0> (mean 0 given x), with Delta = H+ + H- - 2 H0:
//         l = (||H+||^2 + ||H-||^2)/2 + <A, Delta> + <B+, H+> + <B-, H->
//           = (l(H+, e+) + l(H-, e-))/2 - 2 <A, H0>          (exactly, any model),
//       <A, Delta> = (tr Delta - z^T Delta z)/sigma^2 with the differences
//       taken first, and the 1/sigma parts of <B+, H+> + <B-, H-> as one
//       antithetic difference. dl/dH+- = H+- + C+-, dl/dH0 = -2 A.
//   Both take the batch mean, L = (1/N) sum_j l_j; so E[L_centred_vr] =
//   E[L_centred] exactly (the dropped ||C||^2 is dropped from both).
//
// Gradients in the structure's parameters (M = dl/dH, symmetric): full: M
// itself; low_rank H = diag(alpha) + B B^T: dalpha = diag(M), dB = 2 M B with
// M v in O(D R) (no D x D matrix; O(D R^2) per sample); diagonal: m. At small
// sigma the three VR gradients are each O(1/sigma^2) and cancel through the
// model's backward to O(1), as for D2SM-VR.
//
// API (s1_*, z: D x N batch views; s2_*, g2_*: hessian::batch<S, T, B>):
//
//   objectives::d2sm_centered<T> obj{sigma};
//   T loss(obj, s1, s2, z);     T loss_and_gradient(obj, s1, s2, z, g2)
//   objectives::d2sm_centered_vr<T> obj{sigma};
//   T loss(obj, s1_plus, s1_minus, s2_plus, s2_minus, s2_clean, z)
//   T loss_and_gradient(obj, s1_plus, s1_minus, s2_plus, s2_minus, s2_clean, z,
//                       g2_plus, g2_minus, g2_clean)
//
// (no s1 at the clean x is needed: the control variate involves A only.)
// Errors (hosm::error naming the function and argument): sigma not finite and
// > 0; D < 1 or N < 1; a view not D x N like the first s1; an s2 or g2 of
// another dim, count or rank; an output overlapping an input or another
// output; non-finite z; a non-finite loss (names the non-finite input).
#pragma once
#include <type_traits>
#include <vector>

#include <hosm/backend/algorithms.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/operations.hpp>
#include <hosm/objectives/detail/centered.hpp>
#include <hosm/objectives/detail/checks.hpp>
#include <hosm/objectives/detail/d2sm_kernels.hpp>

namespace hosm::objectives {

/// Centred D2SM configuration: the noise level sigma.
template <class T>
class d2sm_centered {
public:
    using value_type = T;
    explicit d2sm_centered(T sigma) : sigma_(sigma) {
        hosm::detail::check_positive("objectives::d2sm_centered", "sigma", sigma);
    }
    T sigma() const { return sigma_; }

private:
    T sigma_;
};

/// Centred D2SM-VR configuration: the noise level sigma.
template <class T>
class d2sm_centered_vr {
public:
    using value_type = T;
    explicit d2sm_centered_vr(T sigma) : sigma_(sigma) {
        hosm::detail::check_positive("objectives::d2sm_centered_vr", "sigma", sigma);
    }
    T sigma() const { return sigma_; }

private:
    T sigma_;
};

namespace detail {

/// (tr H - z^T H z) / sigma^2 = <A, H>.
template <class V, class T>
HOSM_HOST_DEVICE inline T a_inner(V H, const T* z) {
    return hessian::trace(H) - hessian::quad_form(H, z);
}

template <class S, class T>
struct d2sm_centered_fn {
    cref_t<S, T> H;
    mref_t<S, T> G;
    batch_view<const T> s1, z;
    T sigma, scale;
    bool grad;

    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const auto h = H.sample(j);
        const T *s = s1.col(j), *zj = z.col(j);
        const T l = hessian::frobenius_sq(h) +
                    T(2) * (a_inner(h, zj) / (sigma * sigma) + b_inner(h, s, zj, T(1), sigma));
        if (grad) cov_backward(h, s, zj, T(1), sigma, T(2) * scale, T(2) * scale, G.sample(j));
        return l;
    }
};

template <class S, class T>
struct d2sm_centered_vr_fn {
    cref_t<S, T> Hp, Hm, H0;
    mref_t<S, T> Gp, Gm, G0;
    batch_view<const T> sp, sm, z;
    T sigma, scale;
    bool grad;

    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const auto hp = Hp.sample(j), hm = Hm.sample(j), h0 = H0.sample(j);
        const T *a = sp.col(j), *b = sm.col(j), *zj = z.col(j);
        // <A, Delta> with the differences of traces and quadratic forms first
        const T tr = (hessian::trace(hp) + hessian::trace(hm)) - T(2) * hessian::trace(h0);
        const T q = (hessian::quad_form(hp, zj) + hessian::quad_form(hm, zj)) -
                    T(2) * hessian::quad_form(h0, zj);
        // <B+, H+> + <B-, H->: the 1/sigma parts as one antithetic difference
        const T xp = bilinear(hp, zj, a) + bilinear(hp, a, zj);
        const T xm = bilinear(hm, zj, b) + bilinear(hm, b, zj);
        const T l = (hessian::frobenius_sq(hp) + hessian::frobenius_sq(hm)) / T(2) +
                    (tr - q) / (sigma * sigma) - (xp - xm) / sigma -
                    (bilinear(hp, a, a) + bilinear(hm, b, b));
        if (grad) {
            cov_backward(hp, a, zj, T(1), sigma, scale, scale, Gp.sample(j));
            cov_backward(hm, b, zj, T(-1), sigma, scale, scale, Gm.sample(j));
            cov_backward(h0, static_cast<const T*>(nullptr), zj, T(1), sigma, T(0), T(-2) * scale,
                         G0.sample(j));
        }
        return l;
    }
};

template <concepts::Backend B, class S, class T>
T run_d2sm_centered(const char* where, T sigma, batch_view<const T> s1,
                    const hessian::batch<S, T, B>& s2, batch_view<const T> z,
                    hessian::batch<S, T, B>* g2) {
    hosm::detail::check_positive(where, "sigma", sigma);
    const index_t D = s1.dim, N = s1.count;
    check_sizes(where, D, N);
    check_view<T>(where, "s1", s1, D, N);
    check_hessian(where, "s2", s2, D, N);
    check_view<T>(where, "z", z, D, N);
    mref_t<S, T> G{};
    if (g2) {
        check_hessian(where, "g2", *g2, D, N, rank_of(s2));
        std::vector<named_view<T>> in{{"s1", s1}, {"z", z}}, out;
        views_of(in, "s2", s2);
        views_of(out, "g2", *g2);
        check_disjoint<T>(where, in, out);
        G = hessian::detail::mref(*g2);
    }
    check_finite<B>(where, "z", z);
    const T loss = mean_of_samples<B, T>(
        N, d2sm_centered_fn<S, T>{hessian::detail::cref(s2), G, s1, z, sigma,
                                  T(1) / static_cast<T>(N), g2 != nullptr});
    return finish(where, loss, [&] {
        check_finite<B>(where, "s1", s1);
        check_hessian_finite(where, "s2", s2);
    });
}

template <concepts::Backend B, class S, class T>
T run_d2sm_centered_vr(const char* where, T sigma, batch_view<const T> sp, batch_view<const T> sm,
                       const hessian::batch<S, T, B>& s2p, const hessian::batch<S, T, B>& s2m,
                       const hessian::batch<S, T, B>& s20, batch_view<const T> z,
                       hessian::batch<S, T, B>* g2p, hessian::batch<S, T, B>* g2m,
                       hessian::batch<S, T, B>* g20) {
    hosm::detail::check_positive(where, "sigma", sigma);
    const index_t D = sp.dim, N = sp.count;
    check_sizes(where, D, N);
    check_view<T>(where, "s1_plus", sp, D, N);
    check_view<T>(where, "s1_minus", sm, D, N);
    check_view<T>(where, "z", z, D, N);
    const bool grad = g2p != nullptr;
    std::vector<named_view<T>> in{{"s1_plus", sp}, {"s1_minus", sm}, {"z", z}}, out;
    const auto [Gp, Gm, G0] = check_s2_triple(where, D, N, s2p, s2m, s20, g2p, g2m, g20, in, out);
    check_finite<B>(where, "z", z);
    const T loss = mean_of_samples<B, T>(
        N, d2sm_centered_vr_fn<S, T>{hessian::detail::cref(s2p), hessian::detail::cref(s2m),
                                     hessian::detail::cref(s20), Gp, Gm, G0, sp, sm, z, sigma,
                                     T(1) / static_cast<T>(N), grad});
    return finish(where, loss, [&] {
        check_finite<B>(where, "s1_plus", sp);
        check_finite<B>(where, "s1_minus", sm);
        check_hessian_finite(where, "s2_plus", s2p);
        check_hessian_finite(where, "s2_minus", s2m);
        check_hessian_finite(where, "s2_clean", s20);
    });
}

}  // namespace detail

/// L = (1/N) sum_j [ ||H_j||^2 + 2 <C_j, H_j> ], C = (I - e e^T)/sigma^2, e = z + sigma s1.
template <concepts::Backend B, class S, class T>
T loss(const d2sm_centered<T>& obj, std::type_identity_t<batch_view<const T>> s1,
       const hessian::batch<S, T, B>& s2, std::type_identity_t<batch_view<const T>> z) {
    return detail::run_d2sm_centered<B, S, T>("objectives::loss(d2sm_centered)", obj.sigma(), s1,
                                              s2, z, nullptr);
}

/// L as in loss(), and g2 = dL/ds2 (s1 is a given constant: no gradient).
template <concepts::Backend B, class S, class T>
T loss_and_gradient(const d2sm_centered<T>& obj, std::type_identity_t<batch_view<const T>> s1,
                    const hessian::batch<S, T, B>& s2,
                    std::type_identity_t<batch_view<const T>> z, hessian::batch<S, T, B>& g2) {
    return detail::run_d2sm_centered<B, S, T>("objectives::loss_and_gradient(d2sm_centered)",
                                              obj.sigma(), s1, s2, z, &g2);
}

/// L = (1/N) sum_j [ (||H+||^2 + ||H-||^2)/2 + <A, H+ + H- - 2 H0> + <B+, H+> + <B-, H-> ].
template <concepts::Backend B, class S, class T>
T loss(const d2sm_centered_vr<T>& obj, std::type_identity_t<batch_view<const T>> s1_plus,
       std::type_identity_t<batch_view<const T>> s1_minus, const hessian::batch<S, T, B>& s2_plus,
       const hessian::batch<S, T, B>& s2_minus, const hessian::batch<S, T, B>& s2_clean,
       std::type_identity_t<batch_view<const T>> z) {
    return detail::run_d2sm_centered_vr<B, S, T>("objectives::loss(d2sm_centered_vr)", obj.sigma(),
                                                 s1_plus, s1_minus, s2_plus, s2_minus, s2_clean, z,
                                                 nullptr, nullptr, nullptr);
}

/// L as in loss(), and the gradients in the three s2 outputs.
template <concepts::Backend B, class S, class T>
T loss_and_gradient(const d2sm_centered_vr<T>& obj,
                    std::type_identity_t<batch_view<const T>> s1_plus,
                    std::type_identity_t<batch_view<const T>> s1_minus,
                    const hessian::batch<S, T, B>& s2_plus, const hessian::batch<S, T, B>& s2_minus,
                    const hessian::batch<S, T, B>& s2_clean,
                    std::type_identity_t<batch_view<const T>> z, hessian::batch<S, T, B>& g2_plus,
                    hessian::batch<S, T, B>& g2_minus, hessian::batch<S, T, B>& g2_clean) {
    return detail::run_d2sm_centered_vr<B, S, T>(
        "objectives::loss_and_gradient(d2sm_centered_vr)", obj.sigma(), s1_plus, s1_minus, s2_plus,
        s2_minus, s2_clean, z, &g2_plus, &g2_minus, &g2_clean);
}

}  // namespace hosm::objectives
