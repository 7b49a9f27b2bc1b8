// hosm/core/eigen.hpp — Eigen aliases and host views of batches.
//
// Host code and tests exchange batches as Eigen column-major matrices with one
// column per sample. These helpers convert between those and batch_view.
#pragma once
#include <Eigen/Dense>
#include <hosm/core/batch_view.hpp>

namespace hosm {

template <class T>
using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T>
using vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// View an Eigen column-major matrix (D x N) as a batch (host memory).
template <class T>
batch_view<T> view(matrix<T>& m) {
    return {m.data(), static_cast<index_t>(m.rows()), static_cast<index_t>(m.cols())};
}
template <class T>
batch_view<const T> view(const matrix<T>& m) {
    return {m.data(), static_cast<index_t>(m.rows()), static_cast<index_t>(m.cols())};
}
/// A single vector viewed as a batch of one sample.
template <class T>
batch_view<T> view(vector<T>& v) {
    return {v.data(), static_cast<index_t>(v.size()), 1};
}
template <class T>
batch_view<const T> view(const vector<T>& v) {
    return {v.data(), static_cast<index_t>(v.size()), 1};
}

/// Eigen map of a host batch view (no copy).
template <class T>
Eigen::Map<const matrix<T>> as_eigen(batch_view<const T> v) {
    return Eigen::Map<const matrix<T>>(v.data, v.dim, v.count);
}
template <class T>
Eigen::Map<matrix<T>> as_eigen(batch_view<T> v) {
    return Eigen::Map<matrix<T>>(v.data, v.dim, v.count);
}

}  // namespace hosm
