// hosm/io/detail/little_endian.hpp — little-endian integers in byte buffers.
//
//   put_le<U>(out, value)          appends sizeof(U) bytes to a std::string
//   get_le<U>(p)                   reads sizeof(U) bytes at p (unchecked; the
//                                  caller has checked the range)
//
// The .npy payload is copied with memcpy, which is right only on a
// little-endian host: hosm/io refuses to compile elsewhere rather than write
// files NumPy would misread.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

namespace hosm::io::detail {

static_assert(std::endian::native == std::endian::little,
              "hosm/io writes .npy payloads by memcpy and needs a little-endian host");

template <class U>
void put_le(std::string& out, U value) {
    static_assert(std::is_unsigned_v<U>);
    for (std::size_t k = 0; k < sizeof(U); ++k)
        out.push_back(static_cast<char>(static_cast<unsigned char>(value >> (8 * k))));
}

template <class U>
U get_le(const char* p) {
    static_assert(std::is_unsigned_v<U>);
    U v = 0;
    for (std::size_t k = 0; k < sizeof(U); ++k)
        v |= static_cast<U>(static_cast<unsigned char>(p[k])) << (8 * k);
    return v;
}

}  // namespace hosm::io::detail
