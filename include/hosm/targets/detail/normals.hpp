// hosm/targets/detail/normals.hpp — the standard normals of one sample, drawn
// exactly as random::fill_normal draws them (one Philox call per pair).
//
//   normals(s, index, out, n)   out[k] = s.normal<T>(index, k), k = 0 .. n-1
#pragma once
#include <cstdint>

#include <hosm/config.hpp>
#include <hosm/core/types.hpp>
#include <hosm/random/normal.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::targets::detail {

template <class T>
HOSM_HOST_DEVICE inline void normals(const random::stream& s, std::uint64_t index, T* out,
                                     index_t n) {
    index_t k = 0;
    for (; k + 1 < n; k += 2) {
        const random::block128 b = random::philox_block(
            s.seed, s.id, index, static_cast<std::uint32_t>(k >> 1), random::domain::normal);
        random::box_muller<T>(b, out[k], out[k + 1]);
    }
    if (k < n) out[k] = s.normal<T>(index, static_cast<std::uint32_t>(k));
}

}  // namespace hosm::targets::detail
