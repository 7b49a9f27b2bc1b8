// Tests of io::detail::crc32 (hosm/io/detail/crc32.hpp) against the standard
// check values of CRC-32/ISO-HDLC (the ZIP CRC): exact.
#include <string>

#include <doctest/doctest.h>

#include <hosm/io/detail/crc32.hpp>

using hosm::io::detail::crc32;

TEST_CASE("io::detail::crc32: standard check values") {
    const std::string s = "123456789";
    CHECK(crc32(s.data(), s.size()) == 0xCBF43926u);
    CHECK(crc32("", 0) == 0u);
    const std::string fox = "The quick brown fox jumps over the lazy dog";
    CHECK(crc32(fox.data(), fox.size()) == 0x414FA339u);
    const unsigned char zeros[32] = {};
    CHECK(crc32(zeros, 32) == 0x190A55ADu);
    // running CRC: crc(a + b) = crc32(b, crc32(a))
    CHECK(crc32(s.data() + 4, 5, crc32(s.data(), 4)) == 0xCBF43926u);
}
