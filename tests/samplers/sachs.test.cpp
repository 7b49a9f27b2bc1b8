// Tests of samplers::sachs (hosm/samplers/sachs.hpp): the underdamped scheme
// of Sachs et al. used by seed 003's walk-jump sampler (A B O B A, effective
// friction gamma_eff = gamma delta, inverse mass u).
//
// Oracle: for a Gaussian target N(mu, Sigma), P = Sigma^{-1}, one step is
// z' = A z + L xi on z = (y - mu, v) with
//   A_h = [I delta/2 I; 0 I], B_u = [I 0; -u delta/2 P I], O = [I 0; 0 c I],
//   c = e^{-gamma_eff},  A = A_h B_u O B_u A_h,
//   L L^T = (A_h B_u) diag(0, u (1 - c^2) I) (A_h B_u)^T,
// so the law after n steps from a Gaussian start is Gaussian with m_n = A^n m_0,
// C_{n+1} = A C_n A^T + L L^T (computed here with Eigen).
//
// What is tested:
//  * the step formula: two steps on 4 chains of a 3-d Gaussian (odd D: the
//    last normal of a pair unused) equal the listing evaluated here with
//    xi = stream.normal((k << 32) | j, i) (1e-13 absolute);
//  * exact maths: the stationary covariance of the recursion has y-block
//    exactly Sigma, v-block u (I - u delta^2 P / 4)^{-1}, zero cross-block
//    (1e-10 relative) — the scheme is exact in configuration on Gaussians;
//  * the implementation by Monte Carlo (N = 20000 chains, few steps, 5 standard
//    errors: sqrt(C_ii / N) for means, sqrt((C_ii C_jj + C_ij^2) / N) for
//    covariances): the transient law after 6 steps from a fixed start with
//    u = 0.6 matches m_6, C_6; started in the stationary law (delta chosen so
//    u delta^2 lambda_max(P) / 4 ~ 0.3), y stays N(mu, Sigma) and v keeps its
//    law after 10 steps;
//  * parameters: with_friction(delta, gamma) has gamma_eff = gamma delta and
//    gives the same chains as the direct constructor;
//  * back ends cpp / omp bit-identical; split runs equal one run;
//  * errors: step, effective friction, gamma, inverse mass <= 0; shape
//    mismatches; non-finite state or score named by chain and step.
#include "support/backends.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include <unsupported/Eigen/KroneckerProduct>

#include <hosm/backend/batch.hpp>
#include <hosm/core/error.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/sachs.hpp>
#include <hosm/targets/gaussian.hpp>

using namespace hosm;

namespace {

using md = matrix<double>;
using vd = vector<double>;

vd mu2() {
    vd m(2);
    m << 0.3, -0.7;
    return m;
}
md sigma2() {
    md S(2, 2);
    S << 1.5, 0.4, 0.4, 0.6;
    return S;
}

/// One Sachs et al. step on z = (y - mu, v): {A, L L^T}.
std::pair<md, md> sachs_linear(const md& P, double delta, double gamma_eff, double u) {
    const index_t D = P.rows();
    const md I = md::Identity(D, D), Z = md::Zero(D, D);
    const double c = std::exp(-gamma_eff);
    md Bu(2 * D, 2 * D), Ah(2 * D, 2 * D), O(2 * D, 2 * D), Q(2 * D, 2 * D);
    Bu << I, Z, -u * delta / 2 * P, I;
    Ah << I, delta / 2 * I, Z, I;
    O << I, Z, Z, c * I;
    Q << Z, Z, Z, u * (1 - c * c) * I;
    const md AB = Ah * Bu;
    return {AB * O * Bu * Ah, AB * Q * AB.transpose()};
}

/// Solves S = A S A^T + Q densely.
md stationary(const md& A, const md& Q) {
    const index_t n = A.rows();
    const md K = md::Identity(n * n, n * n) - Eigen::kroneckerProduct(A, A).eval();
    const vd q = Eigen::Map<const vd>(Q.data(), n * n);
    const vd s = K.fullPivLu().solve(q);
    md S = Eigen::Map<const md>(s.data(), n, n);
    return (S + S.transpose()) / 2;
}

/// CHECKs sample mean and covariance of the columns of X against (m, C),
/// 5 standard errors per entry.
void check_moments(const md& X, const vd& m, const md& C, const char* what) {
    const double n = double(X.cols());
    const vd mean = X.rowwise().mean();
    const md Xc = X.colwise() - mean;
    const md cov = Xc * Xc.transpose() / (n - 1);
    for (index_t i = 0; i < X.rows(); ++i) {
        CAPTURE(what);
        CAPTURE(i);
        CHECK(std::abs(mean(i) - m(i)) <= 5 * std::sqrt(C(i, i) / n));
        for (index_t j = 0; j < X.rows(); ++j) {
            CAPTURE(j);
            CHECK(std::abs(cov(i, j) - C(i, j)) <=
                  5 * std::sqrt((C(i, i) * C(j, j) + C(i, j) * C(i, j)) / n));
        }
    }
}

/// N(0, V) draws, D x n, from stream s.
md normal_draws(const md& V, index_t n, random::stream s) {
    batch<double> z(V.rows(), n);
    random::fill_normal<backend::cpp>(s, z.view());
    const md L = V.llt().matrixL();
    return L * z.to_eigen();
}

struct nan_source {  // s1 = -x, but NaN in chain `bad_chain` from call `bad_call` on
    index_t D;
    index_t bad_chain;
    int bad_call;
    mutable int calls = 0;
    index_t dim() const { return D; }
    void score(batch_view<const double> x, batch_view<double> out) const {
        for (index_t e = 0; e < x.size(); ++e) out.data[e] = -x.data[e];
        if (calls++ >= bad_call) out(0, bad_chain) = std::numeric_limits<double>::quiet_NaN();
    }
};

std::string error_of(auto&& f) {
    try {
        f();
    } catch (const hosm::error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/sachs: stationary law of the Gaussian recursion (exact maths)") {
    for (const md& S : {md(md::Constant(1, 1, 2.0)), sigma2()}) {
        const md P = S.inverse();
        const index_t D = S.rows();
        for (double delta : {0.1, 0.5, 1.0})
            for (double gamma_eff : {0.3, 1.0})
                for (double u : {1.0, 0.5}) {
                    CAPTURE(D);
                    CAPTURE(delta);
                    CAPTURE(gamma_eff);
                    CAPTURE(u);
                    const auto [A, Q] = sachs_linear(P, delta, gamma_eff, u);
                    const md St = stationary(A, Q);
                    const md V = u * (md::Identity(D, D) - u * delta * delta / 4 * P).inverse();
                    CHECK((St.topLeftCorner(D, D) - S).norm() <= 1e-10 * S.norm());
                    CHECK((St.bottomRightCorner(D, D) - V).norm() <= 1e-10 * V.norm());
                    CHECK(St.topRightCorner(D, D).norm() <= 1e-10);
                }
    }
}
#endif

TEST_CASE_TEMPLATE("samplers/sachs: two steps follow the formula with the documented noise keys", B,
                   HOSM_TEST_BACKENDS) {
    // odd dimension (3) exercises the unpaired last normal
    md S3(3, 3);
    S3 << 1.0, 0.2, 0.0, 0.2, 0.8, -0.1, 0.0, -0.1, 0.5;
    const vd m3 = vd::LinSpaced(3, -0.5, 0.5);
    const targets::gaussian<double, B> g(m3, S3);
    const md P = S3.inverse();
    const double delta = 0.3, ge = 0.6, u = 0.7, c = std::exp(-ge);
    const random::stream rs{18, 5};
    const md y0 = md::Random(3, 4), v0 = md::Random(3, 4);
    samplers::underdamped_state<double, B> st(y0, v0);
    samplers::sachs<double, B>(delta, ge, rs, u).run(g, st, 2);
    md y = y0, v = v0;
    for (std::uint64_t k = 0; k < 2; ++k) {
        md xi(3, 4);
        for (index_t j = 0; j < 4; ++j)
            for (index_t i = 0; i < 3; ++i)
                xi(i, j) = rs.normal<double>((k << 32) | std::uint64_t(j), std::uint32_t(i));
        y += delta / 2 * v;
        const md gy = -P * (y.colwise() - m3);
        v += u * delta / 2 * gy;
        v = c * v + u * delta / 2 * gy + std::sqrt(u * (1 - c * c)) * xi;
        y += delta / 2 * v;
    }
    CHECK((st.x.to_eigen() - y).cwiseAbs().maxCoeff() <= 1e-13);
    CHECK((st.v.to_eigen() - v).cwiseAbs().maxCoeff() <= 1e-13);
}

TEST_CASE_TEMPLATE("samplers/sachs: transient law after 6 steps matches the exact recursion", B,
                   HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu2(), sigma2());
    const double delta = 0.35, gamma_eff = 0.4, u = 0.6;
    const index_t N = 20000, D = 2, n = 6;
    md y0(D, N), v0(D, N);
    y0.colwise() = (vd(2) << 2.0, -1.0).finished();
    v0.colwise() = (vd(2) << -0.5, 0.25).finished();
    samplers::underdamped_state<double, B> st(y0, v0);
    const samplers::sachs<double, B> s(delta, gamma_eff, random::stream{12, 3}, u);
    CHECK(s.step() == delta);
    CHECK(s.effective_friction() == gamma_eff);
    CHECK(s.inverse_mass() == u);
    CHECK(s.friction() == doctest::Approx(gamma_eff / delta).epsilon(1e-15));
    s.run(g, st, n);
    CHECK(st.step == std::uint64_t(n));

    const auto [A, Q] = sachs_linear(sigma2().inverse(), delta, gamma_eff, u);
    vd m(2 * D);
    m << y0.col(0) - mu2(), v0.col(0);
    md C = md::Zero(2 * D, 2 * D);
    for (index_t k = 0; k < n; ++k) {
        m = A * m;
        C = A * C * A.transpose() + Q;
    }
    m.head(D) += mu2();
    md Z(2 * D, N);
    Z << st.x.to_eigen(), st.v.to_eigen();
    check_moments(Z, m, C, "(y, v) after 6 steps");
}

TEST_CASE_TEMPLATE("samplers/sachs: the Gaussian stationary law is preserved", B,
                   HOSM_TEST_BACKENDS) {
    const index_t N = 20000;
    for (const md& S : {md(md::Constant(1, 1, 2.0)), sigma2()}) {
        const index_t D = S.rows();
        const vd mu = D == 1 ? vd(vd::Constant(1, 0.5)) : mu2();
        const targets::gaussian<double, B> g(mu, S);
        const md P = S.inverse();
        const double u = 1.0, gamma_eff = 0.5;
        const double delta = D == 1 ? 1.5 : 0.75;  // u delta^2 lambda_max(P) / 4 ~ 0.28 / 0.31
        const md V = u * (md::Identity(D, D) - u * delta * delta / 4 * P).inverse();
        const md y0 = g.sample(random::stream{6, 1}, N);
        const md v0 = normal_draws(V, N, random::stream{6, 2});
        samplers::underdamped_state<double, B> st(y0, v0);
        samplers::sachs<double, B>(delta, gamma_eff, random::stream{6, 3}, u).run(g, st, 10);
        CAPTURE(D);
        check_moments(st.x.to_eigen(), mu, S, "y after 10 steps");
        check_moments(st.v.to_eigen(), vd::Zero(D), V, "v after 10 steps");
    }
}

TEST_CASE_TEMPLATE("samplers/sachs: back ends agree, runs split, with_friction", B,
                   HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu2(), sigma2());
    const targets::gaussian<double, backend::cpp> gc(mu2(), sigma2());
    const md y0 = gc.sample(random::stream{2, 0}, 33);
    const random::stream s{9, 4};
    samplers::underdamped_state<double, B> a(y0), split(y0), fr(y0);
    samplers::underdamped_state<double, backend::cpp> ref(y0);
    samplers::sachs<double, B>(0.4, 0.8, s).run(g, a, 10);
    samplers::sachs<double, backend::cpp>(0.4, 0.8, s).run(gc, ref, 10);
    const samplers::sachs<double, B> sb(0.4, 0.8, s);
    sb.run(g, split, 3);
    sb.run(g, split, 7);
    const auto w = samplers::sachs<double, B>::with_friction(0.4, 2.0, s);
    CHECK(w.effective_friction() == 0.4 * 2.0);
    CHECK(w.friction() == doctest::Approx(2.0).epsilon(1e-15));
    w.run(g, fr, 10);
    CHECK(a.x.to_eigen() == ref.x.to_eigen());
    CHECK(a.v.to_eigen() == ref.v.to_eigen());
    CHECK(split.x.to_eigen() == ref.x.to_eigen());
    CHECK(split.v.to_eigen() == ref.v.to_eigen());
    CHECK(fr.x.to_eigen() == ref.x.to_eigen());
    CHECK(a.x.to_eigen() != y0);
}

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/sachs: float instantiation runs") {
    vector<float> mu(2);
    mu << 0.3f, -0.7f;
    const targets::gaussian<float> g(mu, sigma2().cast<float>());
    samplers::underdamped_state<float> st(g.sample(random::stream{1, 1}, 100));
    samplers::sachs<float>(0.3f, 1.0f, random::stream{1, 2}).run(g, st, 5);
    CHECK(st.x.to_eigen().allFinite());
    CHECK(st.step == 5u);
}
#endif

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/sachs: bad input raises hosm::error") {
    const random::stream s{1, 0};
    CHECK_THROWS_AS(samplers::sachs<double>(0.0, 1.0, s), hosm::error);
    CHECK_THROWS_AS(samplers::sachs<double>(-0.1, 1.0, s), hosm::error);
    CHECK_THROWS_AS(samplers::sachs<double>(0.1, 0.0, s), hosm::error);
    CHECK_THROWS_AS(samplers::sachs<double>(0.1, -1.0, s), hosm::error);
    CHECK_THROWS_AS(samplers::sachs<double>(0.1, 1.0, s, 0.0), hosm::error);
    CHECK_THROWS_AS(samplers::sachs<double>(0.1, std::nan(""), s), hosm::error);
    CHECK_THROWS_AS(samplers::sachs<double>::with_friction(0.1, 0.0, s), hosm::error);
    CHECK_THROWS_AS(samplers::sachs<double>::with_friction(-0.1, 1.0, s), hosm::error);
    CHECK(error_of([&] { samplers::sachs<double>(0.1, -1.0, s); }).find("effective_friction") !=
          std::string::npos);

    const targets::gaussian<double> g(mu2(), sigma2());
    const samplers::sachs<double> b(0.1, 1.0, s);
    {
        samplers::underdamped_state<double> st(3, 4);
        CHECK(error_of([&] { b.run(g, st, 1); }).find("dimension mismatch") != std::string::npos);
    }
    {
        samplers::underdamped_state<double> st(2, 4);
        st.v = batch<double>(1, 4);
        CHECK(error_of([&] { b.run(g, st, 1); }).find("dimension mismatch") != std::string::npos);
    }
    {
        samplers::underdamped_state<double> st(2, 4);
        CHECK_THROWS_AS(b.run(g, st, -3), hosm::error);
    }
    {  // non-finite initial velocity in chain 2
        md v0 = md::Zero(2, 4);
        v0(0, 2) = std::numeric_limits<double>::quiet_NaN();
        samplers::underdamped_state<double> st(md::Zero(2, 4), v0);
        const std::string msg = error_of([&] { b.run(g, st, 3); });
        CAPTURE(msg);
        CHECK(msg.find("samplers::sachs::run") != std::string::npos);
        CHECK(msg.find("velocity in chain 2") != std::string::npos);
        CHECK(msg.find("before step 0") != std::string::npos);
    }
    {  // NaN score in chain 3 from the third call, i.e. in step 2
        const nan_source src{2, 3, 2};
        samplers::underdamped_state<double> st(md::Ones(2, 5));
        const std::string msg = error_of([&] { b.run(src, st, 5); });
        CAPTURE(msg);
        CHECK(msg.find("non-finite score in chain 3") != std::string::npos);
        CHECK(msg.find("at step 2") != std::string::npos);
    }
}
#endif
