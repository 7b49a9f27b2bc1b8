// hosm/random/uniform.hpp — uniform draws on the open interval (0, 1).
//
// Bits to reals, written in hosm (not taken from a library) so host and device
// agree bit for bit:
//   double: u = (b >> 12 + 1/2) * 2^-52 from the top 52 of 64 random bits b,
//           in [2^-53, 1 - 2^-53];
//   float:  u = (b >> 41 + 1/2) * 2^-23 from the top 23 bits, in [2^-24, 1 - 2^-24].
// Both are exactly representable, never 0 or 1, so log(u) and log(1-u) are finite.
#pragma once
#include <cstdint>
#include <type_traits>

#include <hosm/config.hpp>

namespace hosm::random {

template <class T>
HOSM_HOST_DEVICE inline T bits_to_open_unit(std::uint64_t b) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "hosm::random: uniform draws are defined for float and double");
    if constexpr (std::is_same_v<T, double>) {
        return (static_cast<double>(b >> 12) + 0.5) * 0x1.0p-52;
    } else {
        return (static_cast<float>(static_cast<std::uint32_t>(b >> 41)) + 0.5f) * 0x1.0p-23f;
    }
}

HOSM_HOST_DEVICE inline std::uint64_t join64(std::uint32_t lo, std::uint32_t hi) {
    return static_cast<std::uint64_t>(lo) | (static_cast<std::uint64_t>(hi) << 32);
}

}  // namespace hosm::random
