#include "support/backends.hpp"

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>

using namespace hosm;

namespace {
template <class T>
struct square_into {
    batch_view<T> out;
    HOSM_HOST_DEVICE void operator()(index_t i) const { out.data[i] = T(i) * T(i); }
};
template <class T>
struct twice {
    HOSM_HOST_DEVICE T operator()(index_t i) const { return T(2) * T(i); }
};
}  // namespace

TEST_CASE_TEMPLATE("backend/algorithms: for_each_index and reductions", B, HOSM_TEST_BACKENDS) {
    const index_t n = 1001;
    batch<double, B> x(1, n);
    backend::for_each_index<B>(n, square_into<double>{x.view()});
    const matrix<double> h = x.to_eigen();
    for (index_t i = 0; i < n; ++i) REQUIRE(h(0, i) == double(i) * double(i));
    // sum of i^2 for i < n is exact in double at this size
    const double expect = double(n - 1) * n * (2 * n - 1) / 6;
    CHECK(backend::reduce_sum<B>(x.view().data, n) == expect);
    CHECK(backend::transform_reduce_index<B>(n, twice<double>{}, 0.0) == double(n) * (n - 1));
    CHECK(backend::reduce_sum<B>(x.view().data, 0) == 0.0);
    backend::for_each_index<B>(0, square_into<double>{x.view()});  // empty range is a no-op
}

TEST_CASE_TEMPLATE("backend/batch: layout, round trip and bad sizes", B, HOSM_TEST_BACKENDS) {
    matrix<float> m(3, 4);
    for (index_t j = 0; j < 4; ++j)
        for (index_t i = 0; i < 3; ++i) m(i, j) = float(10 * j + i);
    batch<float, B> b(m);
    CHECK(b.dim() == 3);
    CHECK(b.count() == 4);
    CHECK(b.view().size() == 12);
    CHECK(b.to_eigen() == m);
    batch<float, B> z(2, 5, 1.5f);
    CHECK(z.to_eigen() == matrix<float>::Constant(2, 5, 1.5f));
    CHECK_THROWS_AS((batch<float, B>(0, 3)), hosm::error);
    CHECK_THROWS_AS((batch<float, B>(2, -1)), hosm::error);
}
