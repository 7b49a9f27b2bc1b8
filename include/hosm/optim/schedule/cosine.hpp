// hosm/optim/schedule/cosine.hpp — cosine decay of the learning rate with an
// optional linear warm-up (Loshchilov & Hutter's SGDR without restarts).
//
// Maths: peak rate eta_max, floor eta_min in [0, eta_max], S total steps, W
// warm-up steps (0 <= W <= S):
//
//     eta(t) = eta_max (t + 1) / W                                 0 <= t < W
//     eta(t) = eta_min + (eta_max - eta_min) (1 + cos(pi (t - W) / (S - W))) / 2
//                                                                  W <= t < S
//     eta(t) = eta_min                                             t >= S
//
// The warm-up starts at eta_max / W (never 0, so no step is wasted) and
// reaches eta_max at t = W - 1; the decay starts at eta_max at t = W and
// would reach eta_min at t = S, so every step of a run of S steps
// (t = 0 .. S-1) has a rate > eta_min. Computed in double, rounded to T once.
//
// API
//   optim::schedule::cosine<T> s{eta_max, S, eta_min = 0, W = 0};   s(t) -> T
//   s.max_lr(), s.min_lr(), s.total_steps(), s.warmup_steps()
//
// Errors (hosm::error): eta_max not finite and > 0; eta_min outside
// [0, eta_max]; S < 1; W outside [0, S]; t < 0.
#pragma once
#include <cmath>
#include <numbers>

#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>

namespace hosm::optim::schedule {

template <class T>
class cosine {
public:
    using value_type = T;

    cosine(T max_lr, index_t total_steps, T min_lr = T(0), index_t warmup_steps = 0)
        : max_(max_lr), min_(min_lr), total_(total_steps), warmup_(warmup_steps) {
        constexpr const char* where = "optim::schedule::cosine";
        hosm::detail::check_positive(where, "max_lr", max_lr);
        hosm::detail::check_nonnegative(where, "min_lr", min_lr);
        if (min_lr > max_lr)
            hosm::detail::fail(where, "argument 'min_lr' = ", min_lr, " must be <= max_lr = ", max_lr);
        hosm::detail::check_at_least(where, "total_steps", total_steps, 1);
        hosm::detail::check_at_least(where, "warmup_steps", warmup_steps, 0);
        if (warmup_steps > total_steps)
            hosm::detail::fail(where, "argument 'warmup_steps' = ", warmup_steps,
                               " must be <= total_steps = ", total_steps);
    }

    T max_lr() const { return max_; }
    T min_lr() const { return min_; }
    index_t total_steps() const { return total_; }
    index_t warmup_steps() const { return warmup_; }

    T operator()(index_t step) const {
        if (step < 0) hosm::detail::fail("optim::schedule::cosine", "argument 'step' = ", step, " must be >= 0");
        const double hi = static_cast<double>(max_), lo = static_cast<double>(min_);
        if (step < warmup_)
            return static_cast<T>(hi * static_cast<double>(step + 1) / static_cast<double>(warmup_));
        if (step >= total_) return min_;
        const double x = static_cast<double>(step - warmup_) / static_cast<double>(total_ - warmup_);
        return static_cast<T>(lo + (hi - lo) * 0.5 * (1.0 + std::cos(std::numbers::pi * x)));
    }

private:
    T max_, min_;
    index_t total_, warmup_;
};

}  // namespace hosm::optim::schedule
