// hosm/samplers/detail/ozaki_coefficients.hpp — the scalar functions of the
// Ozaki step (see hosm/samplers/ozaki.hpp for the derivation).
//
// For an eigenvalue lambda of s2 (or a diagonal entry, for the diagonal
// structure), after the curvature policy has mapped it to lambda_hat <= 0:
//
//   expm1_ratio(u)  = (e^u - 1) / u,  = 1 at u = 0, always > 0; for |u| < 1e-4
//                     the series 1 + u/2 + u^2/6 + u^3/24 (truncation error
//                     < u^4/120 < 1e-18 relative), else expm1(u) / u (both
//                     accurate to a few ulp: expm1 avoids the cancellation of
//                     e^u - 1, the series the 0/0 at u = 0)
//   drift(l)        = (e^{eps l / 2} - 1) / l = (eps/2) expm1_ratio(eps l / 2)  -> eps/2 as l -> 0
//   variance(l)     = (e^{eps l} - 1) / l     = eps expm1_ratio(eps l)          -> eps   as l -> 0
//   noise_sd(l)     = sqrt(variance(l))
//
// For l <= 0 both are in (0, eps/2] and (0, eps]: bounded, decreasing in |l|
// like 1/|l|, never overflowing. The curvature policy (effective):
//   clamp      lambda_hat = min(lambda, -floor)
//   absolute   lambda_hat = -max(|lambda|, floor)
// with floor >= 0 (0 by default).
#pragma once
#include <cmath>

#include <hosm/config.hpp>

namespace hosm::samplers::detail {

template <class T>
HOSM_HOST_DEVICE inline T expm1_ratio(T u) {
    if (u < T(1e-4) && u > T(-1e-4))
        return T(1) + u / T(2) * (T(1) + u / T(3) * (T(1) + u / T(4)));
    return std::expm1(u) / u;
}

template <class T>
struct ozaki_coefficients {
    T eps = T(0);
    T floor = T(0);
    bool absolute = false;

    HOSM_HOST_DEVICE T effective(T lambda) const {
        if (absolute) {
            const T a = lambda < T(0) ? -lambda : lambda;
            return -(a > floor ? a : floor);
        }
        return lambda < -floor ? lambda : -floor;
    }
    HOSM_HOST_DEVICE T drift(T lambda_hat) const {
        const T h = eps / T(2);
        return h * expm1_ratio(h * lambda_hat);
    }
    HOSM_HOST_DEVICE T variance(T lambda_hat) const { return eps * expm1_ratio(eps * lambda_hat); }
    HOSM_HOST_DEVICE T noise_sd(T lambda_hat) const { return std::sqrt(variance(lambda_hat)); }
};

}  // namespace hosm::samplers::detail
