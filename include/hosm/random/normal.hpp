// hosm/random/normal.hpp — standard normal draws by the Box–Muller transform.
//
// One Philox call gives two 64-bit words, hence two open-interval uniforms
// u1, u2, hence the pair
//   r = sqrt(-2 log u1),  n0 = r cos(2 pi u2),  n1 = r sin(2 pi u2).
// Draw k of a sample uses block k/2 and takes n0 for even k, n1 for odd k.
#pragma once
#include <cmath>

#include <hosm/random/philox.hpp>
#include <hosm/random/uniform.hpp>

namespace hosm::random {

template <class T>
HOSM_HOST_DEVICE inline void box_muller(const block128& b, T& n0, T& n1) {
    const T u1 = bits_to_open_unit<T>(join64(b.w[0], b.w[1]));
    const T u2 = bits_to_open_unit<T>(join64(b.w[2], b.w[3]));
    constexpr T two_pi = T(6.283185307179586476925286766559);
    const T r = std::sqrt(T(-2) * std::log(u1));
    n0 = r * std::cos(two_pi * u2);
    n1 = r * std::sin(two_pi * u2);
}

}  // namespace hosm::random
