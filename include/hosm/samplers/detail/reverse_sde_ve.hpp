// hosm/samplers/detail/reverse_sde_ve.hpp — the variance-exploding (VE)
// forward SDE of seed 001, with a geometric noise level.
//
// Forward process (seed 001, "Variance Exploding: f = 0, g(t) = sqrt(d sigma_t^2 / dt)"):
//
//     dX_t = sqrt(d sigma^2(t) / dt) dB_t,   t in [0, 1],   X_0 ~ p,
//     sigma(t) = sigma_min (sigma_max / sigma_min)^t        (the NCSN geometric
//                                                            levels, noise/schedule.hpp)
//
// so X_t = X_0 + s_t eps exactly, with mean scale a_t = 1 and
//
//     s_t^2 = sigma(t)^2 - sigma(0)^2 = sigma_min^2 ((sigma_max/sigma_min)^{2t} - 1),
//
// i.e. q_t = p * N(0, s_t^2 I) (s_0 = 0: q_0 = p). Reverse SDE:
// dY = g(T - t)^2 grad log q_{T-t}(Y) dt + g(T - t) dB. The exponential
// integrator (score frozen at the step's start, forward time t -> t' < t) is
//
//     x' = x + (sigma(t)^2 - sigma(t')^2) s_t(x) + sqrt(sigma(t)^2 - sigma(t')^2) xi
//
// (the integral of g^2 over [t', t]), step(t, t') = {1, dv, dv}. The reverse
// chain starts from the prior N(0, s_1^2 I) (prior_std() = s_1), which
// approximates q_1 when sigma_max is large against the data's spread.
//
// API: samplers::ve_sde<T> p(sigma_min, sigma_max)   0 < sigma_min < sigma_max;
//   p.sigma_min(), p.sigma_max(), p.horizon() (1), p.sigma(t), p.mean_scale(t) (1),
//   p.noise_std(t) (s_t), p.prior_std() (s_1), p.step(t, t_next) (reverse_step<T>)
// Errors (hosm::error): sigma_min <= 0, sigma_max <= sigma_min, non-finite.
#pragma once
#include <cmath>

#include <hosm/core/checks.hpp>
#include <hosm/samplers/detail/reverse_sde_step.hpp>

namespace hosm::samplers {

template <class T>
class ve_sde {
public:
    using value_type = T;

    ve_sde(T sigma_min, T sigma_max) : min_(sigma_min), max_(sigma_max) {
        hosm::detail::check_positive("samplers::ve_sde", "sigma_min", sigma_min);
        hosm::detail::check_positive("samplers::ve_sde", "sigma_max", sigma_max);
        if (!(sigma_max > sigma_min))
            hosm::detail::fail("samplers::ve_sde", "argument 'sigma_max' = ", sigma_max,
                               " must be > sigma_min = ", sigma_min);
        log_r_ = std::log(sigma_max / sigma_min);
    }

    T sigma_min() const { return min_; }
    T sigma_max() const { return max_; }
    T horizon() const { return T(1); }
    T sigma(T t) const { return min_ * std::exp(t * log_r_); }
    T mean_scale(T) const { return T(1); }
    T noise_std(T t) const { return min_ * std::sqrt(std::expm1(T(2) * t * log_r_)); }
    T prior_std() const { return noise_std(horizon()); }

    /// sigma(t)^2 - sigma(t')^2 = sigma_min^2 r^{2 t'} (r^{2 (t - t')} - 1).
    reverse_step<T> step(T t, T t_next) const {
        const T dv = min_ * min_ * std::exp(T(2) * t_next * log_r_) *
                     std::expm1(T(2) * (t - t_next) * log_r_);
        return {T(1), dv, dv};
    }

private:
    T min_, max_, log_r_;
};

}  // namespace hosm::samplers
