// Tests of optim::sgd (hosm/optim/sgd.hpp).
//
// Oracles: the update formulas of the header by hand (long double), and the
// minimiser c of f(theta) = 1/2 sum a_i (theta_i - c_i)^2 with a_i in
// [0.5, 2]. Tolerances: a few steps are checked to 8 t eps_T (|theta| + 1)
// (each step rounds ~4 operations); with lr = 0.2 plain SGD contracts the
// error by |1 - lr a_i| <= 0.9 per step, so 400 steps leave 0.9^400 ~ 5e-19
// of the start: the result is c to rounding, checked to 1e-5 (float) and
// 1e-12 (double). Heavy-ball (mu = 0.5) has spectral radius <= 0.75 here.
#include "support/backends.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <thrust/host_vector.h>

#include <hosm/optim/sgd.hpp>

using namespace hosm;

TEST_CASE_TEMPLATE("optim::sgd: plain, momentum and weight decay steps by hand", T, float, double) {
    const long double e = std::numeric_limits<T>::epsilon();
    const long double p0[3] = {1.0L, -2.0L, 0.5L};
    const long double g1[3] = {0.5L, -0.25L, 4.0L}, g2[3] = {-1.0L, 0.75L, 0.125L};
    const long double lr = (long double)T(0.1), mu = (long double)T(0.9), wd = (long double)T(0.01);

    SUBCASE("plain") {
        std::vector<T> p(p0, p0 + 3), g(g1, g1 + 3);
        optim::sgd<T> opt({.lr = T(0.1)});
        opt.step(p.data(), g.data(), 3);
        CHECK(opt.velocity().empty());
        for (int i = 0; i < 3; ++i) CHECK(std::fabs(p[i] - (p0[i] - lr * g1[i])) <= 8 * e * 3);
    }
    SUBCASE("heavy ball with L2 decay") {
        std::vector<T> p(p0, p0 + 3), g(g1, g1 + 3);
        optim::sgd<T> opt({.lr = T(0.1), .momentum = T(0.9), .weight_decay = T(0.01)});
        long double q[3], u[3];
        for (int i = 0; i < 3; ++i) {
            u[i] = g1[i] + wd * p0[i];
            q[i] = p0[i] - lr * u[i];
        }
        opt.step(p.data(), g.data(), 3);
        g.assign(g2, g2 + 3);
        opt.step(p.data(), g.data(), 3);
        for (int i = 0; i < 3; ++i) {
            u[i] = mu * u[i] + g2[i] + wd * q[i];
            q[i] = q[i] - lr * u[i];
        }
        CHECK(opt.step_count() == 2);
        for (int i = 0; i < 3; ++i) {
            CHECK(std::fabs(p[i] - q[i]) <= 16 * e * 4);
            CHECK(std::fabs(opt.velocity()[i] - u[i]) <= 16 * e * 8);
        }
    }
}

TEST_CASE_TEMPLATE("optim::sgd: converges to the minimiser of a quadratic", B, HOSM_TEST_BACKENDS) {
    const index_t n = 16;
    auto run = [&]<class T>(T, T momentum, double tol) {
        thrust::host_vector<T> a(n), c(n);
        for (index_t i = 0; i < n; ++i) a[i] = T(0.5 + 1.5 * double(i) / double(n - 1)), c[i] = T(std::sin(double(i)));
        typename B::template vector<T> p(n, T(0)), g(n);
        optim::sgd<T, B> opt({.lr = T(0.2), .momentum = momentum});
        for (int t = 0; t < 400; ++t) {
            for (index_t i = 0; i < n; ++i) g[i] = a[i] * (p[i] - c[i]);
            opt.step(p, g);
        }
        double worst = 0;
        for (index_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(double(p[i]) - double(c[i])));
        CHECK(worst <= tol);
    };
    run(float{}, 0.0f, 1e-5);
    run(double{}, 0.0, 1e-12);
    run(float{}, 0.5f, 1e-5);
    run(double{}, 0.5, 1e-12);
}

TEST_CASE_TEMPLATE("optim::sgd: back ends agree bitwise", B, HOSM_TEST_BACKENDS) {
    const index_t n = 1000;
    std::mt19937 gen(5);
    std::normal_distribution<double> nd;
    thrust::host_vector<double> p0(n);
    for (auto& x : p0) x = nd(gen);
    typename B::template vector<double> p(p0);
    thrust::host_vector<double> q(p0);
    optim::sgd<double, B> ob({.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3});
    optim::sgd<double, backend::cpp> oc({.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3});
    for (int t = 0; t < 20; ++t) {
        thrust::host_vector<double> g(n);
        for (auto& x : g) x = nd(gen);
        typename B::template vector<double> gb(g);
        ob.step(p, gb);
        oc.step(q, g);
    }
    bool same = true;
    for (index_t i = 0; i < n; ++i) same = same && p[i] == q[i] && ob.velocity()[i] == oc.velocity()[i];
    CHECK(same);
}

TEST_CASE("optim::sgd: restore continues the same trajectory") {
    std::vector<double> p = {0.3, -0.7, 1.1}, g1 = {0.1, -2.0, 0.5}, g2 = {-0.3, 0.4, 1.5};
    optim::sgd<double> a({.lr = 0.1, .momentum = 0.8});
    a.step(p.data(), g1.data(), 3);
    thrust::host_vector<double> u = a.velocity();
    std::vector<double> saved = p;
    a.step(p.data(), g2.data(), 3);
    optim::sgd<double> b({.lr = 0.1, .momentum = 0.8});
    b.restore(1, u.data(), 3);
    b.step(saved.data(), g2.data(), 3);
    CHECK(saved == p);
    CHECK(b.step_count() == 2);
}

TEST_CASE("optim::sgd: bad arguments raise hosm::error naming them") {
    using S = optim::sgd<double>;
    CHECK_THROWS_WITH_AS(S({.lr = 0.0}), doctest::Contains("'lr' must be finite and > 0, got 0"), hosm::error);
    CHECK_THROWS_WITH_AS(S({.momentum = 1.0}), doctest::Contains("'momentum' must be in [0, 1), got 1"),
                         hosm::error);
    CHECK_THROWS_WITH_AS(S({.momentum = -0.1}), doctest::Contains("'momentum'"), hosm::error);
    CHECK_THROWS_WITH_AS(S({.weight_decay = -1.0}), doctest::Contains("'weight_decay'"), hosm::error);
    S opt({.lr = 0.1, .momentum = 0.5});
    std::vector<double> p(3, 1.0), g(3, 1.0);
    opt.step(p.data(), g.data(), 3);
    CHECK_THROWS_WITH_AS(opt.step(p.data(), g.data(), 2), doctest::Contains("size mismatch"), hosm::error);
    g[0] = std::nan("");
    const auto before = p;
    CHECK_THROWS_WITH_AS(opt.step(p.data(), g.data(), 3), doctest::Contains("non-finite"), hosm::error);
    CHECK(p == before);
    CHECK(opt.step_count() == 1);
    opt.set_lr(0.0);  // allowed: a schedule may end at 0
    g[0] = 1.0;
    opt.step(p.data(), g.data(), 3);
    CHECK(p == before);
}
