// hosm/random/philox.hpp — counter-based random streams (Philox4x32-10).
//
// A draw is a pure function of its key: (seed, stream, sample index, draw
// number). Nothing is carried from one draw to the next, so the numbers do not
// depend on the back end, the number of threads or the order in which samples
// are processed, and device code computes the same bits as host code.
//
// Layout of one Philox call (Random123's Philox4x32, 10 rounds):
//   key     = { seed & 0xffffffff, seed >> 32 }
//   counter = { block | domain, stream, index & 0xffffffff, index >> 32 }
// where `block` numbers the 128-bit blocks of one sample and `domain` (the top
// bit of the first word) separates uniform from normal draws, so that
// uniform(i, k) and normal(i, k) of one stream are independent.
#pragma once
#include <Random123/philox.h>

#include <cstdint>
#include <hosm/config.hpp>

namespace hosm::random {

/// The 128 random bits of one Philox call.
struct block128 {
    std::uint32_t w[4];
};

/// The domain bit set in counter word 0.
enum class domain : std::uint32_t { uniform = 0u, normal = 0x80000000u };

HOSM_HOST_DEVICE inline block128 philox_block(std::uint64_t seed, std::uint32_t stream,
                                              std::uint64_t index, std::uint32_t block,
                                              domain d = domain::uniform) {
    using gen = r123::Philox4x32;
    gen g;
    gen::ctr_type c = {{(block & 0x7fffffffu) | static_cast<std::uint32_t>(d), stream,
                        static_cast<std::uint32_t>(index),
                        static_cast<std::uint32_t>(index >> 32)}};
    gen::key_type k = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
    gen::ctr_type r = g(c, k);
    return {{r[0], r[1], r[2], r[3]}};
}

}  // namespace hosm::random
