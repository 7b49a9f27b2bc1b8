// Helpers shared by the target tests: central finite differences of a target's
// log density (for s1) and of its score (for s2), dense views of the Hessian
// structures, Monte Carlo moments, and a scaled comparison that reports.
//
// Finite differences (double): for f smooth, the central difference
//   (f(x + h e_i) - f(x - h e_i)) / (2 h) = f'(x) + h^2 f'''(xi) / 6
// has truncation error ~ h^2 |f'''| / 6 and rounding error ~ eps |f| / h.
// With h = 1e-4 (times max(1, |x_i|)) both are ~1e-9 .. 1e-12 relative to the
// magnitude of the derivatives for the O(1)-scaled targets of these tests,
// so the tests use
//   s1 vs FD of log p:  |err| <= 1e-6 * max(1, max |s1|, max |log p|)
//   s2 vs FD of s1:     |err| <= 1e-6 * max(1, max |s2|, max |s1|)
// (the FD of s1 has no catastrophic cancellation in log p, as s1 is exact).
// Measured on the targets of these tests (toys, 50-d logistics, 100-d
// correlated Gaussian): at most 1e-8 for s1 and 1e-7 for s2, so the bounds
// leave a margin of 10x to 100x. The low-rank form and the diagonal are
// exact rewritings of the full s2 and agree with it to rounding (measured
// <= 4e-15 of the magnitude): checked to 1e-12.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include <hosm/core/eigen.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/targets/detail/target_base.hpp>

namespace target_test {

using md = hosm::matrix<double>;
using vd = hosm::vector<double>;
using hosm::index_t;

inline double step(double xi) { return 1e-4 * std::max(1.0, std::abs(xi)); }

/// Central differences of log p at x: D-vector.
template <class Tg>
vd fd_score(const Tg& t, const vd& x) {
    const index_t D = x.size();
    md X(D, 2 * D);
    for (index_t i = 0; i < D; ++i) {
        X.col(2 * i) = x;
        X.col(2 * i + 1) = x;
        X(i, 2 * i) += step(x(i));
        X(i, 2 * i + 1) -= step(x(i));
    }
    const md f = t.log_density(X);
    vd g(D);
    for (index_t i = 0; i < D; ++i) {
        const double h = X(i, 2 * i) - X(i, 2 * i + 1);  // the representable 2h
        g(i) = (f(0, 2 * i) - f(0, 2 * i + 1)) / h;
    }
    return g;
}

/// Central differences of s1 at x: column j is d s1 / d x_j (D x D).
template <class Tg>
md fd_hessian(const Tg& t, const vd& x) {
    const index_t D = x.size();
    md X(D, 2 * D);
    for (index_t i = 0; i < D; ++i) {
        X.col(2 * i) = x;
        X.col(2 * i + 1) = x;
        X(i, 2 * i) += step(x(i));
        X(i, 2 * i + 1) -= step(x(i));
    }
    const md s = t.score(X);
    md H(D, D);
    for (index_t j = 0; j < D; ++j)
        H.col(j) = (s.col(2 * j) - s.col(2 * j + 1)) / (X(j, 2 * j) - X(j, 2 * j + 1));
    return H;
}

/// rows x cols numbers at p in back end B's memory, as a host matrix.
template <class B>
md host_copy(const double* p, index_t rows, index_t cols) {
    md m(rows, cols);
    hosm::targets::detail::copy_to_host<B>(p, rows * cols, m.data());
    return m;
}

/// diag(alpha) + B B^T.
inline md dense_low_rank(const std::pair<vd, md>& lr) {
    return md(lr.first.asDiagonal()) + lr.second * lr.second.transpose();
}

/// max |a - b| <= tol * scale, with a message on failure.
inline bool close(const md& a, const md& b, double tol, double scale = 1.0) {
    REQUIRE(a.rows() == b.rows());
    REQUIRE(a.cols() == b.cols());
    const double err = (a - b).cwiseAbs().maxCoeff();
    const bool ok = err <= tol * scale;
    if (!ok) MESSAGE("max abs error ", err, " > tol ", tol, " * scale ", scale);
    return ok;
}

inline double mag(const md& a) { return std::max(1.0, a.cwiseAbs().maxCoeff()); }

/// Checks s1 against FD of log p and every Hessian structure against FD of s1
/// at the columns of X; the low-rank form and the diagonal must also equal the
/// full Hessian (to 1e-12 of its magnitude: they are exact rewritings).
template <class Tg>
void check_derivatives(const Tg& t, const md& X) {
    for (index_t j = 0; j < X.cols(); ++j) {
        const vd x = X.col(j);
        CAPTURE(j);
        const md lp = t.log_density(md(x));
        const md s1 = t.score(md(x));
        const vd g = fd_score(t, x);
        CHECK(close(s1, g, 1e-6, std::max({1.0, s1.cwiseAbs().maxCoeff(), std::abs(lp(0, 0))})));
        const md H = t.hessian_full(x);
        const md Hfd = fd_hessian(t, x);
        const double sc = std::max({1.0, H.cwiseAbs().maxCoeff(), s1.cwiseAbs().maxCoeff()});
        CHECK(close(H, Hfd, 1e-6, sc));
        CHECK(close(H, H.transpose(), 1e-14, sc));
        const md d = t.hessian_diagonal(x);
        CHECK(close(d, md(H.diagonal()), 1e-12, sc));
        const auto lr = t.hessian_low_rank(x);
        CHECK(lr.second.cols() == t.low_rank_rank());
        CHECK(close(dense_low_rank(lr), H, 1e-12, sc));
    }
}

/// Sample mean and covariance of the columns of X.
inline std::pair<vd, md> moments(const md& X) {
    const vd m = X.rowwise().mean();
    const md C = X.colwise() - m;
    return {m, C * C.transpose() / double(X.cols() - 1)};
}

/// Sample moments against the exact ones, within z standard errors estimated
/// from the sample itself (valid for any distribution with finite fourth
/// moments): se(mean_i) = sd_i / sqrt(N) and
/// se(C_ij) = sd((x_i - m_i)(x_j - m_j)) / sqrt(N).
inline void check_moments(const md& X, const vd& mu, const md& Sigma, double z = 5.0) {
    const auto [m, C] = moments(X);
    const double N = double(X.cols());
    const md Xc = X.colwise() - m;
    for (index_t i = 0; i < mu.size(); ++i) {
        CAPTURE(i);
        CHECK(std::abs(m(i) - mu(i)) <= z * std::sqrt(C(i, i) / N));
        for (index_t j = 0; j < mu.size(); ++j) {
            CAPTURE(j);
            const Eigen::ArrayXd p = Xc.row(i).array() * Xc.row(j).array();
            const double sd = std::sqrt((p - p.mean()).square().sum() / (N - 1));
            CHECK(std::abs(C(i, j) - Sigma(i, j)) <= z * sd / std::sqrt(N));
        }
    }
}

/// Monte Carlo estimate of the smoothed density q_sigma(x) = E_z p(x - sigma z)
/// and of its score grad log q_sigma(x) = E_z[p s1(x - sigma z)] / E_z[p(x - sigma z)]
/// (differentiate under the expectation), from n normals of a fixed stream,
/// with delta-method standard errors: se(log q) = sd(w) / (sqrt(n) mean(w)) and
/// se(score_i) = sd(w (s1_i - score_i)) / (sqrt(n) mean(w)), w = p(x - sigma z).
struct mc_estimate {
    double log_q, se_log_q;
    vd score, se_score;
};

template <class Tg>
mc_estimate mc_smoothed(const Tg& p, double sigma, const vd& x, index_t n, std::uint64_t seed) {
    const index_t D = x.size();
    const hosm::random::stream st{seed, 77};
    md X(D, n);
    for (index_t j = 0; j < n; ++j)
        for (index_t i = 0; i < D; ++i)
            X(i, j) = x(i) - sigma * st.normal<double>(std::uint64_t(j), std::uint32_t(i));
    const md lp = p.log_density(X);
    const md s = p.score(X);
    const double mx = lp.maxCoeff();
    const Eigen::ArrayXd w = (lp.row(0).array() - mx).exp().transpose();
    const double mw = w.mean();
    mc_estimate e;
    e.log_q = mx + std::log(mw);
    e.se_log_q = std::sqrt((w - mw).square().sum() / double(n - 1) / double(n)) / mw;
    e.score = (s * w.matrix()) / w.sum();
    e.se_score.resize(D);
    for (index_t i = 0; i < D; ++i) {
        const Eigen::ArrayXd r = w * (s.row(i).transpose().array() - e.score(i));
        e.se_score(i) = std::sqrt((r - r.mean()).square().sum() / double(n - 1) / double(n)) / mw;
    }
    return e;
}

}  // namespace target_test
