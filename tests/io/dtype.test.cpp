// Tests of io::dtype (hosm/io/dtype.hpp): the descr table is NumPy's, exact.
#include <cstdint>
#include <string>

#include <doctest/doctest.h>

#include <hosm/io/dtype.hpp>

using namespace hosm::io;

TEST_CASE("io::dtype: types, descrs, sizes") {
    static_assert(dtype_of<float> == dtype::float32);
    static_assert(dtype_of<const double> == dtype::float64);
    static_assert(dtype_of<std::int64_t> == dtype::int64);
    static_assert(dtype_of<std::uint64_t> == dtype::uint64);
    CHECK(std::string(descr(dtype::float32)) == "<f4");
    CHECK(std::string(descr(dtype::float64)) == "<f8");
    CHECK(std::string(descr(dtype::int64)) == "<i8");
    CHECK(std::string(descr(dtype::uint64)) == "<u8");
    CHECK(std::string(type_name(dtype::uint64)) == "uint64");
    CHECK(item_size(dtype::float32) == 4);
    CHECK(item_size(dtype::int64) == 8);
    CHECK(dtype_from_descr("<f8") == dtype::float64);
    CHECK(dtype_from_descr("<u8") == dtype::uint64);
    CHECK(!dtype_from_descr(">f8"));
    CHECK(!dtype_from_descr("<f2"));
    CHECK(!dtype_from_descr("f8"));
}
