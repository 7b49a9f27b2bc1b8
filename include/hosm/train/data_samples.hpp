// hosm/train/data_samples.hpp — a user's data matrix as a train::SampleSource.
//
//   train::data_samples<T, B> src(X, seed);     X: hosm::matrix<T>, D x n, one sample a column
//   src.draw(step, out);                        out: D x N minibatch in B's memory
//
// Minibatches are drawn WITH replacement by counter-based uniforms: column j of
// the batch of step t is data column
//
//     i(t, j) = min(floor(u n), n - 1),   u = stream{seed, "DATA"}.uniform(t N + j, 0),
//
// so a batch depends on (seed, t, N) only and a resumed run sees exactly the
// batches of an uninterrupted one, on every back end. (Sampling with
// replacement keeps every step independent of the previous ones; an epoch
// permutation would tie step t to the epoch's shuffle.)
//
// The data are copied once into B's memory. Errors (hosm::error naming the
// argument): a matrix with no rows or no columns, a non-finite entry (named
// by sample and coordinate), out of another dimension in draw, step < 0.
#pragma once
#include <cmath>
#include <cstdint>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/train/stream_ids.hpp>

namespace hosm::train {

namespace detail {

template <class T>
struct gather_fn {
    batch_view<const T> data;
    batch_view<T> out;
    random::stream s;
    std::uint64_t first;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const double u = s.uniform<double>(first + static_cast<std::uint64_t>(j), 0);
        index_t i = static_cast<index_t>(u * static_cast<double>(data.count));
        if (i >= data.count) i = data.count - 1;
        const T* src = data.col(i);
        T* dst = out.col(j);
        for (index_t k = 0; k < data.dim; ++k) dst[k] = src[k];
    }
};

}  // namespace detail

template <class T, concepts::Backend B = backend::cpp>
class data_samples {
public:
    using value_type = T;
    using backend_type = B;

    data_samples(const matrix<T>& data, std::uint64_t seed) : stream_{seed, stream_ids::data} {
        constexpr const char* where = "train::data_samples";
        hosm::detail::check_at_least(where, "data.rows (the dimension D)", data.rows(), 1);
        hosm::detail::check_at_least(where, "data.cols (the number of samples)", data.cols(), 1);
        for (index_t j = 0; j < data.cols(); ++j)
            for (index_t k = 0; k < data.rows(); ++k)
                if (!std::isfinite(static_cast<double>(data(k, j))))
                    hosm::detail::fail(where, "argument 'data' has a non-finite entry ", data(k, j),
                                       " at sample (column) ", j, ", coordinate (row) ", k);
        data_ = batch<T, B>(data);
    }

    index_t dim() const { return data_.dim(); }
    index_t size() const { return data_.count(); }
    batch_view<const T> data() const { return data_.view(); }

    void draw(index_t step, batch_view<T> out) const {
        constexpr const char* where = "train::data_samples::draw";
        hosm::detail::check_at_least(where, "step", step, 0);
        hosm::detail::check_size(where, "out.dim", out.dim, dim());
        backend::for_each_index<B>(
            out.count, detail::gather_fn<T>{data_.view(), out, stream_,
                                            static_cast<std::uint64_t>(step) *
                                                static_cast<std::uint64_t>(out.count)});
    }

private:
    batch<T, B> data_;
    random::stream stream_;
};

}  // namespace hosm::train
