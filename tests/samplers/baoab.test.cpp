// Tests of samplers::baoab (hosm/samplers/baoab.hpp): underdamped Langevin,
// unit mass, BAOAB splitting.
//
// Oracle: for a Gaussian target N(mu, Sigma), P = Sigma^{-1}, the score is
// linear, so one BAOAB step is z' = A z + L xi on z = (x - mu, v) with
//   B = [I 0; -h/2 P I], A_h = [I h/2 I; 0 I], O = [I 0; 0 c I], c = e^{-gamma h},
//   A = B A_h O A_h B,   L L^T = (B A_h) diag(0, (1 - c^2) I) (B A_h)^T,
// and the law after n steps from a Gaussian start is Gaussian with
// m_n = A^n m_0 and C_{n+1} = A C_n A^T + L L^T, computed here with Eigen.
//
// What is tested:
//  * the step formula: two steps on 5 chains equal the B A O A B formula above
//    evaluated here with xi = stream.normal((k << 32) | j, i), the documented
//    noise keys (1e-13 absolute, rounding);
//  * exact maths (no sampling): the stationary covariance of that recursion
//    (discrete Lyapunov equation, solved densely) has x-block exactly Sigma,
//    v-block I - h^2 P / 4 and zero cross-block (BAOAB's configurational
//    exactness on Gaussians, Leimkuhler & Matthews 2013) — 1e-10 relative;
//  * the implementation, by Monte Carlo over many chains and few steps:
//    - transient: from a fixed x0, v0 = 0, the sample mean and covariance of
//      (x, v) after 8 steps match m_8, C_8;
//    - stationarity: from x ~ N(mu, Sigma), v ~ N(0, I - h^2 P/4) the law of x
//      after 10 steps is still N(mu, Sigma) and that of v unchanged (the
//      configurational bias is exactly 0 here, so the tolerance is the Monte
//      Carlo error alone). h is chosen so h^2 lambda_max(P)/4 ~ 0.35: a scheme
//      with the generic O(h^2) velocity or position bias would miss by many
//      standard errors;
//    Tolerance: 5 standard errors, sqrt(C_ii / N) for means and
//    sqrt((C_ii C_jj + C_ij^2) / N) for covariances (Gaussian law), N = 20000.
//  * back ends: cpp and omp give bit-identical chains; run(5) + run(5) equals
//    run(10) bit for bit (noise keyed by chain and step).
//  * errors: step / friction <= 0, shape mismatches, non-finite state or score
//    named by chain and step.
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
#include <hosm/samplers/baoab.hpp>
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

/// One BAOAB step on z = (x - mu, v): {A, L L^T}.
std::pair<md, md> baoab_linear(const md& P, double h, double gamma) {
    const index_t D = P.rows();
    const md I = md::Identity(D, D), Z = md::Zero(D, D);
    const double c = std::exp(-gamma * h);
    md Bk(2 * D, 2 * D), Ah(2 * D, 2 * D), O(2 * D, 2 * D), Q(2 * D, 2 * D);
    Bk << I, Z, -h / 2 * P, I;
    Ah << I, h / 2 * I, Z, I;
    O << I, Z, Z, c * I;
    Q << Z, Z, Z, (1 - c * c) * I;
    const md BA = Bk * Ah;
    return {BA * O * Ah * Bk, BA * Q * BA.transpose()};
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
TEST_CASE("samplers/baoab: stationary law of the Gaussian recursion (exact maths)") {
    for (const md& S : {md(md::Constant(1, 1, 2.0)), sigma2()}) {
        const md P = S.inverse();
        const index_t D = S.rows();
        for (double h : {0.1, 0.5, 1.0})
            for (double gamma : {0.3, 2.0}) {
                CAPTURE(D);
                CAPTURE(h);
                CAPTURE(gamma);
                const auto [A, Q] = baoab_linear(P, h, gamma);
                const md St = stationary(A, Q);
                const md V = md::Identity(D, D) - h * h / 4 * P;
                CHECK((St.topLeftCorner(D, D) - S).norm() <= 1e-10 * S.norm());
                CHECK((St.bottomRightCorner(D, D) - V).norm() <= 1e-10);
                CHECK(St.topRightCorner(D, D).norm() <= 1e-10);
            }
    }
}
#endif

TEST_CASE_TEMPLATE("samplers/baoab: two steps follow the formula with the documented noise keys", B,
                   HOSM_TEST_BACKENDS) {
    // score s1(x) = -P (x - mu); noise of chain j in step k: s.normal((k << 32) | j, i)
    const targets::gaussian<double, B> g(mu2(), sigma2());
    const md P = sigma2().inverse();
    const double h = 0.3, gamma = 0.8, c = std::exp(-gamma * h);
    const random::stream rs{17, 5};
    const md x0 = md::Random(2, 5), v0 = md::Random(2, 5);
    samplers::underdamped_state<double, B> st(x0, v0);
    samplers::baoab<double, B>(h, gamma, rs).run(g, st, 2);
    md x = x0, v = v0;
    auto s1 = [&](const md& y) { return md(-P * (y.colwise() - mu2())); };
    for (std::uint64_t k = 0; k < 2; ++k) {
        md xi(2, 5);
        for (index_t j = 0; j < 5; ++j)
            for (index_t i = 0; i < 2; ++i)
                xi(i, j) = rs.normal<double>((k << 32) | std::uint64_t(j), std::uint32_t(i));
        v += h / 2 * s1(x);
        x += h / 2 * v;
        v = c * v + std::sqrt(1 - c * c) * xi;
        x += h / 2 * v;
        v += h / 2 * s1(x);
    }
    CHECK((st.x.to_eigen() - x).cwiseAbs().maxCoeff() <= 1e-13);
    CHECK((st.v.to_eigen() - v).cwiseAbs().maxCoeff() <= 1e-13);
}

TEST_CASE_TEMPLATE("samplers/baoab: transient law after 8 steps matches the exact recursion", B,
                   HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu2(), sigma2());
    const double h = 0.3, gamma = 1.5;
    const index_t N = 20000, D = 2, n = 8;
    md x0(D, N);
    x0.colwise() = (vd(2) << 2.0, -1.0).finished();
    samplers::underdamped_state<double, B> st(x0);
    const samplers::baoab<double, B> s(h, gamma, random::stream{11, 3});
    CHECK(s.step() == h);
    CHECK(s.friction() == gamma);
    s.run(g, st, n);
    CHECK(st.step == std::uint64_t(n));

    const auto [A, Q] = baoab_linear(sigma2().inverse(), h, gamma);
    vd m(2 * D);
    m << x0.col(0) - mu2(), vd::Zero(D);
    md C = md::Zero(2 * D, 2 * D);
    for (index_t k = 0; k < n; ++k) {
        m = A * m;
        C = A * C * A.transpose() + Q;
    }
    m.head(D) += mu2();
    md Z(2 * D, N);
    Z << st.x.to_eigen(), st.v.to_eigen();
    check_moments(Z, m, C, "(x, v) after 8 steps");
}

TEST_CASE_TEMPLATE("samplers/baoab: the Gaussian stationary law is preserved", B,
                   HOSM_TEST_BACKENDS) {
    const index_t N = 20000;
    for (const md& S : {md(md::Constant(1, 1, 2.0)), sigma2()}) {
        const index_t D = S.rows();
        const vd mu = D == 1 ? vd(vd::Constant(1, 0.5)) : mu2();
        const targets::gaussian<double, B> g(mu, S);
        const md P = S.inverse();
        // h^2 lambda_max(P) / 4 = 0.35 (2-d) and 0.18 (1-d)
        const double h = D == 1 ? 1.2 : 0.8, gamma = 0.7;
        const md V = md::Identity(D, D) - h * h / 4 * P;
        const md x0 = g.sample(random::stream{5, 1}, N);
        const md v0 = normal_draws(V, N, random::stream{5, 2});
        samplers::underdamped_state<double, B> st(x0, v0);
        samplers::baoab<double, B>(h, gamma, random::stream{5, 3}).run(g, st, 10);
        CAPTURE(D);
        check_moments(st.x.to_eigen(), mu, S, "x after 10 steps");
        check_moments(st.v.to_eigen(), vd::Zero(D), V, "v after 10 steps");
    }
}

TEST_CASE_TEMPLATE("samplers/baoab: back ends agree and runs can be split", B, HOSM_TEST_BACKENDS) {
    const targets::gaussian<double, B> g(mu2(), sigma2());
    const targets::gaussian<double, backend::cpp> gc(mu2(), sigma2());
    const md x0 = gc.sample(random::stream{2, 0}, 33);
    const random::stream s{9, 4};
    samplers::underdamped_state<double, B> a(x0);
    samplers::underdamped_state<double, backend::cpp> ref(x0);
    samplers::underdamped_state<double, B> split(x0);
    samplers::baoab<double, B>(0.4, 1.0, s).run(g, a, 10);
    samplers::baoab<double, backend::cpp>(0.4, 1.0, s).run(gc, ref, 10);
    const samplers::baoab<double, B> sb(0.4, 1.0, s);
    sb.run(g, split, 5);
    sb.run(g, split, 0);
    sb.run(g, split, 5);
    CHECK(a.x.to_eigen() == ref.x.to_eigen());
    CHECK(a.v.to_eigen() == ref.v.to_eigen());
    CHECK(split.x.to_eigen() == ref.x.to_eigen());
    CHECK(split.v.to_eigen() == ref.v.to_eigen());
    CHECK(split.step == 10u);
    CHECK(a.x.to_eigen() != x0);  // it moved
    // another stream gives other chains
    samplers::underdamped_state<double, B> other(x0);
    samplers::baoab<double, B>(0.4, 1.0, random::stream{9, 5}).run(g, other, 10);
    CHECK(other.x.to_eigen() != a.x.to_eigen());
}

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/baoab: float instantiation runs") {
    vector<float> mu(2);
    mu << 0.3f, -0.7f;
    const targets::gaussian<float> g(mu, sigma2().cast<float>());
    samplers::underdamped_state<float> st(g.sample(random::stream{1, 1}, 100));
    samplers::baoab<float>(0.3f, 1.0f, random::stream{1, 2}).run(g, st, 5);
    CHECK(st.x.to_eigen().allFinite());
    CHECK(st.step == 5u);
}
#endif

#if !defined(__CUDACC__)  // host back ends only
TEST_CASE("samplers/baoab: bad input raises hosm::error") {
    const random::stream s{1, 0};
    CHECK_THROWS_AS(samplers::baoab<double>(0.0, 1.0, s), hosm::error);
    CHECK_THROWS_AS(samplers::baoab<double>(-0.1, 1.0, s), hosm::error);
    CHECK_THROWS_AS(samplers::baoab<double>(std::nan(""), 1.0, s), hosm::error);
    CHECK_THROWS_AS(samplers::baoab<double>(0.1, 0.0, s), hosm::error);
    CHECK_THROWS_AS(samplers::baoab<double>(0.1, -2.0, s), hosm::error);
    CHECK(error_of([&] { samplers::baoab<double>(0.1, -2.0, s); }).find("friction") !=
          std::string::npos);

    const targets::gaussian<double> g(mu2(), sigma2());
    const samplers::baoab<double> b(0.1, 1.0, s);
    {  // dimension mismatch with the source
        samplers::underdamped_state<double> st(3, 4);
        CHECK(error_of([&] { b.run(g, st, 1); }).find("dimension mismatch") != std::string::npos);
    }
    {  // x and v of different shapes
        samplers::underdamped_state<double> st(2, 4);
        st.v = batch<double>(2, 5);
        CHECK(error_of([&] { b.run(g, st, 1); }).find("dimension mismatch") != std::string::npos);
    }
    {  // negative step count
        samplers::underdamped_state<double> st(2, 4);
        CHECK_THROWS_AS(b.run(g, st, -1), hosm::error);
    }
    {  // non-finite initial state, named by chain and step
        md x0 = md::Zero(2, 4);
        x0(1, 1) = std::numeric_limits<double>::infinity();
        samplers::underdamped_state<double> st(x0);
        const std::string msg = error_of([&] { b.run(g, st, 3); });
        CAPTURE(msg);
        CHECK(msg.find("samplers::baoab::run") != std::string::npos);
        CHECK(msg.find("position in chain 1") != std::string::npos);
        CHECK(msg.find("before step 0") != std::string::npos);
    }
    {  // a score that turns NaN in chain 3 during step 2 (call 0 is run()'s initial score)
        const nan_source src{2, 3, 3};
        samplers::underdamped_state<double> st(md::Ones(2, 5));
        const std::string msg = error_of([&] { b.run(src, st, 5); });
        CAPTURE(msg);
        CHECK(msg.find("non-finite score in chain 3") != std::string::npos);
        CHECK(msg.find("at step 2") != std::string::npos);
        CHECK(st.step == 2u);
    }
    {  // divergence from a step far beyond stability is reported, not returned
        md S = md::Identity(2, 2) * 1e-6;
        const targets::gaussian<double> stiff(mu2(), S);
        samplers::underdamped_state<double> st(md::Ones(2, 3));
        const std::string msg =
            error_of([&] { samplers::baoab<double>(10.0, 1.0, s).run(stiff, st, 1000); });
        CAPTURE(msg);
        CHECK(msg.find("non-finite") != std::string::npos);
        CHECK(msg.find("chain 0") != std::string::npos);
    }
}
#endif
