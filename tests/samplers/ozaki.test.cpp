// Tests of samplers::ozaki (hosm/samplers/ozaki.hpp).
//
// Oracles (independent of the sampler's eigen/Lanczos route: Eigen's
// MatrixFunctions, i.e. Schur-based exp and sqrt, on dense matrices):
//  * exact one-step transition on a Gaussian target N(mu, C), P = C^{-1}:
//      x' = mu + e^{-eps P/2} (x - mu) + sqrtm((I - e^{-eps P}) C) z,
//    with z the documented draws stream.normal((t << 32) | j, k): every chain
//    to 1e-12 relative (full, diagonal, low-rank structures);
//  * Monte Carlo, 1e5 chains (D = 3): from exact target draws one step at
//    eps = 2 > 4 / lambda_max(P) keeps mean and covariance (where ULA blows
//    up: its variance grows x 3^2 per step), and from a fixed point the mean
//    and covariance match the OU closed form; each within 5 standard errors
//    (mean: sqrt(C_ii / N); covariance: sqrt((C_ii C_jj + C_ij^2) / N)); the
//    seed's printed Eq. (20) (step 2 eps) is shown to be >= 20 standard
//    errors off, so these checks do discriminate;
//  * the scalar functions (e^u - 1)/u against long double, 2 ulp-ish (1e-15
//    relative in double, 1e-6 in float) on both sides of the series branch;
//  * low-rank Lanczos: agreement with the full eigendecomposition (D = 20,
//    R = 3) to 1e-8 relative at the default tolerance and 1e-11 run to
//    exhaustion; the a-priori drift bound 2 eps |v| rho^j e^rho / j! holds
//    for every Krylov dimension j = 1..10;
//  * s2 = 0 gives the ULA step (bitwise for the diagonal structure).
#include "support/backends.hpp"
#include "support/errors.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <unsupported/Eigen/MatrixFunctions>

#include <hosm/hessian/batch.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/chains.hpp>
#include <hosm/samplers/langevin.hpp>
#include <hosm/samplers/ozaki.hpp>
#include <hosm/targets/gaussian.hpp>
#include <hosm/targets/gaussian_mixture.hpp>

using namespace hosm;
using hosm_test::message_of;
using md = hosm::matrix<double>;
using vd = hosm::vector<double>;

namespace {

/// A rotation of R^3 (fixed).
md rotation3() {
    md A(3, 3);
    A << 1.0, 0.4, -0.3, 0.2, 1.0, 0.5, -0.6, 0.1, 1.0;
    return Eigen::HouseholderQR<md>(A).householderQ();
}
/// Precision with eigenvalues 0.5, 1, 4 (ULA at eps = 2 diverges: |1 - 2*4/2| = 3).
md precision3() {
    const md Q = rotation3();
    return Q * vd((vd(3) << 0.5, 1.0, 4.0).finished()).asDiagonal() * Q.transpose();
}
vd mu3() { return (vd(3) << 0.5, -1.0, 2.0).finished(); }

/// The exact OU step from x with the draws z (see the header).
vd ou_step(const md& P, const vd& mu, const vd& x, const vd& z, double eps) {
    const index_t D = P.rows();
    const md E = (-eps / 2 * P).exp();
    const md C1 = (md::Identity(D, D) - (-eps * P).exp()) * P.inverse();
    const md S = md(0.5 * (C1 + C1.transpose())).sqrt();
    return mu + E * (x - mu) + S * z;
}

vd draws(const random::stream& s, std::uint64_t key, index_t D) {
    vd z(D);
    for (index_t k = 0; k < D; ++k) z(k) = s.normal<double>(key, std::uint32_t(k));
    return z;
}

/// Sample mean and covariance of the columns; checks them against (m, C)
/// within 5 standard errors.
void check_moments(const md& X, const vd& m, const md& C) {
    const index_t D = X.rows();
    const double N = double(X.cols());
    const vd mean = X.rowwise().mean();
    const md Y = X.colwise() - mean;
    const md cov = Y * Y.transpose() / (N - 1);
    for (index_t i = 0; i < D; ++i) {
        CAPTURE(i);
        CHECK(std::abs(mean(i) - m(i)) <= 5 * std::sqrt(C(i, i) / N));
        for (index_t j = 0; j <= i; ++j) {
            CAPTURE(j);
            const double se = std::sqrt((C(i, i) * C(j, j) + C(i, j) * C(i, j)) / N);
            CHECK(std::abs(cov(i, j) - C(i, j)) <= 5 * se);
        }
    }
}

/// A Gaussian N(mu, P^{-1}) whose s2 = -P = diag(alpha) + b b^T with the
/// given (non-constant) alpha: the low-rank form of the brief, P = diag(a) - b b^T.
/// Also answers full and diagonal Hessians; optional NaN or asymmetric s2.
template <class B>
struct lr_gaussian {
    targets::gaussian<double, B> g;
    vd alpha;
    vd b;
    bool asymmetric = false;
    double nan_above = std::numeric_limits<double>::infinity();
    index_t dim() const { return g.dim(); }
    void score(batch_view<const double> x, batch_view<double> out) const { g.score(x, out); }
    void hessian(batch_view<const double> x, hessian::batch<hessian::low_rank<1>, double, B>& H) const {
        for (index_t j = 0; j < x.count; ++j) {
            auto v = H.sample(j);
            for (index_t i = 0; i < x.dim; ++i) {
                v.alpha[i] = x(0, j) > nan_above ? std::nan("") : alpha(i);
                v.B[i] = b(i);
            }
        }
    }
    void hessian(batch_view<const double> x, hessian::batch<hessian::full, double, B>& H) const {
        const md Hd = dense();
        for (index_t j = 0; j < x.count; ++j) {
            auto v = H.sample(j);
            for (index_t k = 0; k < Hd.size(); ++k) v.h[k] = Hd.data()[k];
            if (x(0, j) > nan_above) v.h[1] = std::nan("");
            if (asymmetric) v.h[1] += 0.5;
        }
    }
    void hessian(batch_view<const double> x, hessian::batch<hessian::diagonal, double, B>& H) const {
        const md Hd = dense();
        for (index_t j = 0; j < x.count; ++j)
            for (index_t i = 0; i < x.dim; ++i)
                H.sample(j).d[i] = x(0, j) > nan_above ? std::nan("") : Hd(i, i);
    }
    md dense() const {
        md H = b * b.transpose();
        H.diagonal() += alpha;
        return H;
    }
};

template <class B>
lr_gaussian<B> make_lr() {
    const vd a = (vd(3) << 3.0, 2.0, 4.0).finished();
    const vd b = (vd(3) << 1.2, 0.6, 1.0).finished();
    md P = -(b * b.transpose());
    P.diagonal() += a;  // P = diag(a) - b b^T, s2 = -P = diag(-a) + b b^T
    return lr_gaussian<B>{targets::gaussian<double, B>(mu3(), P.inverse()), -a, b};
}

/// s1 = 0 / s2 = 0 for every chain (H -> 0 limit), D given.
struct flat {
    index_t D;
    index_t dim() const { return D; }
    void score(batch_view<const double> x, batch_view<double> out) const {
        for (index_t j = 0; j < x.count; ++j)
            for (index_t i = 0; i < D; ++i) out(i, j) = -0.3 * x(i, j) + 0.1;
    }
    template <class S, class B>
    void hessian(batch_view<const double>, hessian::batch<S, double, B>&) const {}  // zeros
};

}  // namespace

// ---------------------------------------------------------------------------
// scalar functions

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/ozaki: (e^u - 1)/u and the curvature policies") {
    using samplers::detail::expm1_ratio;
    auto ref = [](long double u) -> long double {
        if (std::fabs(u) < 1e-6L) return 1 + u / 2 + u * u / 6 + u * u * u / 24;
        return std::expm1(u) / u;
    };
    for (double u : {0.0, -0.0, 1e-300, 1e-12, -1e-10, 1e-5, -5e-5, 9.99e-5, -9.99e-5, 1.0001e-4,
                     -1.0001e-4, 1e-3, -0.5, 2.0, -10.0, -700.0, -1e6, -1e300}) {
        CAPTURE(u);
        const double r = double(ref(u));
        CHECK(std::abs(expm1_ratio(u) - r) <= 1e-15 * r);
        const float uf = float(u);
        if (std::isfinite(uf)) {
            const double rf = double(ref(uf));
            CHECK(std::abs(double(expm1_ratio(uf)) - rf) <= 1e-6 * rf);
        }
    }
    const double eps = 0.7;
    samplers::detail::ozaki_coefficients<double> clamp{eps, 0.0, false}, absol{eps, 0.0, true};
    // l -> 0: the ULA coefficients, exactly
    CHECK(clamp.drift(clamp.effective(0.0)) == eps / 2);
    CHECK(clamp.variance(clamp.effective(0.0)) == eps);
    CHECK(clamp.drift(-1e-13) == doctest::Approx(eps / 2).epsilon(1e-13));
    // closed forms for l < 0
    CHECK(clamp.drift(-2.0) == doctest::Approx(std::expm1(-eps) / -2.0).epsilon(1e-15));
    CHECK(clamp.variance(-2.0) == doctest::Approx(std::expm1(-2 * eps) / -2.0).epsilon(1e-15));
    // positive curvature: clamp -> the ULA step, absolute -> curvature -|l|
    CHECK(clamp.effective(3.0) == 0.0);
    CHECK(absol.effective(3.0) == -3.0);
    CHECK(absol.effective(-3.0) == -3.0);
    samplers::detail::ozaki_coefficients<double> floored{eps, 0.5, false}, afloored{eps, 0.5, true};
    CHECK(floored.effective(-0.2) == -0.5);
    CHECK(floored.effective(-2.0) == -2.0);
    CHECK(afloored.effective(0.2) == -0.5);
    CHECK(afloored.effective(0.7) == -0.7);
    for (double l : {1.0, 1e3, 1e30, 1e300}) {
        for (const auto& co : {clamp, absol, floored, afloored}) {
            const double lh = co.effective(l);
            CHECK(lh <= 0.0);
            CHECK(std::isfinite(co.drift(lh)));
            CHECK(co.drift(lh) > 0.0);
            CHECK(co.drift(lh) <= eps / 2);
            CHECK(co.variance(lh) > 0.0);
            CHECK(co.variance(lh) <= eps);
        }
    }
}
#endif

// ---------------------------------------------------------------------------
// exact one-step transitions

TEST_CASE_TEMPLATE("samplers/ozaki: full s2 on a Gaussian is the exact OU transition, chain by chain",
                   B, HOSM_TEST_BACKENDS) {
    const md P = precision3();
    const targets::gaussian<double, B> g(mu3(), P.inverse());
    md x0(3, 4);
    x0 << 0.0, 3.0, -2.0, 10.0,  //
        0.0, -1.0, 4.0, -7.0,    //
        0.0, 0.5, 1.0, 2.0;
    const random::stream s{17, 2};
    for (double eps : {0.05, 2.0, 40.0}) {
        CAPTURE(eps);
        samplers::chains<double, B> c(x0);
        samplers::ozaki<hessian::full, double, B> oz(eps, s);
        oz.step(g, c);
        const md x1 = c.to_eigen();
        for (index_t j = 0; j < 4; ++j) {
            const vd want = ou_step(P, mu3(), x0.col(j), draws(s, std::uint64_t(j), 3), eps);
            CHECK((x1.col(j) - want).norm() <= 1e-12 * (1 + want.norm()));
        }
    }
}

TEST_CASE_TEMPLATE("samplers/ozaki: the seed's printed Eq. (20) at eps is hosm's step at 2 eps", B,
                   HOSM_TEST_BACKENDS) {
    // Seed 000 Eq. (20) as printed, with H = s2(x), g = s1(x):
    //   x' = x + (e^{eps H} - I) H^{-1} g + ((e^{2 eps H} - I) H^{-1})^{1/2} z,
    // evaluated here with dense matrix functions. hosm's ozaki(2 eps) with the same
    // draws must give it to rounding (the relation examples/table3.cpp relies on),
    // and hosm's ozaki(eps) must not (it is the Eq. (19)-consistent step).
    // Full s2 on a rotated Gaussian and diagonal s2 on an axis-aligned one; 1e-12.
    const vd mu = mu3();
    md Cd = md::Zero(3, 3);
    Cd.diagonal() << 2.0, 1.0, 0.25;
    md x0(3, 3);
    x0 << 1.0, -2.0, 0.3,  //
        4.0, 0.0, -1.5,    //
        -0.5, 2.5, 1.0;
    const random::stream s{23, 4};
    auto seed_step = [&](const md& P, const vd& x, const vd& z, double eps) {
        const index_t D = P.rows();
        const md H = -P, I = md::Identity(D, D);
        const vd g = -P * (x - mu);
        const md M = ((eps * H).exp() - I) * H.inverse();
        const md S = ((2 * eps * H).exp() - I) * H.inverse();
        return vd(x + M * g + md(0.5 * (S + S.transpose())).sqrt() * z);
    };
    auto check = [&](auto structure, const md& C) {
        using S = decltype(structure);
        const targets::gaussian<double, B> g(mu, C);
        const md P = C.inverse();
        for (double eps : {0.01, 0.3, 1.5}) {
            CAPTURE(eps);
            samplers::chains<double, B> c2(x0), c1(x0);
            samplers::ozaki<S, double, B>(2 * eps, s).step(g, c2);
            samplers::ozaki<S, double, B>(eps, s).step(g, c1);
            const md y2 = c2.to_eigen(), y1 = c1.to_eigen();
            for (index_t j = 0; j < x0.cols(); ++j) {
                const vd want = seed_step(P, x0.col(j), draws(s, std::uint64_t(j), 3), eps);
                CHECK((y2.col(j) - want).norm() <= 1e-12 * (1 + want.norm()));
                CHECK((y1.col(j) - want).norm() > 1e-3 * eps);
            }
        }
    };
    check(hessian::full{}, precision3().inverse());
    check(hessian::diagonal{}, Cd);
}

TEST_CASE_TEMPLATE("samplers/ozaki: diagonal and low-rank structures are exact OU transitions too", B,
                   HOSM_TEST_BACKENDS) {
    md x0(3, 3);
    x0 << 0.0, 3.0, -2.0,  //
        0.0, -1.0, 4.0,    //
        0.0, 0.5, 1.0;
    const random::stream s{18, 2};
    const double eps = 1.5;
    // diagonal structure on a diagonal Gaussian
    const vd pd = (vd(3) << 4.0, 1.0, 0.5).finished();
    const md P = pd.asDiagonal();
    const targets::gaussian<double, B> gd(mu3(), P.inverse());
    samplers::chains<double, B> cd(x0);
    samplers::ozaki<hessian::diagonal, double, B> od(eps, s);
    od.step(gd, cd);
    // low-rank structure, s2 = diag(alpha) + b b^T with non-constant alpha
    const auto lr = make_lr<B>();
    const md Pl = -lr.dense();
    samplers::chains<double, B> cl(x0);
    samplers::ozaki<hessian::low_rank<1>, double, B> ol(eps, s);
    ol.step(lr, cl);
    CHECK(ol.krylov_iterations() <= 3);
    CHECK(ol.krylov_unconverged() == 0);
    for (index_t j = 0; j < 3; ++j) {
        const vd z = draws(s, std::uint64_t(j), 3);
        const vd wd = ou_step(P, mu3(), x0.col(j), z, eps);
        CHECK((cd.to_eigen().col(j) - wd).norm() <= 1e-12 * (1 + wd.norm()));
        const vd wl = ou_step(Pl, mu3(), x0.col(j), z, eps);
        CHECK((cl.to_eigen().col(j) - wl).norm() <= 1e-12 * (1 + wl.norm()));
    }
}

// ---------------------------------------------------------------------------
// Monte Carlo: invariance at a large step, and the one-step law from a point.
// (cpp only: omp gives bitwise the same chains, tested below.)

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/ozaki: full s2 keeps the Gaussian invariant at eps where ULA diverges") {
    using B = backend::cpp;
    const md P = precision3(), C = P.inverse();
    const targets::gaussian<double, B> g(mu3(), C);
    const index_t N = 100000;
    const md x0 = g.sample(random::stream{5, 0}, N);  // exact draws
    const double eps = 2.0;                            // > 4 / lambda_max(P) = 1
    samplers::chains<double, B> c(x0);
    samplers::ozaki<hessian::full, double, B> oz(eps, random::stream{5, 1});
    oz.step(g, c);
    check_moments(c.to_eigen(), mu3(), C);
    // ULA at the same eps: each step multiplies the top-eigendirection
    // variance by (1 - eps * 4 / 2)^2 = 9
    samplers::chains<double, B> u(x0);
    samplers::langevin<double, B> ula(eps, random::stream{5, 1});
    samplers::run(ula, g, u, 8);
    const md Y = u.to_eigen().colwise() - u.to_eigen().rowwise().mean();
    CHECK((Y * Y.transpose()).trace() / double(N) > 1e5 * C.trace());
}
#endif

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/ozaki: from a fixed point, one step has the OU mean and covariance") {
    using B = backend::cpp;
    const index_t N = 100000;
    const double eps = 1.0;
    const vd x_start = (vd(3) << 3.0, 2.0, -1.0).finished();
    const md X0 = x_start.replicate(1, N);
    auto ou_moments = [&](const md& P, double e, vd& m, md& C1) {
        m = mu3() + (-e / 2 * P).exp() * (x_start - mu3());
        C1 = (md::Identity(3, 3) - (-e * P).exp()) * P.inverse();
    };
    SUBCASE("full") {
        const md P = precision3();
        const targets::gaussian<double, B> g(mu3(), P.inverse());
        samplers::chains<double, B> c(X0);
        samplers::ozaki<hessian::full, double, B> oz(eps, random::stream{6, 1});
        oz.step(g, c);
        vd m;
        md C1;
        ou_moments(P, eps, m, C1);
        check_moments(c.to_eigen(), m, C1);
        // the seed's printed Eq. (20) is our step at 2 eps: its mean is far off
        vd m2;
        md C2;
        ou_moments(P, 2 * eps, m2, C2);
        CHECK((m2 - m).cwiseAbs().maxCoeff() >= 20 * std::sqrt(C1.diagonal().maxCoeff() / double(N)));
    }
    SUBCASE("diagonal") {
        const md P = vd((vd(3) << 4.0, 1.0, 0.5).finished()).asDiagonal();
        const targets::gaussian<double, B> g(mu3(), P.inverse());
        samplers::chains<double, B> c(X0);
        samplers::ozaki<hessian::diagonal, double, B> oz(eps, random::stream{6, 2});
        oz.step(g, c);
        vd m;
        md C1;
        ou_moments(P, eps, m, C1);
        check_moments(c.to_eigen(), m, C1);
    }
    SUBCASE("low-rank") {
        const auto lr = make_lr<B>();
        const md P = -lr.dense();
        samplers::chains<double, B> c(X0);
        samplers::ozaki<hessian::low_rank<1>, double, B> oz(eps, random::stream{6, 3});
        oz.step(lr, c);
        vd m;
        md C1;
        ou_moments(P, eps, m, C1);
        check_moments(c.to_eigen(), m, C1);
    }
}
#endif

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/ozaki: diagonal and low-rank keep their Gaussians invariant at a large step") {
    using B = backend::cpp;
    const index_t N = 100000;
    const double eps = 2.0;
    SUBCASE("diagonal") {
        const md P = vd((vd(3) << 4.0, 1.0, 0.5).finished()).asDiagonal();
        const targets::gaussian<double, B> g(mu3(), P.inverse());
        samplers::chains<double, B> c(g.sample(random::stream{7, 0}, N));
        samplers::ozaki<hessian::diagonal, double, B> oz(eps, random::stream{7, 1});
        oz.step(g, c);
        check_moments(c.to_eigen(), mu3(), P.inverse());
    }
    SUBCASE("low-rank") {
        const auto lr = make_lr<B>();
        const md C = (-lr.dense()).inverse();
        samplers::chains<double, B> c(lr.g.sample(random::stream{8, 0}, N));
        samplers::ozaki<hessian::low_rank<1>, double, B> oz(eps, random::stream{8, 1});
        oz.step(lr, c);
        check_moments(c.to_eigen(), mu3(), C);
    }
}
#endif

// ---------------------------------------------------------------------------
// low-rank Lanczos

namespace {
/// s2 = H = diag(alpha) + B B^T (D = 20, R = 3, negative definite, alpha not
/// constant) and s1 = H (x - mu): a Gaussian given in both structures.
template <class Bk>
struct lr_dense {
    vd alpha;
    md Bm;
    index_t dim() const { return alpha.size(); }
    md H() const {
        md h = Bm * Bm.transpose();
        h.diagonal() += alpha;
        return h;
    }
    void score(batch_view<const double> x, batch_view<double> out) const {
        as_eigen(out) = H() * (as_eigen(x).array() - 0.25).matrix();
    }
    void hessian(batch_view<const double> x, hessian::batch<hessian::low_rank<3>, double, Bk>& Hb) const {
        for (index_t j = 0; j < x.count; ++j) Hb.set_sample(j, alpha, Bm);
    }
    void hessian(batch_view<const double> x, hessian::batch<hessian::full, double, Bk>& Hb) const {
        for (index_t j = 0; j < x.count; ++j) Hb.set_sample(j, H());
    }
};
template <class Bk>
lr_dense<Bk> make_dense(index_t D, index_t R, double spread) {
    lr_dense<Bk> s;
    s.alpha.resize(D);
    s.Bm.resize(D, R);
    const random::stream r{123, 0};
    for (index_t i = 0; i < D; ++i) s.alpha(i) = -1.0 - spread * r.uniform<double>(i, 0);
    for (index_t k = 0; k < R; ++k)
        for (index_t i = 0; i < D; ++i) s.Bm(i, k) = 0.15 * r.normal<double>(1000 + k, std::uint32_t(i));
    return s;
}
}  // namespace

TEST_CASE_TEMPLATE("samplers/ozaki: low-rank Lanczos agrees with the full eigendecomposition", B,
                   HOSM_TEST_BACKENDS) {
    const auto src = make_dense<B>(20, 3, 5.0);
    REQUIRE(Eigen::SelfAdjointEigenSolver<md>(src.H()).eigenvalues().maxCoeff() < -0.5);
    md x0(20, 6);
    for (index_t j = 0; j < 6; ++j)
        for (index_t i = 0; i < 20; ++i) x0(i, j) = std::sin(double(1 + i * 7 + j * 3));
    const random::stream s{31, 4};
    const double eps = 1.0;
    samplers::chains<double, B> cf(x0), cl(x0), ce(x0);
    samplers::ozaki<hessian::full, double, B> of(eps, s);
    samplers::ozaki<hessian::low_rank<3>, double, B> ol(eps, s);
    samplers::ozaki_options<double> exhaust;
    exhaust.krylov_tol = 0;  // run to breakdown / D: exact
    samplers::ozaki<hessian::low_rank<3>, double, B> oe(eps, s, exhaust);
    of.step(src, cf);
    ol.step(src, cl);
    oe.step(src, ce);
    const md xf = cf.to_eigen();
    const double scale = (xf - x0).cwiseAbs().maxCoeff();
    CHECK((cl.to_eigen() - xf).cwiseAbs().maxCoeff() <= 1e-8 * scale);
    CHECK((ce.to_eigen() - xf).cwiseAbs().maxCoeff() <= 1e-11 * scale);
    CHECK(ol.krylov_unconverged() == 0);
    CHECK(ol.krylov_iterations() < 20);  // stopped early on the tolerance
    CHECK(oe.krylov_iterations() == 20);
    // a tight cap is reported
    samplers::ozaki_options<double> capped;
    capped.krylov_max = 2;
    samplers::ozaki<hessian::low_rank<3>, double, B> oc(eps, s, capped);
    samplers::chains<double, B> cc(x0);
    oc.step(src, cc);
    CHECK(oc.krylov_iterations() == 2);
    CHECK(oc.krylov_unconverged() == 12);  // 6 chains x 2 products
}

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/ozaki: the Lanczos drift error is within its a-priori bound") {
    const auto src = make_dense<backend::cpp>(40, 2, 7.0);
    const md H = src.H();
    Eigen::SelfAdjointEigenSolver<md> es(H);
    const double lmin = es.eigenvalues().minCoeff(), lmax = es.eigenvalues().maxCoeff();
    REQUIRE(lmax < 0);
    const double eps = 1.0;
    const samplers::detail::ozaki_coefficients<double> co{eps, 0.0, false};
    vd v(40);
    for (index_t i = 0; i < 40; ++i) v(i) = std::cos(double(3 * i + 1));
    // exact f(H) v by the dense eigendecomposition
    vd fl(40);
    for (index_t i = 0; i < 40; ++i) fl(i) = co.drift(es.eigenvalues()(i));
    const vd exact = es.eigenvectors() * fl.asDiagonal() * es.eigenvectors().transpose() * v;
    auto Hv = [&](const double* u, double* w) {
        vd::Map(w, 40) = H * vd::Map(u, 40);
    };
    auto f = [&](double l) { return co.drift(co.effective(l)); };
    double prev = 1e300;
    for (index_t j = 1; j <= 10; ++j) {
        CAPTURE(j);
        vd y(40);
        const auto r = samplers::detail::lanczos_apply<double>(40, Hv, v.data(), f, j, 0.0,
                                                               H.norm(), y.data());
        CHECK(r.iterations == j);
        const double err = (y - exact).norm();
        const double bound = samplers::detail::drift_error_bound(eps, lmin, lmax, j, v.norm());
        CAPTURE(err);
        CAPTURE(bound);
        CHECK(err <= bound);
        CHECK(err < prev);
        prev = err;
    }
    CHECK(samplers::detail::drift_error_bound(eps, lmin, lmax, 10, v.norm()) < 1e-4 * v.norm());
}
#endif

// ---------------------------------------------------------------------------
// limits, positive curvature, back ends, errors

TEST_CASE_TEMPLATE("samplers/ozaki: s2 = 0 gives the ULA step", B, HOSM_TEST_BACKENDS) {
    const flat src{4};
    md x0(4, 5);
    for (index_t j = 0; j < 5; ++j)
        for (index_t i = 0; i < 4; ++i) x0(i, j) = double(i) - 0.5 * double(j);
    const random::stream s{9, 9};
    const double eps = 0.37;
    samplers::chains<double, B> cu(x0), cd(x0), cf(x0), cl(x0);
    samplers::langevin<double, B> ula(eps, s);
    samplers::ozaki<hessian::diagonal, double, B> od(eps, s);
    samplers::ozaki<hessian::full, double, B> of(eps, s);
    samplers::ozaki<hessian::low_rank<2>, double, B> ol(eps, s);
    for (int t = 0; t < 3; ++t) {
        ula.step(src, cu);
        od.step(src, cd);
        of.step(src, cf);
        ol.step(src, cl);
    }
    const md xu = cu.to_eigen();
    // ULA's host normals match stream.normal to a few ulp (samplers/langevin.hpp).
    CHECK((cd.to_eigen() - xu).cwiseAbs().maxCoeff() <= 1e-14 * xu.cwiseAbs().maxCoeff());
    CHECK((cf.to_eigen() - xu).cwiseAbs().maxCoeff() <= 1e-14 * xu.cwiseAbs().maxCoeff());
    CHECK((cl.to_eigen() - xu).cwiseAbs().maxCoeff() <= 1e-14 * xu.cwiseAbs().maxCoeff());
}

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/ozaki: positive curvature (between two modes) stays finite and stable") {
    using B = backend::cpp;
    // p = (N(-2 e1, I/2) + N(2 e1, I/2)) / 2: at x = 0, s2 = diag(14, -2)
    md means(2, 2);
    means << -2.0, 0.0, 2.0, 0.0;
    const std::vector<md> covs{0.5 * md::Identity(2, 2), 0.5 * md::Identity(2, 2)};
    const targets::gaussian_mixture<double, B> p(vd::Constant(2, 0.5), means, covs);
    REQUIRE(p.hessian_full(vd::Zero(2))(0, 0) == doctest::Approx(14.0));
    const index_t N = 4000;
    for (auto policy : {samplers::ozaki_curvature::clamp, samplers::ozaki_curvature::absolute}) {
        samplers::ozaki_options<double> o;
        o.curvature = policy;
        samplers::chains<double, B> cf(2, N), cd(2, N);
        samplers::ozaki<hessian::full, double, B> of(1.0, random::stream{3, 1}, o);
        samplers::ozaki<hessian::diagonal, double, B> od(1.0, random::stream{3, 2}, o);
        samplers::run(of, p, cf, 60);  // throws if any chain turned non-finite
        samplers::run(od, p, cd, 60);
        for (const md& x : {cf.to_eigen(), cd.to_eigen()}) {
            CHECK(x.allFinite());
            const double right = double((x.row(0).array() > 0).count()) / double(N);
            CHECK(right > 0.4);  // both modes reached, symmetric
            CHECK(right < 0.6);
            const double m2 = x.row(0).squaredNorm() / double(N);  // exact: 4.5
            CHECK(m2 > 3.5);
            CHECK(m2 < 5.5);
        }
    }
}
#endif

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/ozaki: identical on cpp and omp, every structure") {
    const md P = precision3();
    const targets::gaussian<double, backend::cpp> gc(mu3(), P.inverse());
    const targets::gaussian<double, backend::omp> go(mu3(), P.inverse());
    md x0(3, 30);
    for (index_t j = 0; j < 30; ++j) x0.col(j) = vd::Constant(3, 0.2 * double(j) - 3.0);
    const random::stream s{12, 1};
    auto both = [&](auto tag) {
        using S = decltype(tag);
        samplers::chains<double, backend::cpp> cc(x0);
        samplers::chains<double, backend::omp> co(x0);
        samplers::ozaki<S, double, backend::cpp> oc(0.8, s);
        samplers::ozaki<S, double, backend::omp> oo(0.8, s);
        samplers::run(oc, gc, cc, 3);
        samplers::run(oo, go, co, 3);
        CHECK(cc.to_eigen() == co.to_eigen());
    };
    both(hessian::diagonal{});
    both(hessian::full{});
    both(hessian::low_rank<hosm::dynamic>{});  // the rank of gc.low_rank_rank()
}
#endif

TEST_CASE_TEMPLATE("samplers/ozaki: bad input", B, HOSM_TEST_BACKENDS) {
    const random::stream s{1, 1};
    using OD = samplers::ozaki<hessian::diagonal, double, B>;
    using OF = samplers::ozaki<hessian::full, double, B>;
    CHECK(message_of([&] { OD(0.0, s); }).find("'eps'") != std::string::npos);
    CHECK(message_of([&] { OF(-1.0, s); }).find("'eps'") != std::string::npos);
    samplers::ozaki_options<double> o;
    o.lambda_floor = -1;
    CHECK(message_of([&] { OD(1.0, s, o); }).find("lambda_floor") != std::string::npos);
    o = {};
    o.krylov_max = -1;
    CHECK(message_of([&] { OD(1.0, s, o); }).find("krylov_max") != std::string::npos);
    o = {};
    o.krylov_tol = std::nan("");
    CHECK(message_of([&] { OD(1.0, s, o); }).find("krylov_tol") != std::string::npos);
    o = {};
    o.rank = -2;
    CHECK(message_of([&] { OD(1.0, s, o); }).find("rank") != std::string::npos);

    auto lr = make_lr<B>();
    OF of(1.0, s);
    samplers::chains<double, B> c2(2, 3);
    CHECK(message_of([&] { of.step(lr, c2); }).find("dimension mismatch") != std::string::npos);

    // non-finite s2 at chain 1 (its first coordinate is above 100)
    lr.nan_above = 100;
    md x0 = md::Zero(3, 3);
    x0(0, 1) = 150;
    for (int which = 0; which < 3; ++which) {
        CAPTURE(which);
        samplers::chains<double, B> c(x0);
        std::string m;
        if (which == 0) m = message_of([&] { OD(1.0, s).step(lr, c); });
        if (which == 1) m = message_of([&] { OF(1.0, s).step(lr, c); });
        if (which == 2)
            m = message_of([&] { samplers::ozaki<hessian::low_rank<1>, double, B>(1.0, s).step(lr, c); });
        CAPTURE(m);
        CHECK(m.find("chain 1 failed in step 0") != std::string::npos);
        CHECK(m.find("non-finite Hessian") != std::string::npos);
        CHECK(c.to_eigen() == x0);
        CHECK((c.flags()[1] & samplers::nonfinite_hessian) != 0);
    }
    // an asymmetric full s2
    lr.nan_above = std::numeric_limits<double>::infinity();
    lr.asymmetric = true;
    samplers::chains<double, B> ca(md::Zero(3, 2));
    const std::string ma = message_of([&] { of.step(lr, ca); });
    CHECK(ma.find("chain 0 failed") != std::string::npos);
    CHECK(ma.find("numerical failure") != std::string::npos);
    // low_rank<dynamic> without a rank
    samplers::ozaki<hessian::low_rank<hosm::dynamic>, double, B> od(1.0, s);
    samplers::chains<double, B> c4(4, 2);
    CHECK(message_of([&] { od.step(flat{4}, c4); }).find("options.rank") != std::string::npos);
    samplers::ozaki_options<double> r2;
    r2.rank = 2;
    samplers::ozaki<hessian::low_rank<hosm::dynamic>, double, B> od2(1.0, s, r2);
    od2.step(flat{4}, c4);
    CHECK(c4.step() == 1);
}
