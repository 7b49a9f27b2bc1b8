// Tests of hosm/hessian/solve.hpp: SPD solves and log-determinants of each
// structure against Eigen's dense LLT in double, and the errors on bad input.
//
// The matrices are well conditioned (condition number kappa computed and
// printed on failure, below ~50), and a backward-stable solve has a relative
// error of order kappa * D * eps: the tolerances are 1e-12 * kappa (double) and
// 1e-4 * kappa (float) relative to max |x|; logdet to 1e-12 (double) and 1e-4
// (float) relative to sum_i |log L_ii| + 1. Host only (Eigen, exceptions).
#include <doctest/doctest.h>

#if !defined(__CUDACC__)
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <hosm/core/eigen.hpp>
#include <hosm/hessian/solve.hpp>
#include "support/errors.hpp"

using namespace hosm;
using hosm_test::message_of;
using hessian::diagonal_view;
using hessian::full_view;
using hessian::low_rank_view;

namespace {

template <class T>
constexpr double rel_tol = std::is_same_v<T, double> ? 1e-12 : 1e-4;

using md = matrix<double>;
using vd = vector<double>;

template <class T>
std::vector<T> randn(std::mt19937& g, index_t n) {
    std::normal_distribution<double> nd;
    std::vector<T> x(static_cast<std::size_t>(n));
    for (auto& e : x) e = T(nd(g));
    return x;
}

template <class T>
md dense(const T* p, index_t r, index_t c) {
    md m(r, c);
    for (index_t j = 0; j < c; ++j)
        for (index_t i = 0; i < r; ++i) m(i, j) = double(p[i + j * r]);
    return m;
}

double cond(const md& H) {
    Eigen::SelfAdjointEigenSolver<md> e(H, Eigen::EigenvaluesOnly);
    return e.eigenvalues().maxCoeff() / e.eigenvalues().minCoeff();
}

/// Checks solve(H, .) (one and three right-hand sides, and in place) and
/// logdet(H) against the dense double matrix Hd.
template <class T, class View>
void check_solve(View H, const md& Hd, std::mt19937& g) {
    const index_t D = Hd.rows(), n = 3;
    const double kappa = cond(Hd);
    CAPTURE(kappa);
    const Eigen::LLT<md> llt(Hd);
    REQUIRE(llt.info() == Eigen::Success);
    const std::vector<T> rhs = randn<T>(g, D * n);
    const md want = llt.solve(dense(rhs.data(), D, n));
    const double tol = rel_tol<T> * kappa * want.cwiseAbs().maxCoeff();
    std::vector<T> x(D * n);
    solve(H, rhs.data(), x.data(), n);
    CHECK((dense(x.data(), D, n) - want).cwiseAbs().maxCoeff() <= tol);
    std::vector<T> x1(D);  // one right-hand side (the default n = 1)
    solve(H, rhs.data(), x1.data());
    CHECK((dense(x1.data(), D, 1) - want.col(0)).cwiseAbs().maxCoeff() <= tol);
    std::vector<T> xi(rhs);  // rhs and out may be the same array
    solve(H, xi.data(), xi.data(), n);
    CHECK(xi == x);
    const double ld = 2 * llt.matrixLLT().diagonal().array().log().sum();
    const double ld_scale = llt.matrixLLT().diagonal().array().log().abs().sum() + 1;
    CHECK(std::abs(double(logdet(H)) - ld) <= rel_tol<T> * ld_scale);
}

}  // namespace

TEST_CASE_TEMPLATE("hessian/solve: full SPD by LLT", T, float, double) {
    std::mt19937 g(41);
    for (index_t D : {1, 5, 17}) {
        CAPTURE(D);
        const std::vector<T> a = randn<T>(g, D * D);
        const md A = dense(a.data(), D, D);
        const md Hd0 = A * A.transpose() / double(D) + md::Identity(D, D);
        std::vector<T> h(D * D);
        for (index_t k = 0; k < D * D; ++k) h[k] = T(Hd0.data()[k]);
        check_solve<T>(full_view<const T>{h.data(), D}, dense(h.data(), D, D), g);
    }
}

TEST_CASE_TEMPLATE("hessian/solve: diagonal", T, float, double) {
    std::mt19937 g(42);
    for (index_t D : {1, 5, 17}) {
        CAPTURE(D);
        std::vector<T> d = randn<T>(g, D);
        for (auto& e : d) e = T(0.5) + e * e;
        check_solve<T>(diagonal_view<const T>{d.data(), D}, md(dense(d.data(), D, 1).asDiagonal()),
                       g);
    }
}

TEST_CASE_TEMPLATE("hessian/solve: low rank by Woodbury and the determinant lemma", T, float,
                   double) {
    std::mt19937 g(43);
    for (index_t D : {1, 5, 17})
        for (index_t R : {index_t(1), index_t(3), D}) {
            if (R > D) continue;
            CAPTURE(D);
            CAPTURE(R);
            std::vector<T> alpha = randn<T>(g, D), B = randn<T>(g, D * R);
            for (auto& e : alpha) e = T(0.5) + e * e;
            for (auto& e : B) e = e / T(std::sqrt(double(R)));  // keeps kappa moderate
            const md Bd = dense(B.data(), D, R);
            const md Hd = md(dense(alpha.data(), D, 1).asDiagonal()) + Bd * Bd.transpose();
            check_solve<T>(low_rank_view<const T>{alpha.data(), B.data(), D, R}, Hd, g);
        }
}

TEST_CASE("hessian/solve: non positive definite input raises hosm::error naming the value") {
    double x[2] = {0, 0};
    const double rhs[2] = {1, 1};
    // full: eigenvalues 3 and -1
    const double h[4] = {1, 2, 2, 1};
    const full_view<const double> F{h, 2};
    const std::string mf = message_of([&] { solve(F, rhs, x); });
    CHECK(mf.find("hessian::solve<full>") != std::string::npos);
    const std::string key = "argument 'H' is not positive definite: smallest eigenvalue = ";
    REQUIRE(mf.find(key) != std::string::npos);
    CHECK(std::stod(mf.substr(mf.find(key) + key.size())) == doctest::Approx(-1.0));
    CHECK_THROWS_AS(logdet(F), hosm::error);
    const double hs[4] = {2, 0, 0, 0};  // semidefinite
    CHECK_THROWS_AS(solve(full_view<const double>{hs, 2}, rhs, x), hosm::error);
    const double ha[4] = {2, 1, 0, 2};  // not symmetric
    CHECK(message_of([&] {
              solve(full_view<const double>{ha, 2}, rhs, x);
          }).find("argument 'H' is not symmetric") != std::string::npos);
    const double hn[4] = {2, 0, 0, std::numeric_limits<double>::quiet_NaN()};
    CHECK_THROWS_AS(solve(full_view<const double>{hn, 2}, rhs, x), hosm::error);
    // diagonal
    const double d[2] = {1, -0.5};
    CHECK(message_of([&] {
              solve(diagonal_view<const double>{d, 2}, rhs, x);
          }).find("argument 'H' is not positive definite: d[1] = -0.5") != std::string::npos);
    CHECK_THROWS_AS(logdet(diagonal_view<const double>{d, 2}), hosm::error);
    const double d0[2] = {1, 0};
    CHECK_THROWS_AS(solve(diagonal_view<const double>{d0, 2}, rhs, x), hosm::error);
    // low rank: alpha <= 0 is refused (the Woodbury form needs diag(alpha) > 0)
    const double alpha[4] = {1, 1, 1, -0.2}, B[4] = {1, 0, 0, 1};
    double x4[4];
    const double rhs4[4] = {1, 2, 3, 4};
    const low_rank_view<const double> L{alpha, B, 4, 1};
    CHECK(message_of([&] {
              solve(L, rhs4, x4);
          }).find("argument 'H' is not positive definite: alpha[3] = -0.2") != std::string::npos);
    CHECK_THROWS_AS(logdet(L), hosm::error);
    const double alpha0[4] = {1, 0, 1, 1};
    CHECK_THROWS_AS(solve(low_rank_view<const double>{alpha0, B, 4, 1}, rhs4, x4), hosm::error);
}

TEST_CASE("hessian/solve: bad right-hand sides and overflowing solutions raise hosm::error") {
    const double d[2] = {1, 2};
    double x[2];
    const double bad[2] = {1, std::numeric_limits<double>::infinity()};
    CHECK(message_of([&] {
              solve(diagonal_view<const double>{d, 2}, bad, x);
          }).find("argument 'rhs'") != std::string::npos);
    const double tiny[2] = {1e-300, 1};
    const double big[2] = {1e10, 1};
    CHECK(message_of([&] {
              solve(diagonal_view<const double>{tiny, 2}, big, x);
          }).find("numerically singular") != std::string::npos);
    const double rhs[2] = {1, 1};
    CHECK_THROWS_AS(solve(diagonal_view<const double>{d, 2}, rhs, x, -1), hosm::error);
    CHECK_THROWS_AS(solve(diagonal_view<const double>{d, 0}, rhs, x), hosm::error);
    solve(diagonal_view<const double>{d, 2}, rhs, x, 0);  // no right-hand side: a no-op
}
#endif
