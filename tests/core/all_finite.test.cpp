// Tests of hosm/core/all_finite.hpp: the vectorised scan agrees with
// std::isfinite entry by entry, in the 16-entry chunks and in the tail.
#include <cmath>
#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include <hosm/core/all_finite.hpp>

TEST_CASE_TEMPLATE("core/all_finite: a bad entry anywhere is found, large finite values pass", T,
                   float, double) {
    using lim = std::numeric_limits<T>;
    for (hosm::index_t n : {0, 1, 15, 16, 17, 40}) {
        std::vector<T> v(std::size_t(n), T(1));
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = (i % 2 ? -1 : 1) * lim::max() / T(i + 1);
        CHECK(hosm::detail::all_finite_host(v.data(), n));
        for (T bad : {lim::quiet_NaN(), lim::infinity(), -lim::infinity()})
            for (hosm::index_t at = 0; at < n; ++at) {
                CAPTURE(n);
                CAPTURE(at);
                std::vector<T> w = v;
                w[std::size_t(at)] = bad;
                CHECK_FALSE(hosm::detail::all_finite_host(w.data(), n));
            }
    }
}
