// hosm/objectives/d2sm_vr.hpp — D2SM with antithetic variance reduction
// (D2SM-VR), seed 000 Sec. 4.3, for full, low-rank and diagonal s2.
//
// Seed 000 Sec. 4.3, with psi = s2 + s1 s1^T, x+ = x + sigma z, x- = x - sigma z:
//
//     L_D2SM-VR = E[ psi(x+)^2 + psi(x-)^2
//                    + 2 (I - z z^T)/sigma^2 (.) (psi(x+) + psi(x-) - 2 psi(x)) ],
//
// where psi^2 is ||psi||_F^2 and (.) the Frobenius inner product <P, Q> = sum P_ij Q_ij.
//
// Derivation. Let A = (I - z z^T)/sigma^2; the D2SM integrand (Eq. 13) at x~ is
// ||psi(x~) + A||^2. A is even in z, so the integrand at x+ and at x- (whose
// noise is -z) uses the same A, and
//
//     ||psi+ + A||^2 + ||psi- + A||^2 = ||psi+||^2 + ||psi-||^2 + 2<A, psi+ + psi-> + 2||A||^2.
//
// 2||A||^2 does not involve the model (its mean is 2(D^2 + D)/sigma^4, since
// E||I - z z^T||_F^2 = sum_{i != j} E z_i^2 z_j^2 + sum_i E(1 - z_i^2)^2 = D(D-1) + 2D) and is
// dropped; 4<A, psi(x)> has mean 0 given x (psi at the clean x does not depend
// on z and E[A] = 0) and is subtracted as a control variate. That leaves the
// bracket above, in which Delta = psi+ + psi- - 2 psi0 = O(sigma^2) for a smooth
// model, so <A, Delta> = O(1) instead of the O(1/sigma^2) of <A, psi>.
//
// Normalisation: hosm takes the pair MEAN, half of the seed's pair sum, so that
// the VR loss has the scale of L_D2SM (and gamma keeps its meaning in joint.hpp):
//
//     l_VR = (1/2)(||psi+||^2 + ||psi-||^2) + <A, Delta>,     L = (1/N) sum_j l_VR,j,
//
// and for ANY model l_VR = (1/2)[l(psi+, z) + l(psi-, -z)] - ||A||^2 - 2<A, psi0>
// exactly, so E[L] = L_D2SM - offset<S>(D) with offset = (D^2 + D)/sigma^4.
// For a diagonal s2 the same construction on Eq. (17), with psi_i = d_i + s1_i^2
// and A_i = (1 - z_i^2)/sigma^2, gives l_VR = (1/2) sum (psi+_i^2 + psi-_i^2) +
// sum A_i Delta_i and offset = E||A||^2 = 2 D / sigma^4.
//
// Gradients. dl/dpsi+ = psi+ + A = E+ (the D2SM residual at x+ with this z),
// dl/dpsi- = E-, dl/dpsi0 = -2A. Through psi = H + s1 s1^T (see d2sm.hpp):
//   full:      dL/dH+- = E+- / N,            dL/ds1+- = (E+- + E+-^T) s1+- / N,
//              dL/dH0  = -2 A / N,           dL/ds10  = -4 A s10 / N;
//   low_rank:  dL/dalpha+- = diag(E+-)/N, dL/dB+- = 2 E+- B+- / N, dL/ds1+- = 2 E+- s1+- / N,
//              dL/dalpha0 = -2 diag(A)/N, dL/dB0 = -4 A B0 / N,   dL/ds10 = -4 A s10 / N,
//              with E v and A v in O(D R) (no D x D matrix), O(D R^2) per sample;
//   diagonal:  dL/dd+- = e+- / N, dL/ds1+- = 2 e+- o s1+- / N,
//              dL/dd0 = -2 a / N, dL/ds10 = -4 a o s10 / N      (a_i = A_i).
// The three gradients are each O(1/sigma^2); their sum through the model's
// backward is O(1) (the cancellation the estimator is built on), so at very
// small sigma use double or accept the float rounding of that cancellation.
// The value <A, Delta> is formed as (tr Delta - z^T Delta z)/sigma^2 with the
// differences taken first (hessian::trace and hessian::quad_form of each s2).
//
// API (s1_*, z, g1_*: D x N batch views; s2_*, g2_*: hessian::batch<S, T, B>):
//
//   objectives::d2sm_vr<T> obj{sigma};  obj.sigma();  obj.offset<S>(D)
//   T loss(obj, s1_plus, s1_minus, s1_clean, s2_plus, s2_minus, s2_clean, z)
//   T loss_and_gradient(obj, s1_plus, s1_minus, s1_clean, s2_plus, s2_minus, s2_clean, z,
//                       g1_plus, g1_minus, g1_clean, g2_plus, g2_minus, g2_clean)
//
// *_plus at x + sigma z, *_minus at x - sigma z, *_clean at x. Outputs must not
// overlap inputs. Errors (hosm::error naming the function and argument):
// sigma not finite and > 0; D < 1 or N < 1; any view not D x N like s1_plus;
// an s2 or g2 of another dim or count, a g2 of another rank than its s2;
// an output overlapping an input or another output; non-finite z; a
// non-finite loss (names the model output, or reports overflow).
#pragma once
#include <type_traits>

#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/objectives/detail/d2sm_kernels.hpp>

namespace hosm::objectives {

/// D2SM-VR configuration (seed 000 Sec. 4.3): the noise level sigma.
template <class T>
class d2sm_vr {
public:
    using value_type = T;
    explicit d2sm_vr(T sigma) : sigma_(sigma) {
        hosm::detail::check_positive("objectives::d2sm_vr", "sigma", sigma);
    }
    T sigma() const { return sigma_; }
    /// E[L_D2SM] - E[L_D2SM-VR] for any model: (D^2 + D)/sigma^4 (full,
    /// low_rank; Eq. 13), 2 D / sigma^4 (diagonal; Eq. 17).
    template <class S>
    T offset(index_t D) const {
        const T d = static_cast<T>(D), s4 = sigma_ * sigma_ * sigma_ * sigma_;
        if constexpr (std::is_same_v<S, hessian::diagonal>)
            return T(2) * d / s4;
        else
            return (d * d + d) / s4;
    }

private:
    T sigma_;
};

/// L = (1/N) sum_j [ (||psi+||^2 + ||psi-||^2)/2 + <A, psi+ + psi- - 2 psi0> ].
template <concepts::Backend B, class S, class T>
T loss(const d2sm_vr<T>& obj, std::type_identity_t<batch_view<const T>> s1_plus,
       std::type_identity_t<batch_view<const T>> s1_minus,
       std::type_identity_t<batch_view<const T>> s1_clean, const hessian::batch<S, T, B>& s2_plus,
       const hessian::batch<S, T, B>& s2_minus, const hessian::batch<S, T, B>& s2_clean,
       std::type_identity_t<batch_view<const T>> z) {
    return detail::run_d2sm_vr<B, S, T>("objectives::loss(d2sm_vr)", obj.sigma(), T(0), s1_plus,
                                        s1_minus, s1_clean, s2_plus, s2_minus, s2_clean, z, {}, {},
                                        {}, nullptr, nullptr, nullptr);
}

/// L as in loss(), and the gradients in the six model outputs.
template <concepts::Backend B, class S, class T>
T loss_and_gradient(const d2sm_vr<T>& obj, std::type_identity_t<batch_view<const T>> s1_plus,
                    std::type_identity_t<batch_view<const T>> s1_minus,
                    std::type_identity_t<batch_view<const T>> s1_clean,
                    const hessian::batch<S, T, B>& s2_plus, const hessian::batch<S, T, B>& s2_minus,
                    const hessian::batch<S, T, B>& s2_clean,
                    std::type_identity_t<batch_view<const T>> z,
                    std::type_identity_t<batch_view<T>> g1_plus,
                    std::type_identity_t<batch_view<T>> g1_minus,
                    std::type_identity_t<batch_view<T>> g1_clean, hessian::batch<S, T, B>& g2_plus,
                    hessian::batch<S, T, B>& g2_minus, hessian::batch<S, T, B>& g2_clean) {
    return detail::run_d2sm_vr<B, S, T>("objectives::loss_and_gradient(d2sm_vr)", obj.sigma(), T(0),
                                        s1_plus, s1_minus, s1_clean, s2_plus, s2_minus, s2_clean, z,
                                        g1_plus, g1_minus, g1_clean, &g2_plus, &g2_minus,
                                        &g2_clean);
}

}  // namespace hosm::objectives
