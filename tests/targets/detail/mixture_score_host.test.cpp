// Tests of hosm/targets/detail/mixture_score_host.hpp: the batched host score
// of a diagonal-covariance Gaussian mixture equals the per-sample
// mixture_score (float: 1e-5 relative; double: 1e-13), also far from every
// mode (where most exp underflow) and for batch sizes that are not multiples
// of the 16-sample block; results do not depend on the batch split.
#include "support/backends.hpp"

#include <cmath>
#include <vector>

#include <hosm/core/eigen.hpp>
#include <hosm/targets/toys.hpp>

using namespace hosm;

TEST_CASE_TEMPLATE("targets/detail/mixture_score_host: equals the per-sample score", T, float, double) {
    const auto p = targets::ring_of_gaussians<T, backend::cpp>();  // K = 8, the benchmarked target
    for (index_t N : {1, 15, 16, 37, 1000}) {
        CAPTURE(N);
        matrix<T> x = matrix<T>::Random(2, N) * T(6);
        if (N > 2) x.col(1) << T(60), T(-45);  // far out: every exp underflows but the nearest
        matrix<T> out(2, N);
        p.score(view(std::as_const(x)), view(out));
        const auto v = p.view();
        const T tol = std::is_same_v<T, float> ? T(1e-5) : T(1e-13);
        for (index_t j = 0; j < N; ++j) {
            T g[2];
            v.score(x.col(j).data(), g);
            for (int k = 0; k < 2; ++k) CHECK(std::abs(out(k, j) - g[k]) <= tol * (1 + std::abs(g[k])));
        }
        if (N == 37) {  // a batch split 20 + 17 gives the same numbers
            matrix<T> a(2, 20), b(2, 17);
            p.score(view(matrix<T>(x.leftCols(20))), view(a));
            p.score(view(matrix<T>(x.rightCols(17))), view(b));
            CHECK(a == out.leftCols(20));
            CHECK(b == out.rightCols(17));
        }
    }
}

TEST_CASE("targets/detail/mixture_score_host: a 5-d mixture with unequal diagonal covariances") {
    const index_t D = 5, K = 3;
    vector<double> w(K);
    w << 0.2, 0.5, 0.3;
    const matrix<double> mu = matrix<double>::Random(K, D) * 3.0;
    std::vector<matrix<double>> cov;
    for (index_t k = 0; k < K; ++k)
        cov.push_back((vector<double>::Random(D).array().abs() + 0.3).matrix().asDiagonal());
    const targets::gaussian_mixture<double, backend::omp> p(w, mu, cov);
    const matrix<double> x = matrix<double>::Random(D, 50) * 4.0;
    matrix<double> out(D, 50);
    p.score(view(x), view(out));
    const auto v = p.view();
    for (index_t j = 0; j < 50; ++j) {
        vector<double> g(D);
        v.score(x.col(j).data(), g.data());
        CHECK((out.col(j) - g).cwiseAbs().maxCoeff() <= 1e-12 * (1 + g.cwiseAbs().maxCoeff()));
    }
}
