// hosm/targets/detail/weights.hpp — host check of mixture weights.
//
//   check_weights(where, w) -> w / sum(w)
// Requires K = w.size() >= 1, every w_k finite and > 0, and |sum_k w_k - 1| <=
// 1e-6; otherwise hosm::error ("argument 'weights' sum to ..., expected 1").
#pragma once
#include <cmath>

#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>

namespace hosm::targets::detail {

/// Checks mixture weights: K >= 1, each finite and > 0, sum within 1e-6 of 1.
/// Returns them renormalized.
template <class T>
vector<T> check_weights(const char* where, const vector<T>& w) {
    const index_t K = static_cast<index_t>(w.size());
    if (K < 1) hosm::detail::fail(where, "argument 'weights' is empty: K = 0, need K >= 1");
    for (index_t k = 0; k < K; ++k)
        if (!(w(k) > T(0)) || !std::isfinite(static_cast<double>(w(k))))
            hosm::detail::fail(where, "argument 'weights' must be finite and > 0, got weights[", k,
                               "] = ", w(k));
    const double sum = w.template cast<double>().sum();
    if (!(std::abs(sum - 1.0) <= 1e-6))
        hosm::detail::fail(where, "argument 'weights' sum to ", sum,
                           ", expected 1 (tolerance 1e-6)");
    return (w.template cast<double>() / sum).template cast<T>();
}

}  // namespace hosm::targets::detail
