// Tests of hosm/tweedie/denoise.hpp: posterior mean (seed 000 Eq. 4) and
// structured posterior covariance (Eq. 18) from a score source or a score
// model, exact on a Gaussian prior.
//
// Oracle: prior x ~ N(mu, Sigma), x~ = x + sigma z. Then q_sigma = N(mu, Sigma +
// sigma^2 I) and the posterior is Gaussian with
//   C = Cov[x | x~] = (Sigma^-1 + I / sigma^2)^-1,   E[x | x~] = C (Sigma^-1 mu + x~ / sigma^2),
// computed here independently of Tweedie's formula. Its scores are exact both
// from targets::gaussian::smoothed(sigma) and from a depth-1 (linear)
// mlp_score whose weights are set to s1(x) = -Q (x - mu), s2 = -Q,
// Q = (Sigma + sigma^2 I)^-1. Tolerance: 1e-11 relative (double rounding of
// 3 x 3 inverses and of the model's GEMMs); float: 1e-4.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <string>

#include <hosm/hessian/batch.hpp>
#include <hosm/models/mlp_score.hpp>
#include <hosm/targets/gaussian.hpp>
#include <hosm/tweedie/denoise.hpp>

#include "support/backends.hpp"
#include "support/errors.hpp"

using namespace hosm;
using Mat = Eigen::MatrixXd;
using Vec = Eigen::VectorXd;

namespace {

using hosm_test::message_of;

double noise(int i) { return std::sin(12.9898 * i + 78.233 * std::cos(0.37 * i)); }

struct gaussian_prior {
    static constexpr int D = 3;
    double sigma = 0.6;
    Vec mu;
    Mat Sigma, Q, C;
    gaussian_prior() {
        Mat A(D, D);
        for (int i = 0; i < D * D; ++i) A.data()[i] = noise(i + 5);
        Sigma = A * A.transpose() + 0.4 * Mat::Identity(D, D);
        mu = Vec(D);
        for (int i = 0; i < D; ++i) mu(i) = noise(50 + i);
        Q = (Sigma + sigma * sigma * Mat::Identity(D, D)).inverse();
        C = (Sigma.inverse() + Mat::Identity(D, D) / (sigma * sigma)).inverse();
    }
    Vec mean(const Vec& xt) const { return C * (Sigma.inverse() * mu + xt / (sigma * sigma)); }
    Mat points(index_t n) const {
        Mat X(D, n);
        for (index_t j = 0; j < n; ++j)
            for (int i = 0; i < D; ++i) X(i, j) = 3 * noise(300 + int(j) * D + i);
        return X;
    }
};

/// Sets a depth-1 mlp_score to the exact Gaussian scores s1 = -Q x + Q mu, s2 = -Q
/// (s2 head: zero weights, bias = the structure's parameters of -Q).
template <class S, class T, class B>
void set_exact_gaussian(models::mlp_score<T, S, B>& m, const gaussian_prior& g) {
    const index_t D = g.D;
    auto& p = m.parameters();
    for (std::size_t k = 0; k < p.size(); ++k) p[k] = T(0);
    const auto& n1 = m.network(0);
    const index_t o1 = m.network_offset(0);
    const Vec b1 = g.Q * g.mu;
    for (index_t i = 0; i < D; ++i) {
        for (index_t k = 0; k < D; ++k) p[o1 + n1.weight_offset(0) + i + k * D] = T(-g.Q(i, k));
        p[o1 + n1.bias_offset(0) + i] = T(b1(i));
    }
    const auto& n2 = m.network(1);
    const index_t o2 = m.network_offset(1) + n2.bias_offset(0);
    const Mat H = -g.Q;
    if constexpr (std::is_same_v<S, hessian::full>) {
        index_t k = 0;
        for (index_t j = 0; j < D; ++j)
            for (index_t i = j; i < D; ++i) p[o2 + k++] = T(H(i, j));
    } else if constexpr (std::is_same_v<S, hessian::diagonal>) {
        for (index_t i = 0; i < D; ++i) p[o2 + i] = T(H(i, i));
    } else {
        // H = diag(alpha) + B B^T with alpha = -lambda_max(Q), B B^T = lambda_max I - Q (PSD).
        Eigen::SelfAdjointEigenSolver<Mat> es(g.Q);
        const double lmax = es.eigenvalues().maxCoeff();
        Eigen::SelfAdjointEigenSolver<Mat> es2(lmax * Mat::Identity(D, D) - g.Q);
        const Mat Bm = es2.eigenvectors() *
                       es2.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal();
        for (index_t i = 0; i < D; ++i) p[o2 + i] = T(-lmax);
        for (index_t k = 0; k < D * D; ++k) p[o2 + D + k] = T(Bm.data()[k]);
    }
}

/// A HessianSource whose s1 is NaN at sample 1 (for the error path).
struct nan_source {
    index_t dim() const { return 3; }
    void score(batch_view<const double> x, batch_view<double> out) const {
        for (index_t k = 0; k < x.size(); ++k) out.data[k] = 0.0;
        if (x.count > 1) out(2, 1) = std::numeric_limits<double>::quiet_NaN();
    }
    void hessian(batch_view<const double>, hessian::batch<hessian::full, double>& H) const {
        for (index_t k = 0; k < H.dim() * H.dim() * H.count(); ++k) H.data()[k] = -1.0;
    }
    template <int R>
    void hessian(batch_view<const double>, hessian::batch<hessian::low_rank<R>, double>&) const {}
};

template <class S, class T, class B>
void check_against_oracle(const gaussian_prior& g, const Mat& X, const tweedie::denoised<S, T, B>& r,
                          double tol) {
    const Mat M = r.mean.to_eigen().template cast<double>();
    for (index_t j = 0; j < X.cols(); ++j) {
        const Vec want = g.mean(X.col(j));
        CHECK((M.col(j) - want).norm() <= tol * want.norm());
        const Mat got = r.covariance.dense(j).template cast<double>();
        if constexpr (std::is_same_v<S, hessian::diagonal>) {
            CHECK((got.diagonal() - g.C.diagonal()).norm() <= tol * g.C.norm());
            CHECK((got - Mat(got.diagonal().asDiagonal())).norm() == 0.0);
        } else {
            CHECK((got - g.C).norm() <= tol * g.C.norm());
        }
    }
}

}  // namespace

TEST_CASE_TEMPLATE("tweedie/denoise: exact smoothed Gaussian gives the closed-form posterior", B,
                   HOSM_TEST_BACKENDS) {
    const gaussian_prior g;
    const targets::gaussian<double, B> prior(g.mu, g.Sigma);
    const auto q = prior.smoothed(g.sigma);
    const Mat X = g.points(7);
    const batch<double, B> xt(X);
    check_against_oracle(g, X, tweedie::denoise<hessian::full>(q, xt, g.sigma), 1e-11);
    check_against_oracle(g, X, tweedie::denoise<hessian::diagonal>(q, xt, g.sigma), 1e-11);
    check_against_oracle(g, X, tweedie::denoise<hessian::low_rank<hosm::dynamic>>(q, xt, g.sigma),
                         1e-11);
    // into caller's batches, fixed rank >= low_rank_rank()
    batch<double, B> mean(g.D, 7);
    hessian::batch<hessian::low_rank<3>, double, B> cov(g.D, 7);
    tweedie::denoise(q, xt, g.sigma, mean, cov);
    check_against_oracle(g, X, tweedie::denoised<hessian::low_rank<3>, double, B>{mean, cov}, 1e-11);
}

TEST_CASE_TEMPLATE("tweedie/denoise: an exact linear mlp_score gives the closed-form posterior", B,
                   HOSM_TEST_BACKENDS) {
    const gaussian_prior g;
    const Mat X = g.points(9);
    const batch<double, B> xt(X);
    {
        models::mlp_score<double, hessian::full, B> m({.dim = g.D, .depth = 1});
        set_exact_gaussian(m, g);
        check_against_oracle(g, X, tweedie::denoise(m, xt, g.sigma), 1e-11);
    }
    {
        models::mlp_score<double, hessian::diagonal, B> m({.dim = g.D, .depth = 1});
        set_exact_gaussian(m, g);
        check_against_oracle(g, X, tweedie::denoise(m, xt, g.sigma), 1e-11);
    }
    {
        models::mlp_score<double, hessian::low_rank<hosm::dynamic>, B> m(
            {.dim = g.D, .depth = 1, .rank = g.D});
        set_exact_gaussian(m, g);
        const auto r = tweedie::denoise(m, xt, g.sigma);
        CHECK(r.covariance.rank() == g.D);
        check_against_oracle(g, X, r, 1e-11);
        // into caller's batches
        batch<double, B> mean(g.D, 9);
        auto cov = m.make_s2(9);
        tweedie::denoise(m, xt, g.sigma, mean, cov);
        CHECK((mean.to_eigen() - r.mean.to_eigen()).norm() == 0.0);
    }
}

TEST_CASE("tweedie/denoise: float model and source") {
    const gaussian_prior g;
    const Mat X = g.points(4);
    const batch<float> xt(Mat(X).cast<float>().eval());
    models::mlp_score<float, hessian::full> m({.dim = g.D, .depth = 1});
    set_exact_gaussian(m, g);
    check_against_oracle(g, X, tweedie::denoise(m, xt, 0.6), 1e-4);
    const targets::gaussian<float> prior(g.mu.cast<float>(), g.Sigma.cast<float>());
    check_against_oracle(g, X, tweedie::denoise<hessian::full>(prior.smoothed(0.6f), xt, 0.6), 1e-4);
}

TEST_CASE("tweedie/denoise: bad input raises hosm::error naming it") {
    const gaussian_prior g;
    const auto q = targets::gaussian<double>(g.mu, g.Sigma).smoothed(g.sigma);
    const batch<double> xt(g.points(3));
    batch<double> mean(g.D, 3);
    hessian::batch<hessian::full, double> cov(g.D, 3);
    CHECK(message_of([&] { tweedie::denoise(q, xt, 0.0, mean, cov); }).find("sigma") != std::string::npos);
    CHECK(message_of([&] { tweedie::denoise(q, xt, -1.0, mean, cov); }).find("sigma") != std::string::npos);
    CHECK(message_of([&] {
              tweedie::denoise<hessian::full>(q, xt, std::numeric_limits<double>::quiet_NaN());
          }).find("sigma") != std::string::npos);
    // dimension mismatch between x_tilde and the source
    const batch<double> x2(2, 3);
    const std::string dm = message_of([&] { tweedie::denoise<hessian::full>(q, x2, 0.5); });
    CHECK(dm.find("dimension mismatch") != std::string::npos);
    CHECK(dm.find("x_tilde") != std::string::npos);
    // wrong output shapes
    batch<double> mean4(g.D, 4);
    CHECK(message_of([&] { tweedie::denoise(q, xt, 0.5, mean4, cov); }).find("mean (count)") !=
          std::string::npos);
    hessian::batch<hessian::full, double> cov2(2, 3);
    CHECK(message_of([&] { tweedie::denoise(q, xt, 0.5, mean, cov2); }).find("cov (dim)") !=
          std::string::npos);
    // no samples
    const batch<double> x0(g.D, 0);
    CHECK(message_of([&] { tweedie::denoise<hessian::full>(q, x0, 0.5); }).find("x_tilde") !=
          std::string::npos);
    // non-finite x_tilde, named by sample
    Mat Xb = g.points(3);
    Xb(1, 2) = std::numeric_limits<double>::infinity();
    const std::string nf = message_of([&] { tweedie::denoise<hessian::full>(q, batch<double>(Xb), 0.5); });
    CHECK(nf.find("x_tilde") != std::string::npos);
    CHECK(nf.find("sample 2") != std::string::npos);
    // a source returning a NaN score is reported, not passed on
    const std::string ns = message_of([&] { tweedie::denoise<hessian::full>(nan_source{}, xt, 0.5); });
    CHECK(ns.find("s1") != std::string::npos);
    CHECK(ns.find("sample 1") != std::string::npos);
    // a model whose s2 head produces NaN
    models::mlp_score<double, hessian::diagonal> m({.dim = g.D, .depth = 1});
    set_exact_gaussian(m, g);
    m.parameters()[m.network_offset(1) + m.network(1).bias_offset(0)] =
        std::numeric_limits<double>::quiet_NaN();
    const std::string nm = message_of([&] { tweedie::denoise(m, xt, 0.5); });
    CHECK(nm.find("s2") != std::string::npos);
    // a model of another dimension
    models::mlp_score<double, hessian::diagonal> m2({.dim = 2, .depth = 1});
    CHECK(message_of([&] { tweedie::denoise(m2, xt, 0.5); }).find("dimension mismatch") !=
          std::string::npos);
    // low_rank<dynamic> without a rank from the source
    CHECK(message_of([&] { tweedie::denoise<hessian::low_rank<hosm::dynamic>>(nan_source{}, xt, 0.5); })
              .find("rank") != std::string::npos);
}
