// hosm/core/batch_view.hpp — non-owning view of a batch of D-vectors.
//
// A batch holds N samples of dimension D as a D x N column-major array: one
// contiguous column per sample, the layout of Eigen's default matrices and of
// the per-sample kernels. The view is a plain aggregate of a pointer and two
// extents, so it can be captured by value in HOSM_HOST_DEVICE functors and
// used on host and device alike. It points at host or device memory according
// to the back end that owns the storage.
#pragma once
#include <type_traits>

#include <hosm/config.hpp>
#include <hosm/core/types.hpp>

namespace hosm {

template <class T>
struct batch_view {
    T* data = nullptr;
    index_t dim = 0;    // D: rows, entries per sample
    index_t count = 0;  // N: columns, samples

    HOSM_HOST_DEVICE T* col(index_t j) const { return data + j * dim; }
    HOSM_HOST_DEVICE T& operator()(index_t i, index_t j) const { return data[i + j * dim]; }
    HOSM_HOST_DEVICE index_t size() const { return dim * count; }

    /// A view with const elements; implicit, so functions can take
    /// batch_view<const T> and be called with batch_view<T>.
    HOSM_HOST_DEVICE operator batch_view<const T>() const
        requires(!std::is_const_v<T>) { return {data, dim, count}; }
};

}  // namespace hosm
