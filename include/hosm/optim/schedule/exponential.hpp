// hosm/optim/schedule/exponential.hpp — exponential decay of the learning rate.
//
// Maths: with base rate eta_0 and factor gamma in (0, 1],
//
//     eta(t) = eta_0 gamma^t,      t >= 0
//
// (PyTorch's ExponentialLR). Computed in double and rounded to T once; it
// underflows to 0 for very large t, which the optimisers accept (set_lr(0)).
//
// API
//   optim::schedule::exponential<T> s{eta_0, gamma};   s(t) -> T
//   s.base_lr(), s.gamma()
//
// Errors (hosm::error): eta_0 not finite and > 0; gamma outside (0, 1]; t < 0.
#pragma once
#include <cmath>

#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>

namespace hosm::optim::schedule {

template <class T>
class exponential {
public:
    using value_type = T;

    exponential(T lr, T gamma) : lr_(lr), gamma_(gamma) {
        constexpr const char* where = "optim::schedule::exponential";
        hosm::detail::check_positive(where, "lr", lr);
        if (!(gamma > T(0) && gamma <= T(1)))
            hosm::detail::fail(where, "argument 'gamma' must be in (0, 1], got ", gamma);
    }

    T base_lr() const { return lr_; }
    T gamma() const { return gamma_; }

    T operator()(index_t step) const {
        if (step < 0) hosm::detail::fail("optim::schedule::exponential", "argument 'step' = ", step, " must be >= 0");
        return static_cast<T>(static_cast<double>(lr_) *
                              std::pow(static_cast<double>(gamma_), static_cast<double>(step)));
    }

private:
    T lr_, gamma_;
};

}  // namespace hosm::optim::schedule
