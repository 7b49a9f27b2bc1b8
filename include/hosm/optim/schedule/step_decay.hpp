// hosm/optim/schedule/step_decay.hpp — piecewise-constant (step) decay of the
// learning rate.
//
// Maths: with base rate eta_0, period P >= 1 and factor gamma in (0, 1],
//
//     eta(t) = eta_0 gamma^floor(t / P),      t >= 0,
//
// i.e. the rate is multiplied by gamma after every P steps (PyTorch's StepLR).
// Computed in double and rounded to T once.
//
// API
//   optim::schedule::step_decay<T> s{eta_0, P, gamma};   s(t) -> T
//   s.base_lr(), s.period(), s.gamma()
//
// Errors (hosm::error): eta_0 not finite and > 0; P < 1; gamma outside (0, 1];
// t < 0.
#pragma once
#include <cmath>

#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>

namespace hosm::optim::schedule {

template <class T>
class step_decay {
public:
    using value_type = T;

    step_decay(T lr, index_t period, T gamma) : lr_(lr), period_(period), gamma_(gamma) {
        constexpr const char* where = "optim::schedule::step_decay";
        hosm::detail::check_positive(where, "lr", lr);
        hosm::detail::check_at_least(where, "period", period, 1);
        if (!(gamma > T(0) && gamma <= T(1)))
            hosm::detail::fail(where, "argument 'gamma' must be in (0, 1], got ", gamma);
    }

    T base_lr() const { return lr_; }
    index_t period() const { return period_; }
    T gamma() const { return gamma_; }

    T operator()(index_t step) const {
        if (step < 0) hosm::detail::fail("optim::schedule::step_decay", "argument 'step' = ", step, " must be >= 0");
        const double k = static_cast<double>(step / period_);
        return static_cast<T>(static_cast<double>(lr_) * std::pow(static_cast<double>(gamma_), k));
    }

private:
    T lr_;
    index_t period_;
    T gamma_;
};

}  // namespace hosm::optim::schedule
