// hosm/noise/schedule.hpp — the geometric noise-level schedule of multi-scale
// score models (NCSN, seed 001: sigma_1 > sigma_2 > ... > sigma_L).
//
// Maths: L levels from sigma_max down to sigma_min with a constant ratio,
//
//     sigma_i = sigma_max (sigma_min / sigma_max)^(i / (L - 1)),   i = 0 .. L-1,
//
// so sigma_0 = sigma_max, sigma_{L-1} = sigma_min (both returned exactly) and
// sigma_{i+1} / sigma_i = ratio() = (sigma_min / sigma_max)^(1 / (L - 1)).
// L = 1 is the single level sigma_max: the sigma_min argument is checked but
// not used, sigma_min() returns sigma_max and ratio() is 1.
//
// API
//   noise::schedule<T> s{sigma_max, sigma_min, L};
//   s.size() (L), s[i] (i in [0, L), else hosm::error), s.sigma_max(),
//   s.sigma_min(), s.ratio()
//
// Errors (hosm::error): sigma_min <= 0, sigma_max < sigma_min, a non-finite
// level, L < 1, an index outside [0, L).
#pragma once
#include <cmath>

#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>

namespace hosm::noise {

template <class T>
class schedule {
public:
    using value_type = T;

    schedule(T sigma_max, T sigma_min, index_t L) : max_(sigma_max), min_(sigma_min), L_(L) {
        constexpr const char* where = "noise::schedule";
        hosm::detail::check_positive(where, "sigma_min", sigma_min);
        hosm::detail::check_positive(where, "sigma_max", sigma_max);
        if (sigma_max < sigma_min)
            hosm::detail::fail(where, "argument 'sigma_max' = ", sigma_max,
                               " must be >= sigma_min = ", sigma_min);
        hosm::detail::check_at_least(where, "L", L, 1);
    }

    index_t size() const { return L_; }
    T sigma_max() const { return max_; }
    T sigma_min() const { return L_ == 1 ? max_ : min_; }
    /// sigma_{i+1} / sigma_i (1 for L = 1).
    T ratio() const {
        return L_ == 1 ? T(1) : std::pow(min_ / max_, T(1) / static_cast<T>(L_ - 1));
    }

    T operator[](index_t i) const {
        if (i < 0 || i >= L_)
            hosm::detail::fail("noise::schedule", "index ", i, " is outside [0, ", L_, ")");
        if (i == 0) return max_;
        if (i == L_ - 1) return min_;
        return max_ * std::pow(min_ / max_, static_cast<T>(i) / static_cast<T>(L_ - 1));
    }

private:
    T max_, min_;
    index_t L_;
};

}  // namespace hosm::noise
