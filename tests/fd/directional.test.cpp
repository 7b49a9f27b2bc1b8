// Tests of hosm/fd/directional.hpp: directional derivatives of any order from
// function values.
#include <doctest/doctest.h>

#include <cmath>
#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/fd/directional.hpp>
#include <limits>
#include <string>
#include <vector>

#include "support/backends.hpp"
#include "support/errors.hpp"

using namespace hosm;
using hosm_test::message_of;

namespace {

vector<double> vec3(double a, double b, double c) {
    vector<double> v(3);
    v << a, b, c;
    return v;
}

/// A multivariate polynomial on R^3 that is a polynomial of known
/// coefficients along every line: f(y) = sum_n c_n (a.y + b)^n + (d.y)^2 (e.y).
struct poly3 {
    int degree;
    vector<double> a = vec3(0.3, -0.2, 0.25), d = vec3(0.1, 0.4, -0.3), e = vec3(-0.2, 0.1, 0.5);
    double b = 0.1;
    double c(int n) const { return (n % 2 ? 0.7 : -0.4) / (1.0 + n); }
    double operator()(const vector<double>& y) const {
        const double u = a.dot(y) + b;
        double s = 0, p = 1;
        for (int n = 0; n <= degree; ++n, p *= u) s += c(n) * p;
        return s + d.dot(y) * d.dot(y) * e.dot(y);
    }
    /// d^T/dt^T f(x + t v) at 0, exactly.
    double derivative(const vector<double>& x, const vector<double>& v, int T) const {
        const double A = a.dot(x) + b, B = a.dot(v);
        double s = 0;
        for (int n = T; n <= degree; ++n) {
            double binom = 1;  // n! / (n - T)!
            for (int i = 0; i < T; ++i) binom *= n - i;
            s += c(n) * binom * std::pow(A, n - T) * std::pow(B, T);
        }
        // (p + q t)^2 (r + s t): cubic in t
        const double p = d.dot(x), q = d.dot(v), r = e.dot(x), w = e.dot(v);
        const double cub[4] = {p * p * r, 2 * p * q * r + p * p * w, q * q * r + 2 * p * q * w,
                               q * q * w};
        if (T <= 3) {
            double fact = 1;
            for (int i = 2; i <= T; ++i) fact *= i;
            s += fact * cub[T];
        }
        return s;
    }
};

/// f(y) = exp(a.y) + 0.3 sin(b.y): every directional derivative in closed form.
struct smooth3 {
    vector<double> a = vec3(0.5, -0.3, 0.2), b = vec3(0.2, 0.1, -0.1);
    double operator()(const vector<double>& y) const {
        return std::exp(a.dot(y)) + 0.3 * std::sin(b.dot(y));
    }
    double derivative(const vector<double>& x, const vector<double>& v, int T) const {
        return std::pow(a.dot(v), T) * std::exp(a.dot(x)) +
               0.3 * std::pow(b.dot(v), T) * std::sin(b.dot(x) + T * M_PI / 2);
    }
};

/// Least-squares slope of log(err) against log(eps).
double loglog_slope(const std::vector<double>& eps, const std::vector<double>& err) {
    const double n = static_cast<double>(eps.size());
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < eps.size(); ++i) {
        const double x = std::log(eps[i]), y = std::log(err[i]);
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

std::vector<double> geomspace(double lo, double hi, int n) {
    std::vector<double> v;
    for (int i = 0; i < n; ++i) v.push_back(lo * std::pow(hi / lo, i / (n - 1.0)));
    return v;
}

/// f(y) = exp(0.5 y0 - 0.3 y1 + 0.2 y2), callable on host and device.
struct exp_ridge {
    HOSM_HOST_DEVICE double operator()(const double* y) const {
        return std::exp(0.5 * y[0] - 0.3 * y[1] + 0.2 * y[2]);
    }
};

/// First and second directional derivatives of exp_ridge at sample j. A
/// namespace-scope functor: nvcc cannot launch a kernel on a class local to a
/// function (its device stub cannot name the type).
struct ridge_kernel {
    batch_view<const double> x, v;
    batch_view<double> work, out;
    fd::stencil<double, 2> s1, s2;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        exp_ridge f;
        out(0, j) = fd::directional_derivative(f, x.col(j), v.col(j), x.dim, 0.05, s1, work.col(j));
        out(1, j) = fd::directional_derivative(f, x.col(j), v.col(j), x.dim, 0.05, s2, work.col(j));
    }
};

}  // namespace

#if !defined(__CUDACC__)  // host-only cases: host callables on Eigen vectors
TEST_CASE("fd/directional: the named two-point conveniences are the seed 002 Eq. 8 formulas") {
    const smooth3 f;
    const vector<double> x = vec3(0.2, -0.4, 0.9), v = vec3(1.0, -0.5, 0.5);
    const double eps = 1e-3;
    const double fp = f(vector<double>(x + eps * v)), fm = f(vector<double>(x - eps * v)),
                 f0 = f(x);
    CHECK(fd::central_first(f, x, v, eps) == (fp - fm) / (2 * eps));
    CHECK(fd::central_second(f, x, v, eps) == ((fp - f0) + (fm - f0)) / (eps * eps));
    // and they equal the general estimator with the K = 1 central stencils
    CHECK(fd::directional_derivative(f, x, v, eps, fd::stencil<double, 1>::central(1)) ==
          doctest::Approx(fd::central_first(f, x, v, eps)).epsilon(1e-14));
    CHECK(fd::directional_derivative(f, x, v, eps, fd::stencil<double, 1>::central(2)) ==
          doctest::Approx(fd::central_second(f, x, v, eps)).epsilon(1e-14));
    // v^T grad f and v^T (grad^2 f) v, to O(eps^2) ~ 1e-6 relative
    CHECK(fd::central_first(f, x, v, eps) == doctest::Approx(f.derivative(x, v, 1)).epsilon(1e-6));
    CHECK(fd::central_second(f, x, v, eps) == doctest::Approx(f.derivative(x, v, 2)).epsilon(1e-5));
}

TEST_CASE("fd/directional: exact to rounding on polynomials of degree <= order + accuracy - 1") {
    // Tolerance: a rounding bound, 64 u (sum of |tap weights|) max|f| / eps^T,
    // since the truncation error is exactly zero for these polynomials.
    const vector<double> x = vec3(0.3, 0.2, -0.5), v = vec3(0.6, -0.8, 0.4);
    auto check = [&](auto s, double eps) {
        const int T = s.order();
        const poly3 f{T + s.accuracy() - 1};
        const double got = fd::directional_derivative(f, x, v, eps, s);
        double wsum = std::abs(s.center_weight()), fmax = std::abs(f(x));
        for (int k = 0; k < decltype(s)::size; ++k) {
            wsum += 2 * std::abs(s.weight(k));
            fmax = std::max({fmax, std::abs(f(vector<double>(x + s.node(k) * eps * v))),
                             std::abs(f(vector<double>(x - s.node(k) * eps * v)))});
        }
        const double tol =
            64 * std::numeric_limits<double>::epsilon() * wsum * fmax / std::pow(eps, T);
        CAPTURE(T);
        CAPTURE(decltype(s)::size);
        CAPTURE(tol);
        CHECK(std::abs(got - f.derivative(x, v, T)) <= tol);
        CHECK(tol < 1e-9 * std::max(1.0, std::abs(f.derivative(x, v, T))));  // the test has teeth
    };
    for (int T = 1; T <= 2; ++T) check(fd::stencil<double, 1>::central(T), 0.5);
    for (int T = 1; T <= 4; ++T) check(fd::stencil<double, 2>::central(T), 0.5);
    for (int T = 1; T <= 6; ++T) check(fd::stencil<double, 3>::central(T), 0.4);
    for (int T = 1; T <= 8; ++T) check(fd::stencil<double, 4>(T, {0.5, 1.0, 1.5, 2.0}), 1.0);
}

TEST_CASE("fd/directional: measured error rate is eps^p on a smooth function") {
    // Error against the closed form for eps on a geometric grid, in ranges
    // where the truncation error dominates rounding by > 100x and the next
    // Taylor term is < 5% of the leading one; fitted log-log slope must be
    // p +- 0.2. p = 2 for the symmetric first/second-order stencils (and for
    // any Theorem 1 stencil), 4 and 6 for wider ones.
    const smooth3 f;
    const vector<double> x = vec3(0.2, -0.4, 0.9), v = vec3(1.0, -0.5, 0.5);
    auto slope = [&](auto estimate, int T, double lo, double hi) {
        const auto eps = geomspace(lo, hi, 8);
        std::vector<double> err;
        for (double e : eps) err.push_back(std::abs(estimate(e) - f.derivative(x, v, T)));
        return loglog_slope(eps, err);
    };
    auto with = [&](auto s) {
        return [&f, &x, &v, s](double e) { return fd::directional_derivative(f, x, v, e, s); };
    };

    auto rate = [&](auto estimate, int T, double lo, double hi, double p) {
        const double fitted = slope(estimate, T, lo, hi);
        CAPTURE(T);
        CAPTURE(p);
        CAPTURE(fitted);
        CHECK(std::abs(fitted - p) <= 0.2);
    };
    rate([&](double e) { return fd::central_first(f, x, v, e); }, 1, 1e-3, 1e-2, 2);
    rate([&](double e) { return fd::central_second(f, x, v, e); }, 2, 1e-3, 1e-2, 2);
    // Theorem 1 stencils of order 3 and 4 (K = 2): still second order
    rate(with(fd::stencil<double, 2>::central(3)), 3, 1e-2, 5e-2, 2);
    rate(with(fd::stencil<double, 2>::central(4)), 4, 2e-2, 8e-2, 2);
    // wider stencils: p = 4 (K = 2) and p = 6 (K = 3) for orders 1 and 2
    rate(with(fd::stencil<double, 2>::central(1)), 1, 1e-2, 1e-1, 4);
    rate(with(fd::stencil<double, 2>::central(2)), 2, 2e-2, 1e-1, 4);
    rate(with(fd::stencil<double, 3>::central(1)), 1, 5e-2, 2e-1, 6);
    rate(with(fd::stencil<double, 3>::central(2)), 2, 8e-2, 2.5e-1, 6);
}

TEST_CASE("fd/directional: the estimate scales with the direction as c^T") {
    const smooth3 f;
    const vector<double> x = vec3(0.1, 0.1, 0.1), v = vec3(0.3, 0.3, -0.6);
    const auto s = fd::stencil<double, 2>::central(3);
    // along 2v with step eps/2 the points are the same: result = 2^3 times along v
    CHECK(fd::directional_derivative(f, x, vector<double>(2 * v), 0.05, s) ==
          doctest::Approx(8 * fd::directional_derivative(f, x, v, 0.1, s)).epsilon(1e-12));
}

TEST_CASE("fd/directional: host callables taking const T* and float") {
    const vector<double> x = vec3(0.3, -0.1, 0.2), v = vec3(1.0, 2.0, -1.0);
    // f(y) = y0 y1 + y2^2: v^T grad f = v0 y1 + y0 v1 + 2 y2 v2; v^T H v = 2 v0 v1 + 2 v2^2
    auto fp = [](const double* y) { return y[0] * y[1] + y[2] * y[2]; };
    CHECK(fd::central_first(fp, x, v, 0.1) ==
          doctest::Approx(1.0 * -0.1 + 0.3 * 2.0 + 2 * 0.2 * -1.0));
    CHECK(fd::central_second(fp, x, v, 0.1) == doctest::Approx(2 * 1.0 * 2.0 + 2 * 1.0));
    int calls = 0;
    auto counted = [&calls](const vector<double>& y) {
        ++calls;
        return y.squaredNorm();
    };
    (void)fd::directional_derivative(counted, x, v, 0.1, fd::stencil<double, 3>::central(2));
    CHECK(calls == 7);  // 2K + 1 for even order
    calls = 0;
    (void)fd::directional_derivative(counted, x, v, 0.1, fd::stencil<double, 3>::central(3));
    CHECK(calls == 6);  // 2K for odd order
    const vector<float> xf = x.cast<float>(), vf = v.cast<float>();
    auto ff = [](const vector<float>& y) { return y(0) * y(1) + y(2) * y(2); };
    CHECK(fd::central_first(ff, xf, vf, 0.05f) == doctest::Approx(0.1f).epsilon(1e-5));
}

#endif

TEST_CASE_TEMPLATE("fd/directional: per-point kernel dispatched over a batch", B,
                   HOSM_TEST_BACKENDS) {
    // d/dt and d^2/dt^2 of f(y) = exp(a.y) along v_j at x_j, N = 64 samples,
    // the kernel run inside backend::for_each_index<B> with a work column per sample.
    constexpr index_t D = 3, N = 64;
    matrix<double> X(D, N), V(D, N);
    for (index_t j = 0; j < N; ++j)
        for (index_t i = 0; i < D; ++i) {
            X(i, j) = std::sin(0.3 * j + i);
            V(i, j) = std::cos(0.7 * j - i);
        }
    batch<double, B> xb(X), vb(V), work(D, N), out(2, N);
    backend::for_each_index<B>(
        N, ridge_kernel{xb.view(), vb.view(), work.view(), out.view(), fd::stencil<double, 2>::central(1),
                  fd::stencil<double, 2>::central(2)});
    const matrix<double> got = out.to_eigen();
    const vector<double> a = vec3(0.5, -0.3, 0.2);
    for (index_t j = 0; j < N; ++j) {
        const double av = a.dot(V.col(j)), fx = std::exp(a.dot(X.col(j)));
        // O(eps^4) stencils at eps = 0.05: relative error < 1e-6 here
        CHECK(got(0, j) == doctest::Approx(av * fx).epsilon(1e-6));
        CHECK(got(1, j) == doctest::Approx(av * av * fx).epsilon(1e-6));
    }
}

#if !defined(__CUDACC__)
TEST_CASE("fd/directional: bad inputs raise hosm::error naming the argument") {
    const smooth3 f;
    const vector<double> x = vec3(0.2, -0.4, 0.9), v = vec3(1.0, -0.5, 0.5);
    const auto s = fd::stencil<double, 1>::central(2);
    CHECK(message_of([&] { fd::directional_derivative(f, x, v, 0.0, s); }) ==
          "hosm: fd::directional_derivative: argument 'eps' must be finite and > 0, got 0");
    CHECK_THROWS_AS(fd::central_first(f, x, v, -1e-3), hosm::error);
    CHECK_THROWS_AS(fd::central_second(f, x, v, std::nan("")), hosm::error);
    CHECK(message_of([&] {
              fd::central_first(f, x, vector<double>(vector<double>::Zero(3)), 0.1);
          }).find("argument 'v' is the zero direction") != std::string::npos);
    CHECK(message_of(
              [&] { fd::central_second(f, x, vector<double>(vector<double>::Ones(2)), 0.1); }) ==
          "hosm: fd::central_second: dimension mismatch: argument 'v' has size 2, expected 3");
    CHECK_THROWS_AS(fd::central_first(f, vector<double>(), vector<double>(), 0.1), hosm::error);
    vector<double> xn = x;
    xn(1) = std::nan("");
    CHECK(message_of([&] { fd::directional_derivative(f, xn, v, 0.1, s); }).find("argument 'x'") !=
          std::string::npos);
    auto bad = [](const vector<double>& y) { return std::log(y(0)); };  // NaN for y0 < 0
    CHECK(message_of([&] {
              fd::central_first(bad, vec3(0.05, 0, 0), vec3(1, 0, 0), 0.1);
          }).find("non-finite value") != std::string::npos);
}
#endif
