// hosm/objectives/dsm_vr.hpp — DSM with variance reduction (DSM-VR): the
// control variate of Wang et al. 2020 (seed 000 ref. [30]) on the antithetic
// pair of seed 000 Sec. 4.3.
//
// Derivation. With x~ = x + sigma z, the DSM integrand (dsm.hpp, Eq. 3) is
//
//     l(s, z) = (1/2) |s + z/sigma|^2 = (1/2)|s|^2 + z.s / sigma + |z|^2 / (2 sigma^2),
//
// and its variance explodes as sigma -> 0 (seed 001: "the loss variance would
// also increase drastically"): |z|^2/(2 sigma^2) does not depend on the model
// but has variance D/(2 sigma^4), and, writing s(x + sigma z) = s(x) + sigma J z
// + O(sigma^2), z.s(x~)/sigma = z.s(x)/sigma + z^T J z + O(sigma), whose first
// part has mean 0 but variance |s(x)|^2 / sigma^2.
//   Control variate [30]: E[z.s(x) | x] = 0 because s(x) (the model at the
// CLEAN point) does not depend on z, so subtracting z.s(x)/sigma leaves the
// expectation unchanged; the model-free |z|^2/(2 sigma^2) is dropped, which
// lowers the expectation by the constant D/(2 sigma^2):
//
//     l_cv(z) = (1/2)|s(x + sigma z)|^2 + z.(s(x + sigma z) - s(x)) / sigma .
//
//   Antithetic pair (Sec. 4.3): x- = x - sigma z has the law of x+ = x + sigma z,
// so averaging l_cv over z and -z keeps the expectation. With s+ = s(x+),
// s- = s(x-), s0 = s(x):
//
//     l_VR = (1/2)[l_cv(z) + l_cv(-z)]
//          = (1/4)(|s+|^2 + |s-|^2) + z.(s+ - s-) / (2 sigma).             (*)
//
// The control variate z.s0/sigma enters the two halves with opposite signs and
// cancels identically: on the antithetic pair, the clean evaluation is not
// needed (dl_VR/ds0 = 0; the three-evaluation overloads accept s0 so that the
// joint objective of joint.hpp can share it with D2SM-VR, and write a zero
// gradient for it). What remains is O(1) as sigma -> 0:
// (s+ - s-)/(2 sigma) = J z + O(sigma^2).
//
// Unbiasedness: for ANY model, l_VR = (1/2)[l(s+, z) + l(s-, -z)] - |z|^2/(2 sigma^2)
// exactly, so E[l_VR] = E[l] - D/(2 sigma^2) = L_DSM - offset(D): the same
// expected loss as DSM up to a constant, hence the same expected gradient in
// theta (tests/objectives/dsm_vr.test.cpp checks the identity and the
// variance reduction at sigma = 1e-3, the claim of seed 000 Fig. 1).
//
// Normalisation: (*) is the pair MEAN, so L_DSM-VR and L_DSM have the same
// scale (seed 000 writes D2SM-VR as a pair SUM; hosm halves both VR losses,
// see d2sm_vr.hpp). On a batch of N samples:
//
//     L = (1/N) sum_j l_VR,j,
//     dL/ds+_j = (s+_j + z_j/sigma) / (2N),  dL/ds-_j = (s-_j - z_j/sigma) / (2N),
//     dL/ds0_j = 0.
//
// API (all D x N batch views in B's memory; B defaults to backend::cpp):
//
//   objectives::dsm_vr<T> obj{sigma};   obj.sigma(); obj.offset(D) = D / (2 sigma^2)
//   T loss<B>(obj, s1_plus, s1_minus, z)
//   T loss<B>(obj, s1_plus, s1_minus, s1_clean, z)                 (same value)
//   T loss_and_gradient<B>(obj, s1_plus, s1_minus, z, g1_plus, g1_minus)
//   T loss_and_gradient<B>(obj, s1_plus, s1_minus, s1_clean, z, g1_plus, g1_minus, g1_clean)
//
// s1_plus = s1(x + sigma z), s1_minus = s1(x - sigma z), s1_clean = s1(x);
// outputs must not overlap inputs. Errors (hosm::error naming the function
// and argument): sigma not finite and > 0; D < 1 or N < 1; any view not
// D x N like s1_plus; an output overlapping an input or another output;
// non-finite z; a non-finite loss (names the non-finite
// model output, or reports overflow).
#pragma once
#include <type_traits>
#include <vector>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/objectives/detail/checks.hpp>
#include <hosm/objectives/detail/dsm_sample.hpp>

namespace hosm::objectives {

/// DSM-VR configuration: the noise level sigma.
template <class T>
class dsm_vr {
public:
    using value_type = T;
    explicit dsm_vr(T sigma) : sigma_(sigma) {
        hosm::detail::check_positive("objectives::dsm_vr", "sigma", sigma);
    }
    T sigma() const { return sigma_; }
    /// E[L_DSM] - E[L_DSM-VR] = D / (2 sigma^2), for any model.
    T offset(index_t D) const { return static_cast<T>(D) / (T(2) * sigma_ * sigma_); }

private:
    T sigma_;
};

namespace detail {

template <class T>
struct dsm_vr_fn {
    batch_view<const T> sp, sm, z;
    batch_view<T> gp, gm, g0;
    T sigma, scale;
    bool grad, clean;
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const T *a = sp.col(j), *b = sm.col(j), *zj = z.col(j);
        if (grad) {
            dsm_vr_backward(sp.dim, a, b, zj, sigma, scale, gp.col(j), gm.col(j), false);
            if (clean) {
                T* g = g0.col(j);
                for (index_t i = 0; i < sp.dim; ++i) g[i] = T(0);
            }
        }
        return dsm_vr_sample(sp.dim, a, b, zj, sigma);
    }
};

template <concepts::Backend B, class T>
T run_dsm_vr(const char* where, T sigma, batch_view<const T> sp, batch_view<const T> sm,
             const batch_view<const T>* s0, batch_view<const T> z, batch_view<T> gp,
             batch_view<T> gm, const batch_view<T>* g0, bool grad) {
    hosm::detail::check_positive(where, "sigma", sigma);
    const index_t D = sp.dim, N = sp.count;
    check_sizes(where, D, N);
    check_view<T>(where, "s1_plus", sp, D, N);
    check_view<T>(where, "s1_minus", sm, D, N);
    if (s0) check_view<T>(where, "s1_clean", *s0, D, N);
    check_view<T>(where, "z", z, D, N);
    if (grad) {
        check_view<T>(where, "g1_plus", gp, D, N);
        check_view<T>(where, "g1_minus", gm, D, N);
        if (g0) check_view<T>(where, "g1_clean", *g0, D, N);
        std::vector<named_view<T>> in{{"s1_plus", sp}, {"s1_minus", sm}, {"z", z}};
        std::vector<named_view<T>> out{{"g1_plus", gp}, {"g1_minus", gm}};
        if (s0) in.push_back({"s1_clean", *s0});
        if (g0) out.push_back({"g1_clean", *g0});
        check_disjoint<T>(where, in, out);
    }
    check_finite<B>(where, "z", z);
    const T loss =
        mean_of_samples<B, T>(N, dsm_vr_fn<T>{sp, sm, z, gp, gm, g0 ? *g0 : batch_view<T>{}, sigma,
                                              T(1) / static_cast<T>(N), grad, g0 != nullptr});
    return finish(where, loss, [&] {
        check_finite<B>(where, "s1_plus", sp);
        check_finite<B>(where, "s1_minus", sm);
    });
}

}  // namespace detail

/// L = (1/N) sum_j [(|s+|^2 + |s-|^2)/4 + z.(s+ - s-)/(2 sigma)].
template <concepts::Backend B = backend::cpp, class T>
T loss(const dsm_vr<T>& obj, std::type_identity_t<batch_view<const T>> s1_plus,
       std::type_identity_t<batch_view<const T>> s1_minus,
       std::type_identity_t<batch_view<const T>> z) {
    return detail::run_dsm_vr<B, T>("objectives::loss(dsm_vr)", obj.sigma(), s1_plus, s1_minus,
                                    nullptr, z, {}, {}, nullptr, false);
}

/// The same value; s1_clean (the model at x) is checked for shape only, since
/// the control variate cancels on the antithetic pair (see the header).
template <concepts::Backend B = backend::cpp, class T>
T loss(const dsm_vr<T>& obj, std::type_identity_t<batch_view<const T>> s1_plus,
       std::type_identity_t<batch_view<const T>> s1_minus,
       std::type_identity_t<batch_view<const T>> s1_clean,
       std::type_identity_t<batch_view<const T>> z) {
    return detail::run_dsm_vr<B, T>("objectives::loss(dsm_vr)", obj.sigma(), s1_plus, s1_minus,
                                    &s1_clean, z, {}, {}, nullptr, false);
}

/// L and g1_plus = dL/ds+, g1_minus = dL/ds-.
template <concepts::Backend B = backend::cpp, class T>
T loss_and_gradient(const dsm_vr<T>& obj, std::type_identity_t<batch_view<const T>> s1_plus,
                    std::type_identity_t<batch_view<const T>> s1_minus,
                    std::type_identity_t<batch_view<const T>> z,
                    std::type_identity_t<batch_view<T>> g1_plus,
                    std::type_identity_t<batch_view<T>> g1_minus) {
    return detail::run_dsm_vr<B, T>("objectives::loss_and_gradient(dsm_vr)", obj.sigma(), s1_plus,
                                    s1_minus, nullptr, z, g1_plus, g1_minus, nullptr, true);
}

/// L and the gradients in the three evaluations; g1_clean = dL/ds0 = 0.
template <concepts::Backend B = backend::cpp, class T>
T loss_and_gradient(const dsm_vr<T>& obj, std::type_identity_t<batch_view<const T>> s1_plus,
                    std::type_identity_t<batch_view<const T>> s1_minus,
                    std::type_identity_t<batch_view<const T>> s1_clean,
                    std::type_identity_t<batch_view<const T>> z,
                    std::type_identity_t<batch_view<T>> g1_plus,
                    std::type_identity_t<batch_view<T>> g1_minus,
                    std::type_identity_t<batch_view<T>> g1_clean) {
    return detail::run_dsm_vr<B, T>("objectives::loss_and_gradient(dsm_vr)", obj.sigma(), s1_plus,
                                    s1_minus, &s1_clean, z, g1_plus, g1_minus, &g1_clean, true);
}

}  // namespace hosm::objectives
