// hosm/random/stream.hpp — a keyed random stream and batched fills.
//
//   random::stream s{seed, stream_id};
//   s.uniform<T>(i, k)   k-th uniform of sample i, in (0, 1)
//   s.normal<T>(i, k)    k-th standard normal of sample i
//   fill_normal<B>(s, out, first)   out(k, j) = s.normal(first + j, k)
//
// A stream is two integers: copy it into device functors freely. Use a
// distinct stream id for each purpose (noise, initial state, ...) under one
// seed; distinct (seed, stream) pairs give independent sequences.
#pragma once
#include <cstdint>

#include <hosm/backend/algorithms.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/random/normal.hpp>

namespace hosm::random {

struct stream {
    std::uint64_t seed = 0;
    std::uint32_t id = 0;

    template <class T>
    HOSM_HOST_DEVICE T uniform(std::uint64_t index, std::uint32_t k) const {
        const block128 b = philox_block(seed, id, index, k >> 1, domain::uniform);
        const std::uint64_t bits = (k & 1u) ? join64(b.w[2], b.w[3]) : join64(b.w[0], b.w[1]);
        return bits_to_open_unit<T>(bits);
    }

    template <class T>
    HOSM_HOST_DEVICE T normal(std::uint64_t index, std::uint32_t k) const {
        const block128 b = philox_block(seed, id, index, k >> 1, domain::normal);
        T n0, n1;
        box_muller<T>(b, n0, n1);
        return (k & 1u) ? n1 : n0;
    }
};

namespace detail {
template <class T>
struct fill_normal_fn {
    stream s;
    batch_view<T> out;
    std::uint64_t first;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        T* c = out.col(j);
        const std::uint64_t idx = first + static_cast<std::uint64_t>(j);
        index_t k = 0;
        for (; k + 1 < out.dim; k += 2) {  // one Philox call per pair
            const block128 b = philox_block(s.seed, s.id, idx, static_cast<std::uint32_t>(k >> 1),
                                            domain::normal);
            box_muller<T>(b, c[k], c[k + 1]);
        }
        if (k < out.dim) c[k] = s.normal<T>(idx, static_cast<std::uint32_t>(k));
    }
};
template <class T>
struct fill_uniform_fn {
    stream s;
    batch_view<T> out;
    std::uint64_t first;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        T* c = out.col(j);
        const std::uint64_t idx = first + static_cast<std::uint64_t>(j);
        for (index_t k = 0; k < out.dim; ++k) c[k] = s.uniform<T>(idx, static_cast<std::uint32_t>(k));
    }
};
}  // namespace detail

/// out(k, j) = s.normal<T>(first + j, k): column j is sample index first + j.
template <concepts::Backend B, class T>
void fill_normal(const stream& s, batch_view<T> out, std::uint64_t first = 0) {
    backend::for_each_index<B>(out.count, detail::fill_normal_fn<T>{s, out, first});
}

/// out(k, j) = s.uniform<T>(first + j, k).
template <concepts::Backend B, class T>
void fill_uniform(const stream& s, batch_view<T> out, std::uint64_t first = 0) {
    backend::for_each_index<B>(out.count, detail::fill_uniform_fn<T>{s, out, first});
}

}  // namespace hosm::random
