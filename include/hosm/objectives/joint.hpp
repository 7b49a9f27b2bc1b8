// hosm/objectives/joint.hpp — the joint objectives that train s1 and s2
// together: seed 000 Eq. (14)-(15), the diagonal variant Eq. (16), and the
// variance-reduced L_joint-VR of Sec. 4.3.
//
// Maths. D2SM (Eq. 13) needs the exact s1, so seed 000 trains both heads with
//
//     L_joint = L_D2SM + gamma L_DSM,                                        (14)
//
// gamma >= 0 (the seed asks gamma > 0; gamma = 0 is accepted and gives plain
// D2SM). Its batch estimator, Eq. (15), is
//
//     L = (1/N) sum_j [ ||s2_j + s1_j s1_j^T + (I - z_j z_j^T)/sigma^2||_F^2
//                       + (gamma/2) ||s1_j + z_j/sigma||^2 ],
//
// i.e. hosm's d2sm + gamma * dsm with their normalisations (d2sm.hpp, dsm.hpp):
// both terms are batch means, the DSM term keeps the 1/2 of Eq. (3). For a
// diagonal s2 (S = hessian::diagonal) the D2SM term is Eq. (17), so L is
// L_joint-diag of Eq. (16). Gradients add: dL/ds1 = dL_D2SM/ds1 + gamma dL_DSM/ds1,
// dL/ds2 = dL_D2SM/ds2; both terms are computed in one pass per sample.
//
// Variance reduction (policy variance_reduction::antithetic, alias joint_vr):
//
//     L_joint-VR = L_D2SM-VR + gamma L_DSM-VR                          (Sec. 4.3)
//
// with hosm's pair-mean normalisation of both (d2sm_vr.hpp, dsm_vr.hpp), so
// E[L_joint-VR] = E[L_joint] - offset<S>(D) for any model, offset =
// d2sm_vr offset + gamma D/(2 sigma^2), and gamma weighs the two terms as in
// L_joint. The model is evaluated at x+ = x + sigma z, x- = x - sigma z and x.
//
// API (views D x N and hessian::batch<S, T, B> in B's memory; B deduced from s2):
//
//   objectives::joint<T> obj{sigma, gamma};           // variance_reduction::none
//   objectives::joint_vr<T> vr{sigma, gamma};         // joint<T, variance_reduction::antithetic>
//   obj.sigma(), obj.gamma(), vr.offset<S>(D)
//
//   loss(obj, s1, s2, z)                     loss_and_gradient(obj, s1, s2, z, g1, g2)
//   loss(vr, s1_plus, s1_minus, s1_clean, s2_plus, s2_minus, s2_clean, z)
//   loss_and_gradient(vr, ... the same ..., z, g1_plus, g1_minus, g1_clean,
//                     g2_plus, g2_minus, g2_clean)
//
// Errors (hosm::error naming the function and argument): sigma not finite and
// > 0; gamma not finite or < 0; and those of d2sm / d2sm_vr (shapes, ranks,
// non-finite z, non-finite loss).
#pragma once
#include <type_traits>

#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/objectives/d2sm_vr.hpp>
#include <hosm/objectives/detail/d2sm_kernels.hpp>
#include <hosm/objectives/dsm_vr.hpp>
#include <hosm/objectives/variance_reduction/antithetic.hpp>
#include <hosm/objectives/variance_reduction/none.hpp>

namespace hosm::objectives {

/// L_D2SM + gamma L_DSM (V = variance_reduction::none, Eq. 14-16) or
/// L_D2SM-VR + gamma L_DSM-VR (V = variance_reduction::antithetic, Sec. 4.3).
template <class T, class V = variance_reduction::none>
class joint {
    static_assert(std::is_same_v<V, variance_reduction::none> ||
                      std::is_same_v<V, variance_reduction::antithetic>,
                  "hosm::objectives::joint<T, V>: V must be variance_reduction::none or "
                  "variance_reduction::antithetic");

public:
    using value_type = T;
    using variance_reduction_type = V;
    joint(T sigma, T gamma) : sigma_(sigma), gamma_(gamma) {
        hosm::detail::check_positive("objectives::joint", "sigma", sigma);
        hosm::detail::check_nonnegative("objectives::joint", "gamma", gamma);
    }
    T sigma() const { return sigma_; }
    T gamma() const { return gamma_; }
    /// E[L_joint] - E[L_joint-VR] for any model (antithetic only).
    template <class S>
    T offset(index_t D) const requires std::is_same_v<V, variance_reduction::antithetic> {
        return d2sm_vr<T>(sigma_).template offset<S>(D) + gamma_ * dsm_vr<T>(sigma_).offset(D);
    }

private:
    T sigma_, gamma_;
};

/// The variance-reduced joint objective L_D2SM-VR + gamma L_DSM-VR.
template <class T>
using joint_vr = joint<T, variance_reduction::antithetic>;

/// L = (1/N) sum_j [ ||E_j||^2 + (gamma/2) ||s1_j + z_j/sigma||^2 ]  (Eq. 15; Eq. 16 for diagonal).
template <concepts::Backend B, class S, class T>
T loss(const joint<T>& obj, std::type_identity_t<batch_view<const T>> s1,
       const hessian::batch<S, T, B>& s2, std::type_identity_t<batch_view<const T>> z) {
    return detail::run_d2sm<B, S, T>("objectives::loss(joint)", obj.sigma(), obj.gamma(), s1, s2, z,
                                     {}, nullptr);
}

/// L as in loss(); g1 = dL/ds1 (both terms), g2 = dL/ds2.
template <concepts::Backend B, class S, class T>
T loss_and_gradient(const joint<T>& obj, std::type_identity_t<batch_view<const T>> s1,
                    const hessian::batch<S, T, B>& s2, std::type_identity_t<batch_view<const T>> z,
                    std::type_identity_t<batch_view<T>> g1, hessian::batch<S, T, B>& g2) {
    return detail::run_d2sm<B, S, T>("objectives::loss_and_gradient(joint)", obj.sigma(),
                                     obj.gamma(), s1, s2, z, g1, &g2);
}

/// L = L_D2SM-VR + gamma L_DSM-VR on a batch (hosm's pair-mean normalisation).
template <concepts::Backend B, class S, class T>
T loss(const joint_vr<T>& obj, std::type_identity_t<batch_view<const T>> s1_plus,
       std::type_identity_t<batch_view<const T>> s1_minus,
       std::type_identity_t<batch_view<const T>> s1_clean, const hessian::batch<S, T, B>& s2_plus,
       const hessian::batch<S, T, B>& s2_minus, const hessian::batch<S, T, B>& s2_clean,
       std::type_identity_t<batch_view<const T>> z) {
    return detail::run_d2sm_vr<B, S, T>("objectives::loss(joint_vr)", obj.sigma(), obj.gamma(),
                                        s1_plus, s1_minus, s1_clean, s2_plus, s2_minus, s2_clean, z,
                                        {}, {}, {}, nullptr, nullptr, nullptr);
}

/// L as in loss(), and the gradients in the six model outputs.
template <concepts::Backend B, class S, class T>
T loss_and_gradient(const joint_vr<T>& obj, std::type_identity_t<batch_view<const T>> s1_plus,
                    std::type_identity_t<batch_view<const T>> s1_minus,
                    std::type_identity_t<batch_view<const T>> s1_clean,
                    const hessian::batch<S, T, B>& s2_plus, const hessian::batch<S, T, B>& s2_minus,
                    const hessian::batch<S, T, B>& s2_clean,
                    std::type_identity_t<batch_view<const T>> z,
                    std::type_identity_t<batch_view<T>> g1_plus,
                    std::type_identity_t<batch_view<T>> g1_minus,
                    std::type_identity_t<batch_view<T>> g1_clean, hessian::batch<S, T, B>& g2_plus,
                    hessian::batch<S, T, B>& g2_minus, hessian::batch<S, T, B>& g2_clean) {
    return detail::run_d2sm_vr<B, S, T>("objectives::loss_and_gradient(joint_vr)", obj.sigma(),
                                        obj.gamma(), s1_plus, s1_minus, s1_clean, s2_plus, s2_minus,
                                        s2_clean, z, g1_plus, g1_minus, g1_clean, &g2_plus,
                                        &g2_minus, &g2_clean);
}

}  // namespace hosm::objectives
