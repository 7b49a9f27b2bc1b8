// Tests of optim::adam (hosm/optim/adam.hpp).
//
// Oracles: the recurrences of the header evaluated by hand in long double.
// Tolerances: the kernel rounds each update in ~8 operations of T, so one
// step is checked to 8 eps_T (|theta| + lr) and a run of t steps to
// 8 t eps_T (|theta| + lr) (m and v accumulate one rounding per step); the
// constant-gradient closed form theta_t = theta_0 - t lr g / (|g| + eps) is
// exact in real arithmetic. Convergence: on f(theta) = 1/2 sum a_i
// (theta_i - c_i)^2 Adam with a cosine-decayed rate (0.1 -> 0 over 1500
// steps, float) must end within 1e-4 of c. Adam's steps are at most ~lr in
// size and its oscillation about the minimiser shrinks with the rate, which
// is ~1e-7 at the last step; in practice the iterate lands on c to float
// rounding, so 1e-4 is a loose bound that still fails for a wrong update
// (the start is ~1 away).
#include "support/backends.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <thrust/host_vector.h>

#include <hosm/optim/adam.hpp>
#include <hosm/optim/schedule/cosine.hpp>

using namespace hosm;

namespace {

template <class T>
constexpr long double eps_of = std::numeric_limits<T>::epsilon();

template <class V>
auto raw(V& v) {
    return thrust::raw_pointer_cast(v.data());
}

template <class T, class B>
typename B::template vector<T> to_b(const std::vector<long double>& x) {
    thrust::host_vector<T> h(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) h[i] = static_cast<T>(x[i]);
    return typename B::template vector<T>(h);
}

/// Reference Adam in long double on T-rounded inputs.
struct ref_adam {
    long double lr, b1, b2, eps, wd;
    std::vector<long double> m, v;
    long t = 0;
    void step(std::vector<long double>& p, const std::vector<long double>& g) {
        if (m.empty()) m.assign(p.size(), 0), v.assign(p.size(), 0);
        ++t;
        const long double bc1 = 1 - std::pow(b1, (long double)t), bc2 = 1 - std::pow(b2, (long double)t);
        for (std::size_t i = 0; i < p.size(); ++i) {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            p[i] = p[i] * (1 - lr * wd) - lr * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + eps);
        }
    }
};

}  // namespace

TEST_CASE_TEMPLATE("optim::adam: defaults and settings", T, float, double) {
    optim::adam<T> opt;
    CHECK(opt.lr() == T(1e-3));
    CHECK(opt.beta1() == T(0.9));
    CHECK(opt.beta2() == T(0.999));
    CHECK(opt.eps() == T(1e-8));
    CHECK(opt.weight_decay() == T(0));
    CHECK(opt.size() == 0);
    CHECK(opt.step_count() == 0);
    optim::adam<T> w({.lr = T(0.01), .weight_decay = T(0.1)});
    CHECK(w.lr() == T(0.01));
    CHECK(w.beta2() == T(0.999));
    CHECK(w.weight_decay() == T(0.1));
    w.set_lr(T(0.5));
    CHECK(w.lr() == T(0.5));
}

TEST_CASE_TEMPLATE("optim::adam: first step is -lr g / (|g| + eps) (closed form)", B, HOSM_TEST_BACKENDS) {
    using T = double;
    const std::vector<long double> p0 = {1.0L, -2.0L, 0.5L, 3.0L, -0.75L};
    const std::vector<long double> g = {0.5L, -0.25L, 2.0L, 0.0L, 1e-6L};
    const long double lr = 1e-3L, eps = 1e-8L;
    auto p = to_b<T, B>(p0);
    auto gr = to_b<T, B>(g);
    optim::adam<T, B> opt;
    opt.step(raw(p), raw(gr), 5);
    CHECK(opt.step_count() == 1);
    CHECK(opt.size() == 5);
    for (std::size_t i = 0; i < p0.size(); ++i) {
        const long double want = p0[i] - lr * g[i] / (std::fabs(g[i]) + eps);
        const long double tol = 8 * eps_of<T> * (std::fabs(p0[i]) + lr);
        CHECK(std::fabs((long double)p[i] - want) <= tol);
        // m_1 = (1 - beta1) g, v_1 = (1 - beta2) g^2
        CHECK(std::fabs((long double)opt.first_moment()[i] - 0.1L * g[i]) <= 4 * eps_of<T> * std::fabs(g[i]));
        CHECK(std::fabs((long double)opt.second_moment()[i] - 1e-3L * g[i] * g[i]) <=
              4 * eps_of<T> * g[i] * g[i]);
    }
    // about -lr sign(g) when |g| >> eps: exact to lr eps / |g|
    CHECK(std::fabs((long double)p[0] - (p0[0] - lr)) <= lr * eps / 0.5L + 1e-15L);
    CHECK(std::fabs((long double)p[1] - (p0[1] + lr)) <= lr * eps / 0.25L + 1e-15L);
    CHECK((long double)p[3] == p0[3]);  // g = 0: no move
    // |g| = 1e-6 is comparable to eps: the step is lr / (1 + 1e-2), not lr
    CHECK(std::fabs((long double)p[4] - (p0[4] - lr / (1 + 1e-2L))) <= 8 * eps_of<T>);
}

TEST_CASE_TEMPLATE("optim::adam: constant gradient moves lr g / (|g| + eps) every step", T, float, double) {
    const std::vector<long double> p0 = {0.25L, -1.5L, 2.0L};
    const std::vector<long double> g = {3.0L, -0.5L, 0.125L};
    const long double lr = 0.05L, eps = 1e-8L;
    auto p = to_b<T, backend::cpp>(p0);
    auto gr = to_b<T, backend::cpp>(g);
    optim::adam<T> opt({.lr = T(0.05)});
    const int steps = 10;
    for (int t = 0; t < steps; ++t) opt.step(p, gr);
    for (std::size_t i = 0; i < p0.size(); ++i) {
        const long double want = p0[i] - steps * lr * g[i] / (std::fabs(g[i]) + eps);
        const long double scale = std::fabs(p0[i]) + steps * lr;
        CHECK(std::fabs((long double)p[i] - want) <= 8 * steps * eps_of<T> * scale);
    }
}

TEST_CASE_TEMPLATE("optim::adam: varying gradients match the recurrence, Adam and AdamW", T, float, double) {
    for (const long double wd : {0.0L, 0.1L}) {
        CAPTURE((double)wd);
        std::mt19937 gen(3);
        std::normal_distribution<double> nd;
        const std::size_t n = 7;
        std::vector<long double> p0(n);
        for (auto& x : p0) x = static_cast<T>(nd(gen));
        auto p = to_b<T, backend::cpp>(p0);
        optim::adam<T> opt({.lr = T(0.1), .beta1 = T(0.8), .beta2 = T(0.99), .eps = T(1e-3),
                            .weight_decay = static_cast<T>(wd)});
        ref_adam ref{(long double)T(0.1), (long double)T(0.8), (long double)T(0.99), (long double)T(1e-3),
                     (long double)static_cast<T>(wd), {}, {}};
        std::vector<long double> pr = p0;
        const int steps = 4;
        for (int t = 0; t < steps; ++t) {
            std::vector<long double> g(n);
            for (auto& x : g) x = static_cast<T>(2 * nd(gen));
            auto gb = to_b<T, backend::cpp>(g);
            opt.step(p, gb);
            ref.step(pr, g);
        }
        CHECK(opt.step_count() == steps);
        for (std::size_t i = 0; i < n; ++i) {
            CAPTURE(i);
            const long double tol = 8 * steps * eps_of<T> * (std::fabs(pr[i]) + 1);
            CHECK(std::fabs((long double)p[i] - pr[i]) <= tol);
            CHECK(std::fabs((long double)opt.first_moment()[i] - ref.m[i]) <= tol);
            CHECK(std::fabs((long double)opt.second_moment()[i] - ref.v[i]) <= tol * (1 + ref.v[i]));
        }
    }
}

TEST_CASE_TEMPLATE("optim::adam: converges on a quadratic with a cosine schedule", B, HOSM_TEST_BACKENDS) {
    using T = float;
    const index_t n = 16;
    thrust::host_vector<T> a(n), c(n);
    for (index_t i = 0; i < n; ++i) a[i] = T(0.5 + 1.5 * double(i) / double(n - 1)), c[i] = T(std::sin(double(i)));
    typename B::template vector<T> p(n, T(0)), g(n);
    optim::adam<T, B> opt({.lr = T(0.1)});
    const optim::schedule::cosine<T> sched(T(0.1), 1500);
    for (index_t t = 0; t < 1500; ++t) {
        for (index_t i = 0; i < n; ++i) g[i] = a[i] * (p[i] - c[i]);
        opt.set_lr(sched(t));
        opt.step(p, g);
    }
    double worst = 0;
    for (index_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(double(p[i]) - double(c[i])));
    CHECK(worst <= 1e-4);
}

TEST_CASE_TEMPLATE("optim::adam: back ends agree bitwise", B, HOSM_TEST_BACKENDS) {
    using T = float;
    const index_t n = 1000;
    std::mt19937 gen(11);
    std::normal_distribution<float> nd;
    thrust::host_vector<T> p0(n);
    for (auto& x : p0) x = nd(gen);
    typename B::template vector<T> p(p0);
    typename backend::cpp::template vector<T> q(p0);
    optim::adam<T, B> ob({.lr = T(0.01), .weight_decay = T(0.01)});
    optim::adam<T, backend::cpp> oc({.lr = T(0.01), .weight_decay = T(0.01)});
    for (int t = 0; t < 20; ++t) {
        thrust::host_vector<T> g(n);
        for (auto& x : g) x = nd(gen);
        typename B::template vector<T> gb(g);
        typename backend::cpp::template vector<T> gc(g);
        ob.step(p, gb);
        oc.step(q, gc);
    }
    bool same = true;
    for (index_t i = 0; i < n; ++i)
        same = same && p[i] == q[i] && ob.first_moment()[i] == oc.first_moment()[i] &&
               ob.second_moment()[i] == oc.second_moment()[i];
    CHECK(same);
}

TEST_CASE("optim::adam: restore continues the same trajectory") {
    using T = double;
    std::vector<long double> p0 = {0.3L, -0.7L, 1.1L};
    auto p = to_b<T, backend::cpp>(p0);
    thrust::host_vector<T> g1(3), g2(3);
    g1[0] = 0.1, g1[1] = -2.0, g1[2] = 0.5;
    g2[0] = -0.3, g2[1] = 0.4, g2[2] = 1.5;
    optim::adam<T> a({.lr = T(0.01)});
    a.step(p, g1);
    thrust::host_vector<T> m = a.first_moment(), v = a.second_moment(), saved = p;
    a.step(p, g2);
    optim::adam<T> b({.lr = T(0.01)});
    b.restore(1, m.data(), v.data(), 3);
    CHECK(b.step_count() == 1);
    b.step(saved, g2);
    for (int i = 0; i < 3; ++i) CHECK(saved[i] == p[i]);
    b.reset();
    CHECK(b.size() == 0);
    CHECK(b.step_count() == 0);
}

TEST_CASE("optim::adam: bad arguments raise hosm::error naming them") {
    using A = optim::adam<double>;
    CHECK_THROWS_WITH_AS(A({.lr = 0.0}), doctest::Contains("'lr'"), hosm::error);
    CHECK_THROWS_WITH_AS(A({.lr = -1.0}), doctest::Contains("-1"), hosm::error);
    CHECK_THROWS_AS(A({.lr = std::nan("")}), hosm::error);
    CHECK_THROWS_WITH_AS(A({.beta1 = 1.0}), doctest::Contains("'beta1' must be in [0, 1), got 1"), hosm::error);
    CHECK_THROWS_WITH_AS(A({.beta2 = -0.1}), doctest::Contains("'beta2'"), hosm::error);
    CHECK_THROWS_WITH_AS(A({.eps = 0.0}), doctest::Contains("'eps'"), hosm::error);
    CHECK_THROWS_WITH_AS(A({.weight_decay = -0.5}), doctest::Contains("'weight_decay'"), hosm::error);

    A opt;
    CHECK_THROWS_WITH_AS(opt.set_lr(-0.1), doctest::Contains("'lr'"), hosm::error);
    std::vector<double> p(4, 1.0), g(4, 0.5);
    CHECK_THROWS_WITH_AS(opt.step(p.data(), g.data(), 0), doctest::Contains("'n' = 0"), hosm::error);
    CHECK_THROWS_WITH_AS(opt.step(nullptr, g.data(), 4), doctest::Contains("'params'"), hosm::error);
    CHECK_THROWS_WITH_AS(opt.step(p.data(), nullptr, 4), doctest::Contains("'grads'"), hosm::error);
    opt.step(p.data(), g.data(), 4);
    CHECK_THROWS_WITH_AS(opt.step(p.data(), g.data(), 3), doctest::Contains("'n' = 3"), hosm::error);
    thrust::host_vector<double> pv(4, 1.0), gv(5, 0.5);
    CHECK_THROWS_WITH_AS(opt.step(pv, gv), doctest::Contains("'grads' has size 5"), hosm::error);

    // a non-finite gradient is reported before anything changes
    const std::vector<double> before = p;
    g[2] = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(opt.step(p.data(), g.data(), 4), doctest::Contains("at index 2"), hosm::error);
    CHECK(p == before);
    CHECK(opt.step_count() == 1);
    CHECK(opt.first_moment()[2] == doctest::Approx(0.05));

    std::vector<double> m(4, 0.0), v(4, 1.0);
    v[1] = -1.0;
    CHECK_THROWS_WITH_AS(opt.restore(3, m.data(), v.data(), 4), doctest::Contains("'v_host'"), hosm::error);
    CHECK_THROWS_WITH_AS(opt.restore(-1, m.data(), m.data(), 4), doctest::Contains("'step_count'"),
                         hosm::error);
}

#if !defined(__CUDACC__)  // host memory below
TEST_CASE("optim::adam: the benchmarked size, misaligned, equals the update formula") {
    // the parameter count of the D = 100 DSM network (100 -> 256 -> 256 -> 100),
    // one entry past an aligned start: vector chunks, the padded tail and
    // AdamW against the formula in double (float: a few ulp of the step)
    using T = float;
    const index_t n = 117604;
    std::mt19937 gen(13);
    std::normal_distribution<float> nd;
    std::vector<T> pbuf(n + 1), gbuf(n + 1);
    for (auto& x : pbuf) x = nd(gen);
    const T before = pbuf[0];
    std::vector<double> p(pbuf.begin() + 1, pbuf.end()), m(n, 0.0), v(n, 0.0);
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
    optim::adam<T, backend::cpp> opt({.lr = T(lr), .weight_decay = T(wd)});
    for (int t = 1; t <= 3; ++t) {
        for (auto& x : gbuf) x = nd(gen);
        opt.step(pbuf.data() + 1, gbuf.data() + 1, n);
        for (index_t i = 0; i < n; ++i) {
            const double g = gbuf[std::size_t(i + 1)];
            m[std::size_t(i)] = b1 * m[std::size_t(i)] + (1 - b1) * g;
            v[std::size_t(i)] = b2 * v[std::size_t(i)] + (1 - b2) * g * g;
            const double mh = m[std::size_t(i)] / (1 - std::pow(b1, t)), vh = v[std::size_t(i)] / (1 - std::pow(b2, t));
            p[std::size_t(i)] = p[std::size_t(i)] * (1 - lr * wd) - lr * mh / (std::sqrt(vh) + eps);
        }
    }
    double worst = 0;
    for (index_t i = 0; i < n; ++i)
        worst = std::max(worst, std::fabs(double(pbuf[std::size_t(i + 1)]) - p[std::size_t(i)]));
    CHECK(worst <= 1e-5);
    CHECK(pbuf[0] == before);  // the entry before the range is untouched
}
#endif
