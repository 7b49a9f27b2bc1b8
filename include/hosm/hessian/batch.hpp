// hosm/hessian/batch.hpp — a batch of N structured Hessians in a back end's memory.
//
//   hessian::batch<hessian::full, T, B>          N dense D x D matrices
//   hessian::batch<hessian::diagonal, T, B>      N diagonals (a D x N array)
//   hessian::batch<hessian::low_rank<R>, T, B>   N pairs (alpha, B): alpha a D x N
//                                                array, B N blocks of D x R
//
// sample(j) returns the per-sample view that the HOSM_HOST_DEVICE operations
// of the structure take; on the CUDA back end it points at device memory.
// Host transfers: set_sample / set_diagonals copy host Eigen data in, dense(j)
// copies sample j out as a dense D x D host matrix (every structure).
#pragma once
#include <thrust/copy.h>

#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>

namespace hosm::hessian {

template <class S, class T, concepts::Backend B = backend::cpp>
class batch;

template <class T, concepts::Backend B>
class batch<full, T, B> {
public:
    using structure = full;
    using value_type = T;
    batch(index_t dim, index_t count) : dim_(dim), count_(count) {
        hosm::detail::check_at_least("hessian::batch<full>", "dim", dim, 1);
        hosm::detail::check_at_least("hessian::batch<full>", "count", count, 0);
        h_.assign(static_cast<std::size_t>(dim * dim * count), T(0));
    }
    index_t dim() const { return dim_; }
    index_t count() const { return count_; }
    full_view<T> sample(index_t j) { return {data() + j * dim_ * dim_, dim_}; }
    /// Copies a host D x D matrix into sample j (any back end).
    void set_sample(index_t j, const matrix<T>& H) {
        check_index(j);
        hosm::detail::check_size("hessian::batch<full>::set_sample", "H.rows", H.rows(), dim_);
        hosm::detail::check_size("hessian::batch<full>::set_sample", "H.cols", H.cols(), dim_);
        thrust::copy(H.data(), H.data() + H.size(), h_.begin() + j * dim_ * dim_);
    }
    /// Host copy of sample j as a dense D x D matrix.
    matrix<T> dense(index_t j) const {
        check_index(j);
        matrix<T> H(dim_, dim_);
        thrust::copy(h_.begin() + j * dim_ * dim_, h_.begin() + (j + 1) * dim_ * dim_, H.data());
        return H;
    }
    full_view<const T> sample(index_t j) const { return {data() + j * dim_ * dim_, dim_}; }
    T* data() { return thrust::raw_pointer_cast(h_.data()); }
    const T* data() const { return thrust::raw_pointer_cast(h_.data()); }

private:
    void check_index(index_t j) const {
        if (j < 0 || j >= count_)
            hosm::detail::fail("hessian::batch", "sample index ", j, " outside [0, ", count_, ")");
    }
    typename B::template vector<T> h_;
    index_t dim_, count_;
};

template <class T, concepts::Backend B>
class batch<diagonal, T, B> {
public:
    using structure = diagonal;
    using value_type = T;
    batch(index_t dim, index_t count) : dim_(dim), count_(count) {
        hosm::detail::check_at_least("hessian::batch<diagonal>", "dim", dim, 1);
        hosm::detail::check_at_least("hessian::batch<diagonal>", "count", count, 0);
        d_.assign(static_cast<std::size_t>(dim * count), T(0));
    }
    index_t dim() const { return dim_; }
    index_t count() const { return count_; }
    diagonal_view<T> sample(index_t j) { return {data() + j * dim_, dim_}; }
    /// Copies host diagonals (D x N) into the batch (any back end).
    void set_diagonals(const matrix<T>& d) {
        hosm::detail::check_size("hessian::batch<diagonal>::set_diagonals", "d.rows", d.rows(), dim_);
        hosm::detail::check_size("hessian::batch<diagonal>::set_diagonals", "d.cols", d.cols(), count_);
        thrust::copy(d.data(), d.data() + d.size(), d_.begin());
    }
    /// Host copy of the diagonals (D x N).
    matrix<T> diagonals_to_eigen() const {
        matrix<T> d(dim_, count_);
        thrust::copy(d_.begin(), d_.end(), d.data());
        return d;
    }
    /// Host copy of sample j as a dense D x D matrix.
    matrix<T> dense(index_t j) const {
        check_index(j);
        vector<T> d(dim_);
        thrust::copy(d_.begin() + j * dim_, d_.begin() + (j + 1) * dim_, d.data());
        return d.asDiagonal();
    }
    diagonal_view<const T> sample(index_t j) const { return {data() + j * dim_, dim_}; }
    /// The diagonals as a D x N batch view.
    batch_view<T> diagonals() { return {data(), dim_, count_}; }
    batch_view<const T> diagonals() const { return {data(), dim_, count_}; }
    T* data() { return thrust::raw_pointer_cast(d_.data()); }
    const T* data() const { return thrust::raw_pointer_cast(d_.data()); }

private:
    void check_index(index_t j) const {
        if (j < 0 || j >= count_)
            hosm::detail::fail("hessian::batch", "sample index ", j, " outside [0, ", count_, ")");
    }
    typename B::template vector<T> d_;
    index_t dim_, count_;
};

template <int R, class T, concepts::Backend B>
class batch<low_rank<R>, T, B> {
public:
    using structure = low_rank<R>;
    using value_type = T;
    /// Compile-time rank R (R <= dim is checked here).
    batch(index_t dim, index_t count)
        requires(R != dynamic)
        : batch(dim, count, R, 0) {}
    /// Run-time rank, for low_rank<dynamic>.
    batch(index_t dim, index_t count, index_t rank)
        requires(R == dynamic)
        : batch(dim, count, rank, 0) {}

    index_t dim() const { return dim_; }
    index_t count() const { return count_; }
    index_t rank() const { return rank_; }
    /// Copies host alpha (D) and B (D x R) into sample j (any back end).
    void set_sample(index_t j, const vector<T>& alpha, const matrix<T>& Bj) {
        constexpr const char* where = "hessian::batch<low_rank>::set_sample";
        check_index(j);
        hosm::detail::check_size(where, "alpha", alpha.size(), dim_);
        hosm::detail::check_size(where, "B.rows", Bj.rows(), dim_);
        hosm::detail::check_size(where, "B.cols", Bj.cols(), rank_);
        thrust::copy(alpha.data(), alpha.data() + dim_, alpha_.begin() + j * dim_);
        thrust::copy(Bj.data(), Bj.data() + Bj.size(), B_.begin() + j * dim_ * rank_);
    }
    /// Host copy of sample j as a dense D x D matrix diag(alpha) + B B^T.
    matrix<T> dense(index_t j) const {
        check_index(j);
        vector<T> a(dim_);
        matrix<T> Bj(dim_, rank_);
        thrust::copy(alpha_.begin() + j * dim_, alpha_.begin() + (j + 1) * dim_, a.data());
        thrust::copy(B_.begin() + j * dim_ * rank_, B_.begin() + (j + 1) * dim_ * rank_, Bj.data());
        matrix<T> H = Bj * Bj.transpose();
        H.diagonal() += a;
        return H;
    }
    low_rank_view<T> sample(index_t j) {
        return {alpha_data() + j * dim_, B_data() + j * dim_ * rank_, dim_, rank_};
    }
    low_rank_view<const T> sample(index_t j) const {
        return {alpha_data() + j * dim_, B_data() + j * dim_ * rank_, dim_, rank_};
    }
    /// The diagonal parts as a D x N batch view.
    batch_view<T> alphas() { return {alpha_data(), dim_, count_}; }
    batch_view<const T> alphas() const { return {alpha_data(), dim_, count_}; }
    T* alpha_data() { return thrust::raw_pointer_cast(alpha_.data()); }
    const T* alpha_data() const { return thrust::raw_pointer_cast(alpha_.data()); }
    T* B_data() { return thrust::raw_pointer_cast(B_.data()); }
    const T* B_data() const { return thrust::raw_pointer_cast(B_.data()); }

private:
    void check_index(index_t j) const {
        if (j < 0 || j >= count_)
            hosm::detail::fail("hessian::batch", "sample index ", j, " outside [0, ", count_, ")");
    }
    batch(index_t dim, index_t count, index_t rank, int) : dim_(dim), count_(count), rank_(rank) {
        constexpr const char* where = "hessian::batch<low_rank>";
        hosm::detail::check_at_least(where, "dim", dim, 1);
        hosm::detail::check_at_least(where, "count", count, 0);
        hosm::detail::check_at_least(where, "rank", rank, 1);
        if (rank > dim)
            hosm::detail::fail(where, "argument 'rank' = ", rank, " exceeds the dimension ", dim);
        alpha_.assign(static_cast<std::size_t>(dim * count), T(0));
        B_.assign(static_cast<std::size_t>(dim * rank * count), T(0));
    }
    typename B::template vector<T> alpha_, B_;
    index_t dim_, count_, rank_;
};

}  // namespace hosm::hessian
