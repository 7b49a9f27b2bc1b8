// hosm/backend/batch.hpp — an owning D x N batch in a back end's memory.
#pragma once
#include <thrust/copy.h>

#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>

namespace hosm {

/// N samples of dimension D, stored column-major (one contiguous column per
/// sample) in the memory of back end B: host memory for cpp/omp, device
/// memory for cuda. view() hands out the non-owning batch_view that batched
/// functions take.
template <class T, concepts::Backend B = backend::cpp>
class batch {
public:
    using value_type = T;
    using backend_type = B;

    batch() = default;
    batch(index_t dim, index_t count, T value = T(0)) : dim_(dim), count_(count) {
        detail::check_at_least("batch", "dim", dim, 1);
        detail::check_at_least("batch", "count", count, 0);
        data_.assign(static_cast<std::size_t>(dim * count), value);
    }
    /// Copies a host Eigen matrix (D x N, one column per sample).
    explicit batch(const matrix<T>& m) : dim_(m.rows()), count_(m.cols()) {
        detail::check_at_least("batch", "rows", dim_, 1);
        data_.assign(m.data(), m.data() + m.size());
    }

    index_t dim() const { return dim_; }
    index_t count() const { return count_; }
    batch_view<T> view() { return {thrust::raw_pointer_cast(data_.data()), dim_, count_}; }
    batch_view<const T> view() const {
        return {thrust::raw_pointer_cast(data_.data()), dim_, count_};
    }
    /// Host copy as an Eigen matrix.
    matrix<T> to_eigen() const {
        matrix<T> m(dim_, count_);
        thrust::copy(data_.begin(), data_.end(), m.data());
        return m;
    }
    typename B::template vector<T>& storage() { return data_; }
    const typename B::template vector<T>& storage() const { return data_; }

private:
    typename B::template vector<T> data_;
    index_t dim_ = 0, count_ = 0;
};

}  // namespace hosm
