// hosm/core/checks.hpp — argument checks that throw hosm::error.
//
// Each check names the calling function (`where`) and the argument (`name`)
// so that a message reads, for instance,
//   hosm: targets::gaussian: argument 'dim' = 0 must be >= 1
#pragma once
#include <cmath>
#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>

namespace hosm::detail {

template <class T>
void check_positive(const char* where, const char* name, T value) {
    if (!(value > T(0)) || !std::isfinite(static_cast<double>(value)))
        fail(where, "argument '", name, "' must be finite and > 0, got ", value);
}

template <class T>
void check_nonnegative(const char* where, const char* name, T value) {
    if (!(value >= T(0)) || !std::isfinite(static_cast<double>(value)))
        fail(where, "argument '", name, "' must be finite and >= 0, got ", value);
}

template <class T>
void check_finite(const char* where, const char* name, T value) {
    if (!std::isfinite(static_cast<double>(value)))
        fail(where, "argument '", name, "' must be finite, got ", value);
}

/// Checks every element of [p, p + n); names the first non-finite one.
template <class T>
void check_all_finite(const char* where, const char* name, const T* p, index_t n) {
    for (index_t i = 0; i < n; ++i)
        if (!std::isfinite(static_cast<double>(p[i])))
            fail(where, "argument '", name, "' has a non-finite entry ", p[i],
                 " at flat index ", i);
}

inline void check_at_least(const char* where, const char* name, index_t value, index_t lo) {
    if (value < lo) fail(where, "argument '", name, "' = ", value, " must be >= ", lo);
}

/// `name` has size `got` where `expected` was required.
inline void check_size(const char* where, const char* name, index_t got, index_t expected) {
    if (got != expected)
        fail(where, "dimension mismatch: argument '", name, "' has size ", got,
             ", expected ", expected);
}

}  // namespace hosm::detail
