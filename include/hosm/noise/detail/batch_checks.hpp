// hosm/noise/detail/batch_checks.hpp — argument checks on batches in any back
// end's memory (used by noise/ and targets/).
//
//   check_finite_batch<B>(where, name, x)   every entry of x is finite, else
//       hosm::error naming the argument (and, on host back ends, the first bad
//       entry and its flat index). The count runs as a B reduction, so it
//       works on device memory too.
//   check_shape(where, name, v, dim, count)  v is dim x count, else hosm::error
#pragma once
#include <hosm/backend/algorithms.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>

namespace hosm::noise::detail {

/// 1 for a non-finite entry: summed over a batch on any back end.
template <class T>
struct nonfinite_flag {
    const T* p;
    HOSM_HOST_DEVICE index_t operator()(index_t i) const {
        const T v = p[i];
        return (v - v == T(0)) ? index_t(0) : index_t(1);  // false for NaN and +-inf
    }
};

template <concepts::Backend B, class T>
void check_finite_batch(const char* where, const char* name, batch_view<const T> x) {
    if (x.size() > 0 && x.data == nullptr) hosm::detail::fail(where, "argument '", name, "' is null");
    const index_t bad =
        backend::transform_reduce_index<B>(x.size(), nonfinite_flag<T>{x.data}, index_t(0));
    if (bad == 0) return;
    if constexpr (B::host_memory) hosm::detail::check_all_finite(where, name, x.data, x.size());
    hosm::detail::fail(where, "argument '", name, "' has ", bad, " non-finite entries");
}

/// `name` must be a dim x count batch.
template <class T>
void check_shape(const char* where, const char* name, batch_view<T> v, index_t dim, index_t count) {
    if (v.dim != dim || v.count != count)
        hosm::detail::fail(where, "dimension mismatch: argument '", name, "' is ", v.dim, " x ",
                           v.count, ", expected ", dim, " x ", count);
    if (v.size() > 0 && v.data == nullptr) hosm::detail::fail(where, "argument '", name, "' is null");
}

}  // namespace hosm::noise::detail
