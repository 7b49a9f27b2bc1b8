// hosm/diagnostics/detail/finite.hpp — finiteness check of a batch in any
// back end's memory.
//
//   check_batch_finite<B>(where, name, x)
//
// throws hosm::error naming `where`, the argument `name`, the first
// non-finite entry's sample (column) and dimension (row) and its value. On
// host back ends the batch is scanned in place; on a device back end one
// HOSM_HOST_DEVICE pass records, per sample, the first bad row and its value,
// and only those N records are copied to the host.
#pragma once
#include <cmath>
#include <type_traits>

#include <thrust/host_vector.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>

namespace hosm::diagnostics::detail {

template <class U>
struct first_non_finite_fn {
    batch_view<U> x;
    index_t* row;  // per sample: first non-finite row, or -1
    double* value;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const U* c = x.col(j);
        row[j] = -1;
        value[j] = 0.0;
        for (index_t i = 0; i < x.dim; ++i) {
            const double v = static_cast<double>(c[i]);
            if (!std::isfinite(v)) {
                row[j] = i;
                value[j] = v;
                return;
            }
        }
    }
};

template <concepts::Backend B, class U>
void check_batch_finite(const char* where, const char* name, batch_view<U> x) {
    if (x.size() == 0) return;
    if (x.data == nullptr) hosm::detail::fail(where, "argument '", name, "' has a null data pointer");
    if constexpr (B::host_memory) {
        for (index_t j = 0; j < x.count; ++j)
            for (index_t i = 0; i < x.dim; ++i) {
                const double v = static_cast<double>(x(i, j));
                if (!std::isfinite(v))
                    hosm::detail::fail(where, "argument '", name, "' has a non-finite entry ", v,
                                       " in sample ", j, ", dimension ", i);
            }
    } else {
        typename B::template vector<index_t> row(static_cast<std::size_t>(x.count));
        typename B::template vector<double> value(static_cast<std::size_t>(x.count));
        backend::for_each_index<B>(
            x.count, first_non_finite_fn<U>{x, thrust::raw_pointer_cast(row.data()),
                                            thrust::raw_pointer_cast(value.data())});
        const thrust::host_vector<index_t> hrow = row;
        const thrust::host_vector<double> hvalue = value;
        for (index_t j = 0; j < x.count; ++j)
            if (hrow[static_cast<std::size_t>(j)] >= 0)
                hosm::detail::fail(where, "argument '", name, "' has a non-finite entry ",
                                   hvalue[static_cast<std::size_t>(j)], " in sample ", j,
                                   ", dimension ", hrow[static_cast<std::size_t>(j)]);
    }
}

}  // namespace hosm::diagnostics::detail
