#include "support/backends.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/models/energy_mlp.hpp>
#include <hosm/objectives/sm.hpp>
#include <hosm/objectives/ssm.hpp>

using namespace hosm;
using hosm::models::activation;
using hosm::models::energy_mlp;
using hosm::objectives::projection;

namespace {

/// A Gaussian N(mu, A^-1) with the exact quadratic energy E = (x - mu)^T A (x - mu) / 2:
/// s(x) = -A (x - mu), J_s = -A.
struct gaussian_oracle {
    matrix<double> A;
    vector<double> mu;
    explicit gaussian_oracle(index_t D) {
        std::mt19937_64 g(17);
        std::normal_distribution<double> n;
        matrix<double> L(D, D);
        for (index_t k = 0; k < L.size(); ++k) L.data()[k] = n(g) / std::sqrt(double(D));
        A = L * L.transpose() + matrix<double>::Identity(D, D);
        mu = vector<double>::LinSpaced(D, -0.5, 0.5);
    }
    matrix<double> score(const matrix<double>& x) const { return -A * (x.colwise() - mu); }
    /// x ~ N(mu, A^-1) from a Cholesky factor of A.
    matrix<double> sample(index_t N, std::uint64_t seed) const {
        std::mt19937_64 g(seed);
        std::normal_distribution<double> n;
        matrix<double> z(A.rows(), N);
        for (index_t k = 0; k < z.size(); ++k) z.data()[k] = n(g);
        const Eigen::LLT<matrix<double>> llt(A);
        return (llt.matrixU().solve(z)).colwise() + mu;  // U^T U = A: cov (U^T U)^-1
    }
};

std::string name_of(projection p) { return objectives::name(p); }

}  // namespace

TEST_CASE_TEMPLATE("objectives/ssm: projections are keyed, normalised and have E[u u^T] = I / D", B,
                   HOSM_TEST_BACKENDS) {
    // Monte Carlo over N = 20000 draws: each entry of the empirical E[u u^T] has standard
    // error <= sqrt(E u_i^2 u_k^2 / N) <= sqrt(3) / (D sqrt(N)) ~ 0.004 (D = 3); tolerance
    // 0.02 (5 standard errors).
    const index_t D = 3, N = 20000;
    for (projection kind : {projection::rademacher, projection::gaussian, projection::sphere}) {
        CAPTURE(name_of(kind));
        matrix<double> u(D, N), u2(D, N), u3(D, N);
        objectives::draw_projections<B>(kind, random::stream{9, 1}, view(u));
        objectives::draw_projections<B>(kind, random::stream{9, 1}, view(u2));
        objectives::draw_projections<B>(kind, random::stream{9, 1}, view(u3), 5);
        CHECK(u == u2);
        CHECK(u3.col(0) == u.col(5));  // sample j is stream index first + j
        CHECK(u3.col(1) != u.col(1));
        const matrix<double> second = u * u.transpose() / double(N);
        CHECK((second - matrix<double>::Identity(D, D) / double(D)).cwiseAbs().maxCoeff() < 0.02);
        if (kind != projection::gaussian)
            CHECK((u.colwise().norm().array() - 1.0).abs().maxCoeff() < 1e-14);
        if (kind == projection::rademacher)
            CHECK((u.array().abs() - 1.0 / std::sqrt(double(D))).abs().maxCoeff() < 1e-15);
    }
    matrix<double> u(D, 4);
    CHECK_THROWS_AS(objectives::draw_projections<B>(static_cast<projection>(9), random::stream{}, view(u)),
                    hosm::error);
}

TEST_CASE("objectives/ssm: value from a score and its Jacobian-vector products") {
    // closed form of Eq. (3) with v = eps u: l = u^T J u + (u^T s)^2 / 2, to 1e-14.
    const index_t D = 4, N = 7;
    const gaussian_oracle g(D);
    const matrix<double> x = matrix<double>::Random(D, N), s = g.score(x);
    matrix<double> u(D, N);
    objectives::draw_projections(projection::sphere, random::stream{1, 3}, view(u));
    const matrix<double> ju = -g.A * u;
    double ref = 0;
    for (index_t j = 0; j < N; ++j) {
        const double proj = u.col(j).dot(s.col(j));
        ref += (-u.col(j).dot(g.A * u.col(j)) + proj * proj / 2) / N;
    }
    const objectives::ssm<double> obj(projection::sphere);
    CHECK(obj.kind() == projection::sphere);
    CHECK(objectives::loss(obj, view(s), view(u), view(ju)) == doctest::Approx(ref).epsilon(1e-14));
}

TEST_CASE("objectives/ssm: Hutchinson: E[SSM] = SM / D on a Gaussian target") {
    // x ~ N(mu, A^-1), exact quadratic energy. Per sample E_u l = (tr J + |s|^2/2) / D and
    // E_x SM = -tr A + tr(A^2 A^-1) / 2 = -tr(A) / 2. Checks, for every projection kind:
    //   D * mean(SSM) against mean(SM) on the same x (the difference has mean 0), and
    //   mean(SM) against -tr(A) / 2,
    // within 5 standard errors estimated from the per-sample values.
    const index_t D = 4, N = 40000;
    const gaussian_oracle g(D);
    const matrix<double> x = g.sample(N, 3), s = g.score(x);
    const matrix<double> J = [&] {
        matrix<double> j(D * D, N);
        for (index_t c = 0; c < N; ++c) j.col(c) = (-g.A).reshaped();
        return j;
    }();
    const double sm = objectives::loss(objectives::sm<double>(), view(s), view(J));
    // per-sample SM values for its standard error
    const vector<double> sm_j = (-g.A.trace() + 0.5 * s.colwise().squaredNorm().array()).matrix().transpose();
    const double sm_se = std::sqrt((sm_j.array() - sm).square().sum() / (N - 1) / N);
    CHECK(sm == doctest::Approx(sm_j.mean()).epsilon(1e-12));
    CHECK(std::abs(sm + g.A.trace() / 2) < 5 * sm_se);
    for (projection kind : {projection::rademacher, projection::gaussian, projection::sphere}) {
        CAPTURE(name_of(kind));
        matrix<double> u(D, N);
        objectives::draw_projections(kind, random::stream{77, 2}, view(u));
        const matrix<double> ju = -g.A * u;
        const double ssm = objectives::loss(objectives::ssm<double>(kind), view(s), view(u), view(ju));
        vector<double> diff(N);  // D l_j - sm_j: mean 0
        for (index_t j = 0; j < N; ++j) {
            const double proj = u.col(j).dot(s.col(j));
            diff[j] = D * (u.col(j).dot(ju.col(j)) + proj * proj / 2) - sm_j[j];
        }
        const double se = std::sqrt((diff.array() - diff.mean()).square().sum() / (N - 1) / N);
        CHECK(D * ssm - sm == doctest::Approx(diff.mean()).epsilon(1e-9));
        CHECK(std::abs(D * ssm - sm) < 5 * se);
    }
}

TEST_CASE_TEMPLATE("objectives/ssm: exact SSM of an energy MLP, value and parameter gradient", B,
                   HOSM_TEST_BACKENDS) {
    // value: the generic formula with s = score and J_s u = -hvp(u), both exact (1e-13);
    // gradient: central differences in theta (h = 1e-5: truncation ~1e-11, rounding ~1e-11;
    // tolerance 1e-6 relative to max(|g_k|, 0.01 max|g|) + 1e-10).
    const index_t D = 3, N = 5;
    energy_mlp<double, B> m(D, {6, 6}, activation::silu, random::stream{3, 3});
    const matrix<double> x = matrix<double>::Random(D, N);
    matrix<double> u(D, N), s(D, N), hu(D, N);
    objectives::draw_projections<B>(projection::rademacher, random::stream{8, 8}, view(u));
    m.score(view(x), view(s));
    m.hvp(view(x), view(u), view(hu));
    const matrix<double> ju = -hu;
    const objectives::ssm<double> obj;
    const double l = objectives::loss(obj, m, view(x), view(u));
    CHECK(l == doctest::Approx(objectives::loss<B>(obj, view(s), view(u), view(ju))).epsilon(1e-13));
    m.zero_gradients();
    CHECK(objectives::loss_and_gradient(obj, m, view(x), view(u)) == doctest::Approx(l).epsilon(1e-14));
    double* p = thrust::raw_pointer_cast(m.parameters().data());
    const auto g = m.gradients();
    double gmax = 0;
    for (double v : g) gmax = std::max(gmax, std::abs(v));
    REQUIRE(gmax > 0);
    // cpp checks every parameter; omp every 5th (same per-sample code; keeps the test fast)
    const std::size_t stride = std::is_same_v<B, backend::cpp> ? 1 : 5;
    for (std::size_t k = 0; k < g.size(); k += stride) {
        const double keep = p[k], h = 1e-5;
        p[k] = keep + h;
        const double fp = objectives::loss(obj, m, view(x), view(u));
        p[k] = keep - h;
        const double fm = objectives::loss(obj, m, view(x), view(u));
        p[k] = keep;
        CAPTURE(k);
        CHECK(std::abs((fp - fm) / (2 * h) - g[k]) <= 1e-6 * std::max(std::abs(g[k]), 1e-2 * gmax) + 1e-10);
    }
}

TEST_CASE("objectives/ssm: bad input raises hosm::error") {
    CHECK_THROWS_AS(objectives::ssm<double>(static_cast<projection>(-1)), hosm::error);
    const objectives::ssm<double> obj;
    matrix<double> s = matrix<double>::Random(3, 4), u = matrix<double>::Random(3, 4),
                   u2 = matrix<double>::Random(2, 4), empty(3, 0);
    CHECK_THROWS_AS(objectives::loss(obj, view(s), view(u2), view(u)), hosm::error);
    CHECK_THROWS_AS(objectives::loss(obj, view(s), view(u), view(u2)), hosm::error);
    CHECK_THROWS_AS(objectives::loss(obj, view(empty), view(empty), view(empty)), hosm::error);
    matrix<double> bad = s;
    bad(2, 3) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(objectives::loss(obj, view(bad), view(u), view(u)), hosm::error);
    CHECK_THROWS_AS(objectives::loss(obj, view(s), view(bad), view(u)), hosm::error);
    energy_mlp<double> m(3, {4});
    CHECK_THROWS_AS(objectives::loss(obj, m, view(s), view(u2)), hosm::error);
    CHECK_THROWS_AS(objectives::loss_and_gradient(obj, m, view(bad), view(u)), hosm::error);
    CHECK_THROWS_AS(objectives::loss_and_gradient(obj, m, view(s), view(bad)), hosm::error);
    CHECK_THROWS_AS(objectives::loss(obj, m, view(empty), view(empty)), hosm::error);
}
