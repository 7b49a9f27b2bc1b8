// Tests of io::array (hosm/io/array.hpp): construction, typed access, matrix
// conversion in both memory orders, and the checks. All exact (copies).
#include <cstdint>
#include <limits>
#include <vector>

#include <doctest/doctest.h>
#include <thrust/host_vector.h>

#include <hosm/core/eigen.hpp>
#include <hosm/io/array.hpp>

using namespace hosm;

TEST_CASE("io::array: construction and typed access") {
    const io::array e;
    CHECK(e.type() == io::dtype::float64);
    CHECK(e.shape() == std::vector<index_t>{0});
    CHECK(e.size() == 0);

    const io::array z(io::dtype::int64, {2, 3});
    CHECK(z.size() == 6);
    CHECK(z.nbytes() == 48);
    CHECK(z.to_vector<std::int64_t>() == std::vector<std::int64_t>(6, 0));

    const float v[4] = {1, 2, 3, 4};
    const io::array a = io::array::from(v, {2, 2});
    CHECK(a.type() == io::dtype::float32);
    CHECK(a.ndim() == 2);
    CHECK(!a.fortran_order());
    CHECK(a.data<float>()[3] == 4.0f);
    CHECK_THROWS_WITH_AS(a.data<double>(), doctest::Contains("dtype float32 ('<f4'), requested float64"),
                         hosm::error);

    const io::array s = io::array::scalar<std::uint64_t>(42);
    CHECK(s.ndim() == 0);
    CHECK(s.size() == 1);
    CHECK(s.item<std::uint64_t>() == 42u);
    CHECK_THROWS_WITH_AS(a.item<float>(), doctest::Contains("4 elements, expected 1"), hosm::error);

    thrust::host_vector<double> h(3);
    h[0] = 0.5, h[1] = -1.5, h[2] = 2.0;
    const io::array f = io::array::from_vector(h);
    CHECK(f.shape() == std::vector<index_t>{3});
    CHECK(f.to_vector<double>() == std::vector<double>{0.5, -1.5, 2.0});
    CHECK_THROWS_AS(io::array::from_vector(std::vector<std::int64_t>{7, 8}).item<std::int64_t>(), hosm::error);
}

TEST_CASE("io::array: matrices in Fortran and C order") {
    matrix<double> m(2, 3);
    m << 1, 2, 3, 4, 5, 6;
    const io::array a = io::array::from_eigen(m);
    CHECK(a.shape() == std::vector<index_t>{2, 3});
    CHECK(a.fortran_order());
    CHECK(a.to_vector<double>() == std::vector<double>{1, 4, 2, 5, 3, 6});  // column-major
    CHECK(a.to_matrix<double>() == m);
    // the same matrix in C order (row-major storage)
    const double rows[6] = {1, 2, 3, 4, 5, 6};
    const io::array c = io::array::from(rows, {2, 3}, false);
    CHECK(c.to_matrix<double>() == m);
    CHECK(!(a == c));  // same matrix, different storage
    vector<float> col(3);
    col << 1, 2, 3;
    const io::array v = io::array::from_eigen(col);
    CHECK(v.shape() == std::vector<index_t>{3});
    CHECK(v.to_matrix<float>() == col);
    const io::array three(io::dtype::float64, {1, 2, 3});
    CHECK_THROWS_WITH_AS(three.to_matrix<double>(), doctest::Contains("3 dimensions"), hosm::error);
}

TEST_CASE("io::array: bad shapes") {
    CHECK_THROWS_WITH_AS(io::array(io::dtype::float32, {2, -1}), doctest::Contains("dimension 1 of the shape is negative: -1"),
                         hosm::error);
    const index_t big = std::numeric_limits<index_t>::max() / 2;
    CHECK_THROWS_WITH_AS(io::array(io::dtype::float64, {big, big}), doctest::Contains("overflows"), hosm::error);
    CHECK_THROWS_WITH_AS(io::array::from(static_cast<const double*>(nullptr), {2}), doctest::Contains("'data'"),
                         hosm::error);
    CHECK(io::array::from(static_cast<const double*>(nullptr), {0}).size() == 0);  // nothing to copy
}
