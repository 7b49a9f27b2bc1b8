// Tests of hosm/diagnostics/imq_kernel.hpp: the IMQ kernel and its Stein kernel.
//
// Closed forms are checked to 1e-14 (relative). The Stein kernel is checked
// against its definition u = s(x).s(y) k + s(x).grad_y k + s(y).grad_x k
// + tr(grad_x grad_y k), with every derivative of k taken by central finite
// differences in double (|x|, |y| ~ 1, k and its derivatives O(1)):
//   first order,  h = 1e-5: truncation h^2 k''' / 6 ~ 1e-11, rounding
//                 eps / h ~ 1e-11                       -> tolerance 1e-8;
//   mixed second order, h = 1e-4 (4-point stencil): truncation ~ h^2 ~ 1e-8,
//                 rounding eps / h^2 ~ 2e-8             -> tolerance 1e-6;
// the assembled u (scores O(1), D = 3 terms) is checked to 1e-5.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <string>

#include <hosm/core/error.hpp>
#include <hosm/diagnostics/imq_kernel.hpp>
#include <hosm/random/stream.hpp>

using namespace hosm;
using diagnostics::imq_kernel;

namespace {
constexpr index_t D = 3;
using vec = std::array<double, D>;

vec draw(const random::stream& s, std::uint64_t i) {
    vec v;
    for (index_t k = 0; k < D; ++k) v[std::size_t(k)] = s.normal<double>(i, std::uint32_t(k));
    return v;
}
}  // namespace

TEST_CASE("diagnostics/imq_kernel: kernel values in closed form") {
    const double x[2] = {3.0, 0.0}, y[2] = {0.0, 4.0};
    CHECK(imq_kernel<double>{}(x, y, 2) == doctest::Approx(1.0 / std::sqrt(26.0)).epsilon(1e-14));
    CHECK(imq_kernel<double>{2.0, -0.3}(x, y, 2) == doctest::Approx(std::pow(29.0, -0.3)).epsilon(1e-14));
    CHECK(imq_kernel<double>{}(x, x, 2) == 1.0);
    // float inputs, double arithmetic
    const float xf[2] = {3.0f, 0.0f}, yf[2] = {0.0f, 4.0f};
    CHECK(imq_kernel<double>{}(xf, yf, 2) == doctest::Approx(1.0 / std::sqrt(26.0)).epsilon(1e-14));
}

TEST_CASE("diagnostics/imq_kernel: the Stein kernel equals its definition (finite differences)") {
    const random::stream s{77, 0};
    for (const auto& k : {imq_kernel<double>{1.0, -0.5}, imq_kernel<double>{0.7, -0.2},
                          imq_kernel<double>{1.5, -0.9}}) {
        for (std::uint64_t trial = 0; trial < 4; ++trial) {
            const vec x = draw(s, 4 * trial), y = draw(s, 4 * trial + 1);
            const vec sx = draw(s, 4 * trial + 2), sy = draw(s, 4 * trial + 3);
            CAPTURE(k.c);
            CAPTURE(k.beta);
            auto kv = [&](const vec& a, const vec& b) { return k(a.data(), b.data(), D); };
            const double h1 = 1e-5, h2 = 1e-4;
            vec gx{}, gy{};
            double tr = 0;
            for (index_t i = 0; i < D; ++i) {
                const std::size_t u = std::size_t(i);
                vec xp = x, xm = x, yp = y, ym = y;
                xp[u] += h1;
                xm[u] -= h1;
                yp[u] += h1;
                ym[u] -= h1;
                gx[u] = (kv(xp, y) - kv(xm, y)) / (2 * h1);
                gy[u] = (kv(x, yp) - kv(x, ym)) / (2 * h1);
                // analytic gradients: grad_x k = 2 beta q^(beta-1) r = -grad_y k
                double r2 = 0;
                for (index_t j = 0; j < D; ++j) r2 += (x[std::size_t(j)] - y[std::size_t(j)]) * (x[std::size_t(j)] - y[std::size_t(j)]);
                const double q = k.c * k.c + r2;
                const double g = 2 * k.beta * std::pow(q, k.beta - 1) * (x[u] - y[u]);
                CHECK(gx[u] == doctest::Approx(g).scale(1.0).epsilon(1e-8));
                CHECK(gy[u] == doctest::Approx(-g).scale(1.0).epsilon(1e-8));
                xp = x;
                xm = x;
                yp = y;
                ym = y;
                xp[u] += h2;
                xm[u] -= h2;
                yp[u] += h2;
                ym[u] -= h2;
                const double mixed = (kv(xp, yp) - kv(xp, ym) - kv(xm, yp) + kv(xm, ym)) / (4 * h2 * h2);
                const double exact = -4 * k.beta * (k.beta - 1) * std::pow(q, k.beta - 2) *
                                         (x[u] - y[u]) * (x[u] - y[u]) -
                                     2 * k.beta * std::pow(q, k.beta - 1);
                CHECK(mixed == doctest::Approx(exact).scale(1.0).epsilon(1e-6));
                tr += mixed;
            }
            double ss = 0, sxgy = 0, sygx = 0;
            for (std::size_t i = 0; i < std::size_t(D); ++i) {
                ss += sx[i] * sy[i];
                sxgy += sx[i] * gy[i];
                sygx += sy[i] * gx[i];
            }
            const double u_fd = ss * kv(x, y) + sxgy + sygx + tr;
            const double u = k.stein(x.data(), y.data(), sx.data(), sy.data(), D);
            CHECK(u == doctest::Approx(u_fd).scale(1.0).epsilon(1e-5));
            // symmetric in the pairs (x, s(x)) and (y, s(y))
            CHECK(k.stein(y.data(), x.data(), sy.data(), sx.data(), D) ==
                  doctest::Approx(u).epsilon(1e-14));
        }
    }
}

TEST_CASE("diagnostics/imq_kernel: the Stein kernel on the diagonal") {
    // u(x, x) = c^(2 beta) |s|^2 - 2 beta D c^(2 beta - 2)
    const double x[D] = {0.3, -1.2, 2.0}, sx[D] = {1.0, 2.0, -0.5};
    const imq_kernel<double> k{1.3, -0.4};
    const double s2 = 1.0 + 4.0 + 0.25;
    const double expect = std::pow(1.69, -0.4) * s2 - 2 * (-0.4) * D * std::pow(1.69, -1.4);
    CHECK(k.stein(x, x, sx, sx, D) == doctest::Approx(expect).epsilon(1e-14));
}

TEST_CASE("diagnostics/imq_kernel: check_imq rejects c <= 0 and beta outside (-1, 0)") {
    auto msg = [](imq_kernel<double> k) -> std::string {
        try {
            diagnostics::check_imq("f", k);
        } catch (const hosm::error& e) {
            return e.what();
        }
        return "";
    };
    CHECK(msg({1.0, -0.5}).empty());
    CHECK(msg({0.0, -0.5}).find("'c'") != std::string::npos);
    CHECK(msg({-1.0, -0.5}).find("'c'") != std::string::npos);
    CHECK(msg({NAN, -0.5}).find("'c'") != std::string::npos);
    CHECK(msg({1.0, 0.0}).find("'beta' must lie in (-1, 0), got 0") != std::string::npos);
    CHECK(msg({1.0, -1.0}).find("'beta'") != std::string::npos);
    CHECK(msg({1.0, 0.5}).find("'beta'") != std::string::npos);
    CHECK(msg({1.0, NAN}).find("'beta'") != std::string::npos);
}
