// Tests of hosm/objectives/d2sm.hpp (seed 000 Eq. 13 and 17) on the cpp and omp
// back ends, for s2 of structure full, diagonal, low_rank<2> and low_rank<dynamic>:
//  - the loss equals a dense Eigen evaluation: the dense H of each sample
//    (hessian::batch::dense), E = H + s1 s1^T + (I - z z^T)/sigma^2, ||E||_F^2
//    (full, low-rank) or ||diag(H) + s1 o s1 + (1 - z o z)/sigma^2||^2 (diagonal);
//    1e-12 relative (sums of O(100) terms of size O(10));
//  - gradients equal central differences (h = 1e-6, 1e-6 relative, denoising_support.hpp)
//    and, for low-rank, the closed forms 2 diag(E)/N, 4 E B/N, 4 E s1/N (1e-12);
//  - at the exact s1, s2 of a Gaussian target the mean gradient in every output
//    entry is 0 within 4.5 standard errors (Monte Carlo, 20000 samples, fixed
//    seed; 4.5 allows for the ~30 entries tested at once), and a wrong s2 is
//    detected at > 10 standard errors;
//  - bad inputs raise hosm::error naming the argument.
#include "support/backends.hpp"
#include "objectives/denoising_support.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/objectives/d2sm.hpp>

using namespace hosm;
using namespace objtest;

namespace {

/// Dense seed formula: Eq. (13) for full / low-rank, Eq. (17) for diagonal.
template <class S, class B>
double dense_d2sm(const matrix<double>& s1, const hessian::batch<S, double, B>& s2,
                  const matrix<double>& z, double sigma) {
    const index_t D = s1.rows(), N = s1.cols();
    const matrix<double> I = matrix<double>::Identity(D, D);
    double sum = 0;
    for (index_t j = 0; j < N; ++j) {
        const matrix<double> H = s2.dense(j);
        const matrix<double> E = H + s1.col(j) * s1.col(j).transpose() +
                                 (I - z.col(j) * z.col(j).transpose()) / (sigma * sigma);
        if constexpr (std::is_same_v<S, diagonal>)
            sum += E.diagonal().squaredNorm();
        else
            sum += E.squaredNorm();
    }
    return sum / double(N);
}

template <class B, class S>
void check_dense() {
    INFO("structure ", std::string(S::name));
    rng_t g(31);
    const index_t D = 5, N = 4;
    const double sigma = 0.4;
    const matrix<double> s1 = randn(D, N, g), z = randn(D, N, g);
    auto s2 = make_s2<S, B>(D, N);
    fill_random(s2, g);
    const objectives::d2sm<double> obj(sigma);
    const double ref = dense_d2sm(s1, s2, z, sigma);
    CHECK(objectives::loss(obj, view(s1), s2, view(z)) == doctest::Approx(ref).epsilon(1e-12));
    matrix<double> g1(D, N);
    auto g2 = make_s2<S, B>(D, N);
    CHECK(objectives::loss_and_gradient<B>(obj, view(s1), s2, view(z), view(g1), g2) ==
          doctest::Approx(ref).epsilon(1e-12));
}

template <class B, class S>
void check_gradients() {
    INFO("structure ", std::string(S::name));
    rng_t g(32);
    const index_t D = 4, N = 3;
    const double sigma = 0.8;
    matrix<double> s1 = randn(D, N, g);
    const matrix<double> z = randn(D, N, g);
    auto s2 = make_s2<S, B>(D, N);
    fill_random(s2, g);
    const objectives::d2sm<double> obj(sigma);
    matrix<double> g1(D, N);
    auto g2 = make_s2<S, B>(D, N);
    objectives::loss_and_gradient(obj, view(s1), s2, view(z), view(g1), g2);
    auto f = [&] { return objectives::loss(obj, view(s1), s2, view(z)); };
    fd_check(f, s1.data(), s1.size(), g1.data(), "s1");
    const auto in = arrays(s2, "s2");
    const auto out = arrays(g2, "g2");
    for (std::size_t a = 0; a < in.size(); ++a) fd_check(f, in[a].p, in[a].n, out[a].p, in[a].name);

    if constexpr (hessian::is_low_rank_v<S>) {  // closed forms, E never formed by the library
        const index_t R = s2.rank();
        const matrix<double> I = matrix<double>::Identity(D, D);
        for (index_t j = 0; j < N; ++j) {
            const matrix<double> E = s2.dense(j) + s1.col(j) * s1.col(j).transpose() +
                                     (I - z.col(j) * z.col(j).transpose()) / (sigma * sigma);
            const Eigen::Map<const matrix<double>> Bj(s2.B_data() + j * D * R, D, R);
            const Eigen::Map<const matrix<double>> gB(g2.B_data() + j * D * R, D, R);
            const Eigen::Map<const vector<double>> ga(g2.alpha_data() + j * D, D);
            CHECK((ga - 2.0 * E.diagonal() / double(N)).norm() <= 1e-12 * ga.norm());
            CHECK((gB - 4.0 * E * Bj / double(N)).norm() <= 1e-12 * gB.norm());
            CHECK((g1.col(j) - 4.0 * E * s1.col(j) / double(N)).norm() <= 1e-12 * g1.col(j).norm());
        }
    }
}

/// max over output entries of |mean per-sample gradient| / standard error.
template <class S, class B>
double max_z_score(const matrix<double>& g1, hessian::batch<S, double, B>& g2, index_t N,
                   bool expect_zero) {
    double worst = 0;
    auto check_block = [&](const double* p, index_t rows, const std::string& name) {
        const matrix<double> per = double(N) * Eigen::Map<const matrix<double>>(p, rows, N);
        const mean_se ms = row_mean_se(per);
        for (index_t r = 0; r < rows; ++r) {
            if (ms.se(r) == 0) continue;  // an entry that is 0 in every sample
            const double zs = std::abs(ms.mean(r)) / ms.se(r);
            if (expect_zero) {
                INFO(name, "[", r, "]: mean ", ms.mean(r), ", standard error ", ms.se(r));
                CHECK(zs < 4.5);
            }
            worst = std::max(worst, zs);
        }
    };
    check_block(g1.data(), g1.rows(), "g1");
    for (const auto& a : arrays(g2, "g2")) check_block(a.p, a.n / N, a.name);
    return worst;
}

template <class B, class S>
void check_stationary() {
    INFO("structure ", std::string(S::name));
    rng_t g(33);
    const index_t D = 3, N = 20000, R = 2;
    const double sigma = 0.5;
    // s2 = -P = -(Sigma + sigma^2 I)^{-1} = -I + B0 B0^T: representable by every structure
    const matrix<double> B0 = randn(D, R, g, 0.3);
    const matrix<double> P = matrix<double>::Identity(D, D) - B0 * B0.transpose();
    const matrix<double> Sigma = P.inverse() - sigma * sigma * matrix<double>::Identity(D, D);
    const gaussian_case tc(randn(D, 1, g), Sigma, sigma);
    REQUIRE((tc.P - P).norm() < 1e-12);

    const matrix<double> x = tc.sample(N, g), z = randn(D, N, g);
    const matrix<double> s1 = tc.s1(x + sigma * z);
    auto make_exact = [&](double scale) {
        auto s2 = make_s2<S, B>(D, N);
        for (index_t j = 0; j < N; ++j) {
            if constexpr (std::is_same_v<S, full>)
                s2.set_sample(j, -scale * P);
            else if constexpr (std::is_same_v<S, diagonal>)
                Eigen::Map<vector<double>>(s2.data() + j * D, D) = -scale * P.diagonal();
            else
                s2.set_sample(j, vector<double>::Constant(D, -scale), std::sqrt(scale) * B0);
        }
        return s2;
    };
    const objectives::d2sm<double> obj(sigma);
    matrix<double> g1(D, N);
    auto g2 = make_s2<S, B>(D, N);
    const auto exact = make_exact(1.0);
    objectives::loss_and_gradient(obj, view(s1), exact, view(z), view(g1), g2);
    max_z_score(g1, g2, N, true);

    const auto wrong = make_exact(2.0);  // s2 off by -P
    objectives::loss_and_gradient(obj, view(s1), wrong, view(z), view(g1), g2);
    CHECK(max_z_score(g1, g2, N, false) > 10);
}

template <class B, class S>
void check_errors() {
    INFO("structure ", std::string(S::name));
    const index_t D = 3, N = 2;
    matrix<double> s1 = matrix<double>::Ones(D, N), z = matrix<double>::Ones(D, N), g1(D, N);
    auto s2 = make_s2<S, B>(D, N);
    auto g2 = make_s2<S, B>(D, N);
    const objectives::d2sm<double> obj(0.2);
    CHECK_THROWS_WITH_AS(objectives::d2sm<double>(0.0), doctest::Contains("'sigma'"), hosm::error);

    auto s2_dim = make_s2<S, B>(D + 1, N);
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s1), s2_dim, view(z)),
                         doctest::Contains("'s2'"), hosm::error);
    auto s2_count = make_s2<S, B>(D, N + 1);
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s1), s2_count, view(z)),
                         doctest::Contains("'s2'"), hosm::error);
    const matrix<double> z_bad = matrix<double>::Ones(D, N + 1);
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s1), s2, view(z_bad)), doctest::Contains("'z'"),
                         hosm::error);
    matrix<double> g1_bad(D - 1, N);
    CHECK_THROWS_WITH_AS(
        objectives::loss_and_gradient(obj, view(s1), s2, view(z), view(g1_bad), g2),
        doctest::Contains("'g1'"), hosm::error);
    if constexpr (std::is_same_v<S, low_rank<hosm::dynamic>>) {
        hessian::batch<S, double, B> g2_rank(D, N, 1);
        CHECK_THROWS_WITH_AS(
            objectives::loss_and_gradient(obj, view(s1), s2, view(z), view(g1), g2_rank),
            doctest::Contains("rank"), hosm::error);
    }
    CHECK_THROWS_WITH_AS(objectives::loss_and_gradient(obj, view(s1), s2, view(z), view(g1), s2),
                         doctest::Contains("must not alias"), hosm::error);
    CHECK_THROWS_WITH_AS(objectives::loss_and_gradient(obj, view(s1), s2, view(z), view(z), g2),
                         doctest::Contains("'z'"), hosm::error);
    z(2, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s1), s2, view(z)), doctest::Contains("'z'"),
                         hosm::error);
    z(2, 1) = 0.5;
    arrays(s2, "s2")[0].p[1] = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(objectives::loss_and_gradient(obj, view(s1), s2, view(z), view(g1), g2),
                         doctest::Contains("'s2'"), hosm::error);
}

template <class B, template <class, class> class Check>
void for_structures() {
    Check<B, full>{}();
    Check<B, diagonal>{}();
    Check<B, low_rank<2>>{}();
    Check<B, low_rank<hosm::dynamic>>{}();
}

template <class B, class S>
struct dense_case {
    void operator()() { check_dense<B, S>(); }
};
template <class B, class S>
struct gradient_case {
    void operator()() { check_gradients<B, S>(); }
};
template <class B, class S>
struct stationary_case {
    void operator()() { check_stationary<B, S>(); }
};
template <class B, class S>
struct error_case {
    void operator()() { check_errors<B, S>(); }
};

}  // namespace

TEST_CASE_TEMPLATE("objectives::d2sm: loss equals the dense formula", B, HOSM_TEST_BACKENDS) {
    for_structures<B, dense_case>();
}

TEST_CASE_TEMPLATE("objectives::d2sm: gradients match central differences and closed forms", B,
                   HOSM_TEST_BACKENDS) {
    for_structures<B, gradient_case>();
}

TEST_CASE_TEMPLATE("objectives::d2sm: the exact scores of a Gaussian are a stationary point", B,
                   HOSM_TEST_BACKENDS) {
    for_structures<B, stationary_case>();
}

TEST_CASE_TEMPLATE("objectives::d2sm: bad inputs raise hosm::error", B, HOSM_TEST_BACKENDS) {
    for_structures<B, error_case>();
}
