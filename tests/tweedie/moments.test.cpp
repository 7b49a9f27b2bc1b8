// Tests of hosm/tweedie/moments.hpp: generalized Tweedie (seed 000 Thm 3).
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <functional>
#include <hosm/tweedie/moments.hpp>
#include <numeric>
#include <string>
#include <vector>
#include "support/errors.hpp"

using namespace hosm;
using hosm_test::message_of;
using Mat = Eigen::MatrixXd;
using Vec = Eigen::VectorXd;

namespace {

/// A D = 3 Gaussian prior N(mu, Sigma) observed with noise sigma: every score
/// of q_sigma = N(mu, Sigma + sigma^2 I) and the posterior N(mp, C) are exact.
struct gaussian_case {
    double sigma = 0.7;
    Mat Sigma, C;
    Vec mu, xt, mp, s1;
    Mat s2;
    gaussian_case() {
        Mat A(3, 3);
        A << 0.9, -0.4, 0.3, 0.2, 1.1, -0.5, -0.6, 0.1, 0.8;
        Sigma = A * A.transpose() + 0.5 * Mat::Identity(3, 3);
        mu = Vec(3);
        mu << 0.4, -1.2, 0.7;
        xt = Vec(3);
        xt << 1.3, -0.2, -0.9;
        const Mat Q = (Sigma + sigma * sigma * Mat::Identity(3, 3)).inverse();
        s1 = -Q * (xt - mu);
        s2 = -Q;
        C = (Sigma.inverse() + Mat::Identity(3, 3) / (sigma * sigma)).inverse();
        mp = C * (Sigma.inverse() * mu + xt / (sigma * sigma));
    }
    /// E[prod_k x_{idx_k}] under N(mp, C) by Isserlis/Wick: the first index is
    /// either a mean factor or paired with a later index through C.
    double isserlis(std::vector<int> idx) const {
        if (idx.empty()) return 1.0;
        const int i = idx[0];
        std::vector<int> rest(idx.begin() + 1, idx.end());
        double s = mp[i] * isserlis(rest);
        for (std::size_t p = 0; p < rest.size(); ++p) {
            std::vector<int> r2 = rest;
            r2.erase(r2.begin() + static_cast<long>(p));
            s += C(i, rest[p]) * isserlis(r2);
        }
        return s;
    }
};

template <std::size_t N>
xt::xtensor<double, N> zeros_cube(std::size_t D) {
    std::array<std::size_t, N> s;
    s.fill(D);
    return xt::zeros<double>(s);
}

xt::xtensor<double, 1> to_xt(const Vec& v) {
    xt::xtensor<double, 1> t = xt::zeros<double>({static_cast<std::size_t>(v.size())});
    for (Eigen::Index i = 0; i < v.size(); ++i) t(i) = v[i];
    return t;
}
xt::xtensor<double, 2> to_xt(const Mat& m) {
    xt::xtensor<double, 2> t =
        xt::zeros<double>({static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())});
    for (Eigen::Index i = 0; i < m.rows(); ++i)
        for (Eigen::Index j = 0; j < m.cols(); ++j) t(i, j) = m(i, j);
    return t;
}

/// max over all entries of |got - oracle(multi-index)| and of |oracle|.
template <class X, class F>
std::pair<double, double> compare(const X& got, std::size_t D, F oracle) {
    const std::size_t n = got.dimension();
    std::vector<int> idx(n, 0);
    double err = 0, big = 0;
    for (std::size_t flat = 0; flat < got.size(); ++flat) {
        std::size_t r = flat;
        for (std::size_t p = n; p-- > 0;) {
            idx[p] = static_cast<int>(r % D);
            r /= D;
        }
        const double want = oracle(idx);
        err = std::max(err, std::abs(got.data()[flat] - want));  // row-major: flat order
        big = std::max(big, std::abs(want));
    }
    return {err, big};
}

}  // namespace

TEST_CASE(
    "tweedie/moments: Gaussian prior, cumulants are the exact posterior mean and covariance") {
    const gaussian_case g;
    const auto [k1, k2, k3, k4] = tweedie::posterior_cumulants<4>(
        to_xt(g.xt), g.sigma, to_xt(g.s1), to_xt(g.s2), zeros_cube<3>(3), zeros_cube<4>(3));
    for (int i = 0; i < 3; ++i) {
        CHECK(k1(i) == doctest::Approx(g.mp[i]).epsilon(1e-12));
        for (int j = 0; j < 3; ++j)
            CHECK(k2(i, j) == doctest::Approx(g.C(i, j)).epsilon(1e-12).scale(1));
    }
    CHECK(xt::all(xt::equal(k3, 0.0)));
    CHECK(xt::all(xt::equal(k4, 0.0)));
}

TEST_CASE("tweedie/moments: Gaussian prior, moments of orders 1-4 match Isserlis' theorem") {
    // D = 3, random SPD Sigma; scores of q_sigma exact, s3 = s4 = 0. Tolerance
    // 1e-10 relative to the largest entry of each moment tensor (double; the
    // only error is rounding in forming s1, s2 and the recursion).
    const gaussian_case g;
    const auto [m1, m2, m3, m4] = tweedie::posterior_moments<4>(
        to_xt(g.xt), g.sigma, to_xt(g.s1), to_xt(g.s2), zeros_cube<3>(3), zeros_cube<4>(3));
    auto oracle = [&](const std::vector<int>& idx) { return g.isserlis(idx); };
    for (auto [err, big] : {compare(m1, 3, oracle), compare(m2, 3, oracle), compare(m3, 3, oracle),
                            compare(m4, 3, oracle)}) {
        CHECK(big > 0.1);
        CHECK(err <= 1e-10 * big);
    }
    // m2 is seed 000 Eq. (9): f = x~x~' + s^2 x~ s1' + s^2 s1 x~' + s^4 s2 + s^4 s1 s1' + s^2 I
    const double v = g.sigma * g.sigma;
    const Mat f = g.xt * g.xt.transpose() + v * g.xt * g.s1.transpose() +
                  v * g.s1 * g.xt.transpose() + v * v * g.s2 + v * v * g.s1 * g.s1.transpose() +
                  v * Mat::Identity(3, 3);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            CHECK(std::abs(m2(i, j) - f(i, j)) <= 1e-12 * f.cwiseAbs().maxCoeff());
    // lower orders do not depend on K
    const auto [n1, n2] =
        tweedie::posterior_moments<2>(to_xt(g.xt), g.sigma, to_xt(g.s1), to_xt(g.s2));
    CHECK(xt::allclose(n1, m1, 0.0, 0.0));
    CHECK(xt::allclose(n2, m2, 0.0, 0.0));
}

TEST_CASE("tweedie/moments: order 6 in one dimension (Gaussian raw moments)") {
    // N(m, c) in 1-d: m6 = m^6 + 15 m^4 c + 45 m^2 c^2 + 15 c^3. Prior N(0.5, 2), sigma = 1.
    const double mu = 0.5, tau2 = 2.0, sigma = 1.0, x = -0.3;
    const double v = tau2 + sigma * sigma, c = tau2 * sigma * sigma / v,
                 m = (mu * sigma * sigma + x * tau2) / v;
    xt::xtensor<double, 1> xt1 = {x}, s1 = {-(x - mu) / v};
    xt::xtensor<double, 2> s2 = {{-1.0 / v}};
    const auto mom = tweedie::posterior_moments<6>(
        xt1, sigma, s1, s2, zeros_cube<3>(1), zeros_cube<4>(1), zeros_cube<5>(1), zeros_cube<6>(1));
    const double want[7] = {
        1,
        m,
        m * m + c,
        std::pow(m, 3) + 3 * m * c,
        std::pow(m, 4) + 6 * m * m * c + 3 * c * c,
        std::pow(m, 5) + 10 * std::pow(m, 3) * c + 15 * m * c * c,
        std::pow(m, 6) + 15 * std::pow(m, 4) * c + 45 * m * m * c * c + 15 * std::pow(c, 3)};
    CHECK(std::get<0>(mom)(0) == doctest::Approx(want[1]).epsilon(1e-13));
    CHECK(std::get<1>(mom)(0, 0) == doctest::Approx(want[2]).epsilon(1e-13));
    CHECK(std::get<2>(mom)(0, 0, 0) == doctest::Approx(want[3]).epsilon(1e-13));
    CHECK(std::get<3>(mom)(0, 0, 0, 0) == doctest::Approx(want[4]).epsilon(1e-13));
    CHECK(std::get<4>(mom).data()[0] == doctest::Approx(want[5]).epsilon(1e-13));
    CHECK(std::get<5>(mom).data()[0] == doctest::Approx(want[6]).epsilon(1e-13));
}

TEST_CASE("tweedie/moments: 1-d Gaussian-mixture prior, s3 and s4 nonzero") {
    // p = 0.3 N(-1.5, 0.5^2) + 0.7 N(1, 0.8^2), sigma = 0.6, x~ = 0.2 (between
    // the modes). log q_sigma's derivatives up to order 4 in closed form:
    // q^(n) = sum_c w_c N(x~; mu_c, v_c) (-1)^n v_c^(-n/2) He_n(z_c), v_c = tau_c^2 + sigma^2,
    // then s_n from r_n = q^(n)/q by the moment-to-cumulant formulas.
    // Oracles: (a) trapezoidal integration of p(x) N(x~; x, sigma^2) on
    // [-15, 15] with h = 0.005 (spectrally accurate for this smooth, Gaussian-
    // tailed integrand); (b) the closed-form posterior, itself a Gaussian
    // mixture. Tolerance 1e-11 relative (double rounding; the He-polynomial
    // and moment-to-cumulant algebra loses a few digits).
    const double pi[2] = {0.3, 0.7}, mu[2] = {-1.5, 1.0}, tau[2] = {0.5, 0.8};
    const double sigma = 0.6, x = 0.2, s2v = sigma * sigma;
    double r[5] = {0, 0, 0, 0, 0};
    for (int c = 0; c < 2; ++c) {
        const double v = tau[c] * tau[c] + s2v, z = (x - mu[c]) / std::sqrt(v);
        const double phi = pi[c] * std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI * v);
        const double he[5] = {1, z, z * z - 1, z * z * z - 3 * z, z * z * z * z - 6 * z * z + 3};
        for (int n = 0; n <= 4; ++n) r[n] += phi * (n % 2 ? -1 : 1) * std::pow(v, -n / 2.0) * he[n];
    }
    for (int n = 1; n <= 4; ++n) r[n] /= r[0];
    const double l1 = r[1], l2 = r[2] - r[1] * r[1],
                 l3 = r[3] - 3 * r[1] * r[2] + 2 * std::pow(r[1], 3),
                 l4 = r[4] - 4 * r[1] * r[3] - 3 * r[2] * r[2] + 12 * r[1] * r[1] * r[2] -
                      6 * std::pow(r[1], 4);
    CHECK(std::abs(l3) > 0.05);  // the test has teeth: genuinely non-Gaussian
    CHECK(std::abs(l4) > 0.05);

    // (a) numerical integration of the posterior
    double quad[5] = {0, 0, 0, 0, 0};
    for (int k = -3000; k <= 3000; ++k) {
        const double t = 0.005 * k;
        double p = 0;
        for (int c = 0; c < 2; ++c)
            p += pi[c] * std::exp(-0.5 * std::pow((t - mu[c]) / tau[c], 2)) / tau[c];
        const double w = p * std::exp(-0.5 * (x - t) * (x - t) / s2v);
        for (int n = 0; n <= 4; ++n) quad[n] += w * std::pow(t, n);
    }
    // (b) closed form: posterior = sum_c omega_c N(m_c, c_c)
    double closed[5] = {0, 0, 0, 0, 0}, wsum = 0;
    for (int c = 0; c < 2; ++c) {
        const double v = tau[c] * tau[c] + s2v;
        const double om = pi[c] * std::exp(-0.5 * (x - mu[c]) * (x - mu[c]) / v) / std::sqrt(v);
        const double m = (mu[c] * s2v + x * tau[c] * tau[c]) / v, cc = tau[c] * tau[c] * s2v / v;
        const double raw[5] = {1, m, m * m + cc, m * m * m + 3 * m * cc,
                               std::pow(m, 4) + 6 * m * m * cc + 3 * cc * cc};
        for (int n = 0; n <= 4; ++n) closed[n] += om * raw[n];
        wsum += om;
    }

    xt::xtensor<double, 1> xt1 = {x}, s1 = {l1};
    xt::xtensor<double, 2> s2 = {{l2}};
    xt::xtensor<double, 3> s3 = {{{l3}}};
    xt::xtensor<double, 4> s4 = {{{{l4}}}};
    const auto [m1, m2, m3, m4] = tweedie::posterior_moments<4>(xt1, sigma, s1, s2, s3, s4);
    const double got[5] = {1, m1(0), m2(0, 0), m3(0, 0, 0), m4(0, 0, 0, 0)};
    for (int n = 1; n <= 4; ++n) {
        CAPTURE(n);
        CHECK(quad[n] / quad[0] ==
              doctest::Approx(closed[n] / wsum).epsilon(1e-12));  // oracles agree
        CHECK(got[n] == doctest::Approx(quad[n] / quad[0]).epsilon(1e-11));
    }
    // dropping s3, s4 (a Gaussian approximation) is visibly wrong at orders 3, 4
    const auto [g1, g2, g3, g4] =
        tweedie::posterior_moments<4>(xt1, sigma, s1, s2, zeros_cube<3>(1), zeros_cube<4>(1));
    CHECK(std::abs(g3(0, 0, 0) - got[3]) > 1e-3);
    CHECK(std::abs(g4(0, 0, 0, 0) - got[4]) > 1e-3);
}

TEST_CASE("tweedie/moments: moments_from_cumulants is the inverse of the cumulant map") {
    // 2-d, arbitrary symmetric cumulants: m2 = k2 + k1 k1', m3 = k3 + 3 sym(k2 k1) + k1^3
    xt::xtensor<double, 1> k1 = {0.3, -0.8};
    xt::xtensor<double, 2> k2 = {{1.2, 0.4}, {0.4, 0.9}};
    xt::xtensor<double, 3> k3 = zeros_cube<3>(2);
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
            for (int k = 0; k < 2; ++k) k3(i, j, k) = 0.1 * (1 + i + j + k);
    const auto [m1, m2, m3] = tweedie::moments_from_cumulants(std::make_tuple(k1, k2, k3));
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) {
            CHECK(m2(i, j) == doctest::Approx(k2(i, j) + k1(i) * k1(j)).epsilon(1e-15));
            for (int k = 0; k < 2; ++k)
                CHECK(m3(i, j, k) ==
                      doctest::Approx(k3(i, j, k) + k2(i, j) * k1(k) + k2(i, k) * k1(j) +
                                      k2(j, k) * k1(i) + k1(i) * k1(j) * k1(k))
                          .epsilon(1e-15));
        }
}

TEST_CASE("tweedie/moments: bad inputs raise hosm::error naming the argument") {
    const gaussian_case g;
    const auto xt1 = to_xt(g.xt), s1 = to_xt(g.s1);
    const auto s2 = to_xt(g.s2);
    CHECK(message_of([&] { tweedie::posterior_moments<2>(xt1, 0.0, s1, s2); }) ==
          "hosm: tweedie::posterior_moments: argument 'sigma' must be finite and > 0, got 0");
    CHECK_THROWS_AS(tweedie::posterior_cumulants<1>(xt1, -1.0, s1), hosm::error);
    CHECK_THROWS_AS(tweedie::posterior_moments<1>(xt1, std::nan(""), s1), hosm::error);
    xt::xtensor<double, 2> bad2 = xt::zeros<double>({3, 2});
    CHECK(message_of([&] { tweedie::posterior_moments<2>(xt1, 0.5, s1, bad2); }) ==
          "hosm: tweedie::posterior_moments: dimension mismatch: argument 's2' has shape (3, 2), "
          "expected (3, 3)");
    xt::xtensor<double, 3> bad3 = xt::zeros<double>({3, 3, 4});
    CHECK(message_of([&] { tweedie::posterior_moments<3>(xt1, 0.5, s1, s2, bad3); }).find("'s3'") !=
          std::string::npos);
    xt::xtensor<double, 1> short1 = {1.0, 2.0};
    CHECK(message_of([&] {
              tweedie::posterior_cumulants<1>(xt1, 0.5, short1);
          }).find("'s1' has shape (2)") != std::string::npos);
    xt::xtensor<double, 1> empty = xt::zeros<double>({std::size_t{0}});
    CHECK_THROWS_AS(tweedie::posterior_moments<1>(empty, 0.5, empty), hosm::error);
    auto nan1 = s1;
    nan1(2) = std::nan("");
    CHECK(message_of([&] {
              tweedie::posterior_moments<1>(xt1, 0.5, nan1);
          }).find("argument 's1' has a non-finite") != std::string::npos);
    CHECK(message_of([&] {
              tweedie::moments_from_cumulants(std::make_tuple(s1, xt::xtensor<double, 2>(bad2)));
          }).find("'kappa_2'") != std::string::npos);
}
