// hosm/core/all_finite.hpp — a vectorised finiteness scan of host memory.
//
//   hosm::detail::all_finite_host(p, n)   true iff p[0..n) holds no NaN or +-inf
//
// It sums x - x (0 for every finite x, NaN for NaN and +-inf) in fixed
// 16-entry Eigen chunks, which the compiler vectorises; std::isfinite one entry
// at a time is not. Host memory only; the checks that need a message naming
// the offending entry scan again element by element once this says "no".
// Needs IEEE arithmetic (no -ffast-math, under which x - x folds to 0).
#pragma once
#include <Eigen/Core>

#include <hosm/core/types.hpp>

namespace hosm::detail {

template <class T>
inline bool all_finite_host(const T* p, index_t n) {
    using A = Eigen::Array<T, 16, 1>;
    A acc = A::Zero();
    index_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const A x = Eigen::Map<const A>(p + i);
        acc += x - x;
    }
    T tail = T(0);
    for (; i < n; ++i) tail += p[i] - p[i];
    return acc.sum() + tail == T(0);
}

}  // namespace hosm::detail
