// hosm/io/detail/crc32.hpp — CRC-32 as used by ZIP (and zlib, PNG, gzip).
//
// Maths: the reflected CRC with generator polynomial 0x04C11DB7 (reversed
// 0xEDB88320), initial value 0xFFFFFFFF and final complement, computed a byte
// at a time with a 256-entry table built at compile time:
//
//     c <- table[(c xor byte) and 0xFF] xor (c >> 8),
//     table[n] = n shifted right 8 times through  x -> (x >> 1) xor (0xEDB88320 if x odd).
//
// Check value: crc32("123456789") = 0xCBF43926.
//
// API
//   std::uint32_t crc32(const void* data, std::size_t n, std::uint32_t crc = 0)
//       continues a running CRC: crc32(b, nb, crc32(a, na)) == crc32(a + b).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace hosm::io::detail {

inline constexpr std::array<std::uint32_t, 256> crc32_table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
        std::uint32_t c = n;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[n] = c;
    }
    return t;
}();

inline std::uint32_t crc32(const void* data, std::size_t n, std::uint32_t crc = 0) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint32_t c = crc ^ 0xFFFFFFFFu;
    for (std::size_t i = 0; i < n; ++i) c = crc32_table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

}  // namespace hosm::io::detail
