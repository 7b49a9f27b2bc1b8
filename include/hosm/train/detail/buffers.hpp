// hosm/train/detail/buffers.hpp — workspace helpers of the training step
// policies: batches resized on demand, x - sigma z, and copies of sample
// ranges between hessian::batch objects (the VR policies evaluate the model
// once on the stacked columns [x+, x-, x] and hand the objective one s2 batch
// per evaluation point).
#pragma once
#include <optional>
#include <type_traits>

#include <thrust/copy.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>

namespace hosm::train::detail {

/// b becomes D x N (contents unspecified) unless it already is.
template <class T, class B>
void ensure(batch<T, B>& b, index_t D, index_t N) {
    if (b.dim() != D || b.count() != N) b = batch<T, B>(D, N);
}

/// Columns [first, first + count) of a D x n view.
template <class T>
batch_view<T> columns(batch_view<T> v, index_t first, index_t count) {
    return {v.data + first * v.dim, v.dim, count};
}

/// out = x - sigma z, per entry.
template <class T>
struct minus_scaled_fn {
    const T* x;
    const T* z;
    T* out;
    T sigma;
    HOSM_HOST_DEVICE void operator()(index_t i) const { out[i] = x[i] - sigma * z[i]; }
};

/// out = x, per entry.
template <class T>
struct copy_fn {
    const T* x;
    T* out;
    HOSM_HOST_DEVICE void operator()(index_t i) const { out[i] = x[i]; }
};

template <class B, class T>
void copy_n(const T* src, index_t n, T* dst) {
    backend::for_each_index<B>(n, copy_fn<T>{src, dst});
}

/// Numbers per sample in each storage array of a structure (full: D^2;
/// diagonal: D; low_rank: alpha D, B D R).
template <class S, class T, class B>
void copy_samples(const hessian::batch<S, T, B>& src, index_t src_first,
                  hessian::batch<S, T, B>& dst, index_t dst_first, index_t count) {
    const index_t D = src.dim();
    if constexpr (std::is_same_v<S, hessian::full>) {
        copy_n<B>(src.data() + src_first * D * D, count * D * D, dst.data() + dst_first * D * D);
    } else if constexpr (std::is_same_v<S, hessian::diagonal>) {
        copy_n<B>(src.data() + src_first * D, count * D, dst.data() + dst_first * D);
    } else {
        const index_t R = src.rank();
        copy_n<B>(src.alpha_data() + src_first * D, count * D, dst.alpha_data() + dst_first * D);
        copy_n<B>(src.B_data() + src_first * D * R, count * D * R, dst.B_data() + dst_first * D * R);
    }
}

/// h becomes a batch like model.make_s2(N) unless it already has N samples.
template <class M, class H>
void ensure_s2(const M& model, std::optional<H>& h, index_t N) {
    if (!h || h->count() != N) h.emplace(model.make_s2(N));
}

}  // namespace hosm::train::detail
