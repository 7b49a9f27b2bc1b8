// hosm/samplers/detail/reverse_sde_vp.hpp — the variance-preserving (VP)
// forward SDE of seed 001, the Ornstein-Uhlenbeck process.
//
// Forward process (seed 001, "Variance Preserving: f = -X, g = sqrt 2"; "the OU
// forward process"):
//
//     dX_t = -X_t dt + sqrt(2) dB_t,   t in [0, T],   X_0 ~ p,
//     X_t | X_0 ~ N(e^{-t} X_0, (1 - e^{-2t}) I),
//
// so X_t = a_t X_0 + s_t eps with a_t = e^{-t}, s_t^2 = 1 - e^{-2t}: q_t is p
// scaled by a_t and smoothed by s_t. Reverse SDE (seed 001):
// dY = (Y + 2 grad log q_{T-t}(Y)) dt + sqrt(2) dB. Its exponential integrator
// (seed 001: the score frozen over [kh, (k+1)h]) solves the linear SDE
// dY = (Y + 2 s) dt + sqrt(2) dB exactly over h = t - t':
//
//     x' = e^h x + 2 (e^h - 1) s_t(x) + sqrt(e^{2h} - 1) xi,
//
// step(t, t') = {e^h, 2 expm1(h), expm1(2h)}. The reverse chain starts from the
// prior N(0, s_T^2 I) (prior_std() = s_T; s_T -> 1, the OU stationary law, and
// KL(q_T || N(0, I)) decays like e^{-2T}).
//
// API: samplers::vp_sde<T> p(horizon)   horizon T > 0;
//   p.horizon(), p.mean_scale(t) (e^{-t}), p.noise_std(t) (s_t), p.prior_std(),
//   p.step(t, t_next) (reverse_step<T>)
// Errors (hosm::error): horizon <= 0 or non-finite.
#pragma once
#include <cmath>

#include <hosm/core/checks.hpp>
#include <hosm/samplers/detail/reverse_sde_step.hpp>

namespace hosm::samplers {

template <class T>
class vp_sde {
public:
    using value_type = T;

    explicit vp_sde(T horizon) : T_(horizon) {
        hosm::detail::check_positive("samplers::vp_sde", "horizon", horizon);
    }

    T horizon() const { return T_; }
    T mean_scale(T t) const { return std::exp(-t); }
    T noise_std(T t) const { return std::sqrt(-std::expm1(T(-2) * t)); }
    T prior_std() const { return noise_std(T_); }

    reverse_step<T> step(T t, T t_next) const {
        const T h = t - t_next;
        return {std::exp(h), T(2) * std::expm1(h), std::expm1(T(2) * h)};
    }

private:
    T T_;
};

}  // namespace hosm::samplers
