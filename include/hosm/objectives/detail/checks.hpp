// hosm/objectives/detail/checks.hpp — argument checks and the per-sample
// reduction shared by the objectives of hosm/objectives/ (the denoising ones
// and, by include, sm/ssm/fd_*/gps_denoising: keep these names stable).
//
//   check_sizes(where, D, N)                   D >= 1 and N >= 1 (an empty batch has no mean)
//   check_view(where, name, v, D, N)           v is D x N and not null
//   check_hessian(where, name, H, D, N, rank)  a hessian::batch of D, N (and rank for low_rank)
//   rank_of(H)                                 H.rank() for low_rank, else -1
//   check_finite<B>(where, name, v)            every entry finite (host: a vectorised
//                                              scan first; else a B reduction, so it
//                                              runs on device memory too); on host back
//                                              ends the message names the first bad entry
//   check_hessian_finite(where, name, H)       the same for every array of a hessian::batch
//   views_of(list, name, v / H)                appends a batch view, or the arrays of a
//                                              hessian::batch, to a list of named views
//   check_disjoint(where, inputs, outputs)     no output overlaps an input or another
//                                              output (a gradient written over a model
//                                              output, or two gradients into one buffer,
//                                              would be silent garbage)
//   mean_of_samples<B, T>(N, f)                f(j) returns sample j's loss (and writes its
//                                              gradients as a side effect), run once per
//                                              sample by for_each_index<B> into a workspace
//                                              of N numbers; returns their B-sum / N
//   finish(where, loss, scan)                  returns loss if finite; otherwise runs
//                                              scan() (which names a non-finite model
//                                              output through check_finite) and, if the
//                                              outputs are all finite, reports overflow
//
// Every failure is a hosm::error naming the function and the argument.
#pragma once
#include <Eigen/Core>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <thrust/memory.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/all_finite.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/low_rank.hpp>

namespace hosm::objectives::detail {

inline void check_sizes(const char* where, index_t D, index_t N) {
    hosm::detail::check_at_least(where, "s1.dim (the dimension D)", D, 1);
    hosm::detail::check_at_least(where, "s1.count (the batch size N)", N, 1);
}

template <class T>
void check_view(const char* where, const char* name, batch_view<const T> v, index_t dim,
                index_t count) {
    if (v.dim != dim || v.count != count)
        hosm::detail::fail(where, "dimension mismatch: argument '", name, "' is ", v.dim, " x ",
                           v.count, ", expected ", dim, " x ", count);
    if (v.data == nullptr && dim * count > 0)
        hosm::detail::fail(where, "argument '", name, "' is a null view");
}

/// H must hold `count` samples of dimension `dim` (and, for a low-rank
/// structure, rank `rank` when rank >= 0).
template <class S, class T, concepts::Backend B>
void check_hessian(const char* where, const char* name, const hessian::batch<S, T, B>& H,
                   index_t dim, index_t count, index_t rank = -1) {
    if (H.dim() != dim || H.count() != count)
        hosm::detail::fail(where, "dimension mismatch: argument '", name, "' holds ", H.count(),
                           " samples of dim ", H.dim(), ", expected ", count, " samples of dim ",
                           dim);
    if constexpr (hessian::is_low_rank_v<S>)
        if (rank >= 0 && H.rank() != rank)
            hosm::detail::fail(where, "dimension mismatch: argument '", name, "' has rank ",
                               H.rank(), ", expected ", rank);
}

/// H's rank for a low-rank structure, -1 (no rank) otherwise.
template <class S, class T, concepts::Backend B>
index_t rank_of(const hessian::batch<S, T, B>& H) {
    if constexpr (hessian::is_low_rank_v<S>)
        return H.rank();
    else
        return -1;
}

/// 1 for a non-finite entry (NaN or +-inf), summed by a B reduction.
template <class T>
struct nonfinite_flag {
    const T* p;
    HOSM_HOST_DEVICE index_t operator()(index_t i) const {
        const T v = p[i];
        return (v - v == T(0)) ? index_t(0) : index_t(1);
    }
};

using hosm::detail::all_finite_host;  // core/all_finite.hpp

template <concepts::Backend B, class T>
void check_finite(const char* where, const char* name, batch_view<const T> v) {
    if constexpr (B::host_memory)
        if (all_finite_host(v.data, v.size())) return;
    const index_t bad =
        backend::transform_reduce_index<B>(v.size(), nonfinite_flag<T>{v.data}, index_t(0));
    if (bad == 0) return;
    if constexpr (B::host_memory) hosm::detail::check_all_finite(where, name, v.data, v.size());
    hosm::detail::fail(where, "argument '", name, "' has ", bad, " non-finite entries");
}

/// The arrays of a hessian::batch as flat batch views, for finiteness scans.
template <concepts::Backend B, class S, class T>
void check_hessian_finite(const char* where, const char* name, const hessian::batch<S, T, B>& H) {
    const index_t D = H.dim(), N = H.count();
    if constexpr (std::is_same_v<S, hessian::full>) {
        check_finite<B>(where, name, batch_view<const T>{H.data(), D * D, N});
    } else if constexpr (std::is_same_v<S, hessian::diagonal>) {
        check_finite<B>(where, name, batch_view<const T>{H.data(), D, N});
    } else {
        check_finite<B>(where, name, batch_view<const T>{H.alpha_data(), D, N});
        check_finite<B>(where, name, batch_view<const T>{H.B_data(), D * H.rank(), N});
    }
}

/// A batch view with the argument name it came from (host-side bookkeeping).
template <class T>
struct named_view {
    std::string name;
    batch_view<const T> v;
};

template <class T>
void views_of(std::vector<named_view<T>>& list, const char* name, batch_view<const T> v) {
    list.push_back({name, v});
}
template <class S, class T, concepts::Backend B>
void views_of(std::vector<named_view<T>>& list, const char* name,
              const hessian::batch<S, T, B>& H) {
    const index_t D = H.dim(), N = H.count();
    if constexpr (std::is_same_v<S, hessian::full>) {
        list.push_back({name, batch_view<const T>{H.data(), D * D, N}});
    } else if constexpr (std::is_same_v<S, hessian::diagonal>) {
        list.push_back({name, batch_view<const T>{H.data(), D, N}});
    } else {
        list.push_back({name, batch_view<const T>{H.alpha_data(), D, N}});
        list.push_back({name, batch_view<const T>{H.B_data(), D * H.rank(), N}});
    }
}

template <class T>
bool overlap(batch_view<const T> a, batch_view<const T> b) {
    if (a.size() <= 0 || b.size() <= 0 || a.data == nullptr || b.data == nullptr) return false;
    const auto a0 = reinterpret_cast<std::uintptr_t>(a.data);
    const auto b0 = reinterpret_cast<std::uintptr_t>(b.data);
    const auto a1 = a0 + static_cast<std::uintptr_t>(a.size()) * sizeof(T);
    const auto b1 = b0 + static_cast<std::uintptr_t>(b.size()) * sizeof(T);
    return a0 < b1 && b0 < a1;
}

/// Every output is disjoint from every input and from every other output.
template <class T>
void check_disjoint(const char* where, const std::vector<named_view<T>>& in,
                    const std::vector<named_view<T>>& out) {
    for (std::size_t o = 0; o < out.size(); ++o) {
        for (const auto& i : in)
            if (overlap(out[o].v, i.v))
                hosm::detail::fail(where, "argument '", out[o].name, "' overlaps the input '",
                                   i.name, "': outputs must not alias inputs");
        for (std::size_t p = 0; p < o; ++p)
            if (overlap(out[o].v, out[p].v))
                hosm::detail::fail(where, "argument '", out[o].name, "' overlaps the output '",
                                   out[p].name, "': every output needs its own storage");
    }
}

/// out[j] = f's loss of sample j, written by the functor.
template <class F, class T>
struct per_sample_fn {
    F f;
    T* out;
    HOSM_HOST_DEVICE void operator()(index_t j) const { out[j] = f(j); }
};

/// (1/N) sum_j f(j): f is a HOSM_HOST_DEVICE functor returning sample j's loss
/// (and writing its gradients, each sample to its own columns). The per-sample
/// values go to a workspace of N numbers in B's memory and are summed by a B
/// reduction, so f runs exactly once per sample.
template <concepts::Backend B, class T, class F>
T mean_of_samples(index_t N, F f) {
    typename B::template vector<T> w(static_cast<std::size_t>(N));
    T* p = thrust::raw_pointer_cast(w.data());
    backend::for_each_index<B>(N, per_sample_fn<F, T>{f, p});
    return backend::reduce_sum<B>(p, N) / static_cast<T>(N);
}

/// Returns `loss` if it is finite. Otherwise scan() is called to name a
/// non-finite model output (it throws through check_finite); if it does not
/// throw, the outputs were finite and the loss overflowed.
template <class T, class Scan>
T finish(const char* where, T loss, Scan scan) {
    if (std::isfinite(static_cast<double>(loss))) return loss;
    scan();
    hosm::detail::fail(where, "the loss overflowed to ", loss,
                       " with finite inputs (model outputs too large for the value type)");
}

}  // namespace hosm::objectives::detail
