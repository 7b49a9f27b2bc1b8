// hosm/optim/schedule/constant.hpp — the constant learning-rate schedule.
//
// Maths: eta(t) = eta_0 for every step t >= 0.
//
// API
//   optim::schedule::constant<T> s{eta_0};    s(t) -> T,  s.base_lr()
//
// Errors (hosm::error): eta_0 not finite and > 0; t < 0.
#pragma once
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>

namespace hosm::optim::schedule {

template <class T>
class constant {
public:
    using value_type = T;

    explicit constant(T lr) : lr_(lr) { hosm::detail::check_positive("optim::schedule::constant", "lr", lr); }

    T base_lr() const { return lr_; }

    T operator()(index_t step) const {
        if (step < 0) hosm::detail::fail("optim::schedule::constant", "argument 'step' = ", step, " must be >= 0");
        return lr_;
    }

private:
    T lr_;
};

}  // namespace hosm::optim::schedule
