// hosm/objectives/d2sm.hpp — second-order denoising score matching (D2SM),
// seed 000 Eq. (13) for full and low-rank s2, Eq. (17) for diagonal s2.
//
// Maths. x ~ p_data, z ~ N(0, I), x~ = x + sigma z. Theorem 1, Eq. (10), gives
// E[x x^T - x x~^T - x~ x^T | x~] = -x~ x~^T + sigma^4 (s2 + s1 s1^T) + sigma^2 I
// for the scores s1, s2 of q_sigma at x~; the least-squares form of it,
// Eq. (12), simplifies (divide by sigma^4, use x = x~ - sigma z) to Eq. (13):
//
//     L_D2SM = E || s2(x~) + s1(x~) s1(x~)^T + (I - z z^T) / sigma^2 ||_F^2 .
//
// Its minimiser in s2, given the exact s1, is the exact s2 (Theorem 2); at the
// exact scores E[E | x~] = 0 for the residual E below, so the exact scores are
// a stationary point in both s1 and s2 (checked by Monte Carlo in the tests).
// As in Eq. (13) and (15) there is no factor 1/2; hosm takes the batch MEAN:
//
//     L = (1/N) sum_j ||E_j||^2,   E_j = H_j + s1_j s1_j^T + (I - z_j z_j^T)/sigma^2,
//
// with H = s2 in the structure S of the s2 batch:
//
//   S = hessian::full        Eq. (13) as written.
//       dL/dH_j = (2/N) E_j (all D^2 entries as independent numbers, the layout
//       of the model's backward), dL/ds1_j = (2/N)(E_j + E_j^T) s1_j (= (4/N) E_j s1_j
//       for a symmetric H). O(D^2) per sample.
//   S = hessian::low_rank<R> H = diag(alpha) + B B^T (Sec. 4.2), Eq. (13). With
//       dl = 2<E, dE> and dE = diag(dalpha) + dB B^T + B dB^T + ds1 s1^T + s1 ds1^T
//       (E symmetric):
//         dL/dalpha_j = (2/N) diag(E_j),  dL/dB_j = (4/N) E_j B_j,  dL/ds1_j = (4/N) E_j s1_j,
//       where E v = alpha o v + B (B^T v) + s1 (s1 . v) + (v - z (z . v)) / sigma^2
//       costs O(D R) and E is never formed: O(D R^2) time, O(1) extra memory per
//       sample; the loss is hessian::d2sm_residual_sq (Gram identity, O(D (R+2)^2)).
//   S = hessian::diagonal    Eq. (17), the diagonal objective of Eq. (16):
//         l = || d + s1 o s1 + (1 - z o z) / sigma^2 ||^2 = ||e||^2,
//         dL/dd_j = (2/N) e_j,  dL/ds1_j = (4/N) e_j o s1_j.       O(D) per sample.
//
// API (s1, z, g1: D x N batch views; s2, g2: hessian::batch<S, T, B>; all in
// B's memory; B is deduced from s2 or given, loss<backend::omp>(...)):
//
//   objectives::d2sm<T> obj{sigma};                  sigma finite and > 0
//   T objectives::loss(obj, s1, s2, z)
//   T objectives::loss_and_gradient(obj, s1, s2, z, g1, g2)   g1 = dL/ds1, g2 = dL/ds2
//
// g2 has s2's structure, dim, count (and rank); outputs must not overlap the
// inputs. Errors (hosm::error naming the function and argument): sigma not
// finite and > 0; D < 1 or N < 1; z, g1 not D x N like s1; s2 or g2 of
// another dim, count or rank; an output overlapping an input or the other
// output; non-finite z; a non-finite loss (names the
// non-finite model output, or reports overflow).
#pragma once
#include <type_traits>

#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/objectives/detail/d2sm_kernels.hpp>

namespace hosm::objectives {

/// D2SM configuration (seed 000 Eq. 13 / 17): the noise level sigma.
template <class T>
class d2sm {
public:
    using value_type = T;
    explicit d2sm(T sigma) : sigma_(sigma) {
        hosm::detail::check_positive("objectives::d2sm", "sigma", sigma);
    }
    T sigma() const { return sigma_; }

private:
    T sigma_;
};

/// L = (1/N) sum_j ||E_j||^2 (Eq. 13; Eq. 17 for a diagonal s2).
template <concepts::Backend B, class S, class T>
T loss(const d2sm<T>& obj, std::type_identity_t<batch_view<const T>> s1,
       const hessian::batch<S, T, B>& s2, std::type_identity_t<batch_view<const T>> z) {
    return detail::run_d2sm<B, S, T>("objectives::loss(d2sm)", obj.sigma(), T(0), s1, s2, z, {},
                                     nullptr);
}

/// L as in loss(); writes g1 = dL/ds1 and g2 = dL/ds2 in S's layout.
template <concepts::Backend B, class S, class T>
T loss_and_gradient(const d2sm<T>& obj, std::type_identity_t<batch_view<const T>> s1,
                    const hessian::batch<S, T, B>& s2, std::type_identity_t<batch_view<const T>> z,
                    std::type_identity_t<batch_view<T>> g1, hessian::batch<S, T, B>& g2) {
    return detail::run_d2sm<B, S, T>("objectives::loss_and_gradient(d2sm)", obj.sigma(), T(0), s1,
                                     s2, z, g1, &g2);
}

}  // namespace hosm::objectives
