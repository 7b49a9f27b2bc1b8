// Tests of optim::ema (hosm/optim/ema.hpp).
//
// Oracle: the recurrence a_1 = theta_1, a_k = rho a_k-1 + (1 - rho) theta_k
// in long double and its closed form for a constant sequence (a_k = theta).
// Tolerance: each update rounds 3 operations, so k updates are checked to
// 4 k eps_T max|theta|.
#include "support/backends.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <thrust/host_vector.h>

#include <hosm/optim/ema.hpp>

using namespace hosm;

TEST_CASE_TEMPLATE("optim::ema: follows the recurrence", B, HOSM_TEST_BACKENDS) {
    using T = float;
    const long double e = std::numeric_limits<T>::epsilon();
    const index_t n = 257;
    std::mt19937 gen(2);
    std::normal_distribution<double> nd;
    optim::ema<T, B> avg(T(0.75));
    CHECK(avg.decay() == T(0.75));
    std::vector<long double> ref(n);
    const long double rho = 0.75L;
    const int K = 6;
    for (int k = 1; k <= K; ++k) {
        thrust::host_vector<T> h(n);
        for (auto& x : h) x = T(nd(gen));
        typename B::template vector<T> p(h);
        avg.update(p);
        for (index_t i = 0; i < n; ++i) ref[i] = k == 1 ? (long double)h[i] : rho * ref[i] + (1 - rho) * h[i];
    }
    CHECK(avg.count() == K);
    CHECK(avg.size() == n);
    typename B::template vector<T> out;
    avg.copy_to(out);
    REQUIRE(index_t(out.size()) == n);
    bool ok = true;
    for (index_t i = 0; i < n; ++i) ok = ok && std::fabs(out[i] - ref[i]) <= 4 * K * e * 5;
    CHECK(ok);
}

TEST_CASE_TEMPLATE("optim::ema: back ends agree bitwise", B, HOSM_TEST_BACKENDS) {
    const index_t n = 1000;
    std::mt19937 gen(8);
    std::normal_distribution<double> nd;
    optim::ema<double, B> ab(0.99);
    optim::ema<double, backend::cpp> ac(0.99);
    for (int k = 0; k < 5; ++k) {
        thrust::host_vector<double> h(n);
        for (auto& x : h) x = nd(gen);
        typename B::template vector<double> p(h);
        ab.update(p);
        ac.update(h);
    }
    bool same = true;
    for (index_t i = 0; i < n; ++i) same = same && ab.average()[i] == ac.average()[i];
    CHECK(same);
}

TEST_CASE("optim::ema: first update copies; constant input stays; decay 0 tracks") {
    std::vector<double> p = {1.5, -2.0, 3.25}, out(3, 0.0);
    optim::ema<double> avg(0.9);
    avg.update(p.data(), 3);
    avg.copy_to(out.data(), 3);
    CHECK(out == p);
    for (int k = 0; k < 10; ++k) avg.update(p.data(), 3);
    avg.copy_to(out.data(), 3);
    for (int i = 0; i < 3; ++i) CHECK(out[i] == doctest::Approx(p[i]).epsilon(1e-15));
    // two updates: a_2 = 0.9 a_1 + 0.1 theta_2
    optim::ema<double> b(0.9);
    std::vector<double> q = {0.0, 10.0, -10.0};
    b.update(p.data(), 3);
    b.update(q.data(), 3);
    b.copy_to(out.data(), 3);
    for (int i = 0; i < 3; ++i) CHECK(out[i] == doctest::Approx(0.9 * p[i] + 0.1 * q[i]).epsilon(1e-15));
    optim::ema<double> z(0.0);
    z.update(p.data(), 3);
    z.update(q.data(), 3);
    z.copy_to(out.data(), 3);
    CHECK(out == q);
}

TEST_CASE("optim::ema: restore and reset") {
    std::vector<double> a = {1.0, 2.0}, p = {3.0, 5.0}, out(2);
    optim::ema<double> avg(0.5);
    avg.restore(4, a.data(), 2);
    CHECK(avg.count() == 4);
    avg.update(p.data(), 2);
    avg.copy_to(out.data(), 2);
    CHECK(out[0] == 2.0);
    CHECK(out[1] == 3.5);
    avg.reset();
    CHECK(avg.count() == 0);
    CHECK_THROWS_WITH_AS(avg.copy_to(out.data(), 2), doctest::Contains("no average yet"), hosm::error);
}

TEST_CASE("optim::ema: bad arguments raise hosm::error naming them") {
    CHECK_THROWS_WITH_AS(optim::ema<double>(1.0), doctest::Contains("'decay' must be in [0, 1), got 1"),
                         hosm::error);
    CHECK_THROWS_WITH_AS(optim::ema<double>(-0.5), doctest::Contains("'decay'"), hosm::error);
    CHECK_THROWS_AS(optim::ema<double>(std::nan("")), hosm::error);
    optim::ema<double> avg(0.9);
    std::vector<double> p(4, 1.0);
    CHECK_THROWS_WITH_AS(avg.update(nullptr, 4), doctest::Contains("'params'"), hosm::error);
    CHECK_THROWS_WITH_AS(avg.update(p.data(), 0), doctest::Contains("'n' = 0"), hosm::error);
    avg.update(p.data(), 4);
    CHECK_THROWS_WITH_AS(avg.update(p.data(), 3), doctest::Contains("size mismatch"), hosm::error);
    CHECK_THROWS_WITH_AS(avg.copy_to(p.data(), 3), doctest::Contains("'n' has size 3, expected 4"), hosm::error);
    CHECK_THROWS_WITH_AS(avg.restore(0, p.data(), 4), doctest::Contains("'count'"), hosm::error);
}
