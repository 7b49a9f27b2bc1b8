#include "support/backends.hpp"

#include <cmath>
#include <hosm/backend/batch.hpp>
#include <hosm/random/stream.hpp>

#if defined(HOSM_HAS_OPENMP) && !defined(__CUDACC__)
#include <omp.h>
#endif

using namespace hosm;

TEST_CASE("random/philox: known-answer test of Random123's Philox4x32-10") {
    // Random123's published known answer for counter = key = 0.
    r123::Philox4x32 g;
    r123::Philox4x32::ctr_type c = {{0, 0, 0, 0}};
    r123::Philox4x32::key_type k = {{0, 0}};
    const auto r = g(c, k);
    CHECK(r[0] == 0x6627e8d5u);
    CHECK(r[1] == 0xe169c58du);
    CHECK(r[2] == 0xbc57ac4cu);
    CHECK(r[3] == 0x9b00dbd8u);
}

TEST_CASE("random/uniform: bit transforms stay inside (0, 1)") {
    using random::bits_to_open_unit;
    CHECK(bits_to_open_unit<double>(0) > 0.0);
    CHECK(bits_to_open_unit<double>(~std::uint64_t(0)) < 1.0);
    CHECK(bits_to_open_unit<float>(0) > 0.0f);
    CHECK(bits_to_open_unit<float>(~std::uint64_t(0)) < 1.0f);
    CHECK(std::isfinite(std::log(bits_to_open_unit<float>(0))));
}

TEST_CASE("random/stream: a draw depends only on its key") {
    const random::stream a{42, 0}, b{42, 1}, c{43, 0};
    CHECK(a.normal<double>(7, 3) == a.normal<double>(7, 3));
    CHECK(a.normal<double>(7, 3) != a.normal<double>(7, 4));
    CHECK(a.normal<double>(7, 3) != a.normal<double>(8, 3));
    CHECK(a.normal<double>(7, 3) != b.normal<double>(7, 3));
    CHECK(a.normal<double>(7, 3) != c.normal<double>(7, 3));
    CHECK(a.uniform<double>(7, 3) != a.uniform<double>(7, 2));
    // 64-bit sample indices are honoured: index 2^32 differs from index 0
    CHECK(a.uniform<double>(0, 0) != a.uniform<double>(std::uint64_t(1) << 32, 0));
}

TEST_CASE_TEMPLATE("random/stream: fills are identical on every back end", B, HOSM_TEST_BACKENDS) {
    const random::stream s{2021, 5};
    const index_t D = 7, N = 513;  // odd D exercises the unpaired last draw
    batch<double, B> x(D, N);
    random::fill_normal<B>(s, x.view(), 100);
    const matrix<double> h = x.to_eigen();
    for (index_t j = 0; j < N; ++j)
        for (index_t k = 0; k < D; ++k)
            REQUIRE(h(k, j) == s.normal<double>(100 + j, static_cast<std::uint32_t>(k)));
    batch<float, B> u(3, N);
    random::fill_uniform<B>(s, u.view());
    const matrix<float> hu = u.to_eigen();
    for (index_t j = 0; j < N; ++j)
        for (index_t k = 0; k < 3; ++k)
            REQUIRE(hu(k, j) == s.uniform<float>(j, static_cast<std::uint32_t>(k)));
}

#if !defined(__CUDACC__)
TEST_CASE("random/stream: omp fills at 1 and 2 threads equal the cpp fill") {
    const random::stream s{9, 1};
    batch<float> ref(16, 4096);
    random::fill_normal<backend::cpp>(s, ref.view());
    for (int threads : {1, 2}) {
#if defined(HOSM_HAS_OPENMP)
        omp_set_num_threads(threads);
#endif
        batch<float> x(16, 4096);
        random::fill_normal<backend::omp>(s, x.view());
        CHECK(x.to_eigen() == ref.to_eigen());
    }
}

TEST_CASE("random/normal: moments of the normal transform") {
    // 4e5 draws: the standard errors of mean, variance, skewness and excess
    // kurtosis are about 0.0016, 0.0022, 0.0039 and 0.0077; check within ~5 of them.
    const random::stream s{7, 3};
    const index_t N = 200000;
    batch<double> x(2, N);
    random::fill_normal<backend::cpp>(s, x.view());
    const matrix<double> h = x.to_eigen();
    const Eigen::ArrayXd v = Eigen::Map<const Eigen::ArrayXd>(h.data(), h.size());
    const double n = double(v.size());
    const double mean = v.sum() / n;
    const Eigen::ArrayXd c = v - mean;
    const double var = c.square().sum() / n;
    const double skew = c.cube().sum() / n / std::pow(var, 1.5);
    const double kurt = c.square().square().sum() / n / (var * var) - 3.0;
    CHECK(std::abs(mean) < 0.008);
    CHECK(std::abs(var - 1.0) < 0.011);
    CHECK(std::abs(skew) < 0.02);
    CHECK(std::abs(kurt) < 0.04);
    // the two members of a Box-Muller pair are uncorrelated
    const double corr = (h.row(0).array() * h.row(1).array()).mean();
    CHECK(std::abs(corr) < 0.012);
    // uniforms: mean 1/2, variance 1/12
    batch<float> u(1, N);
    random::fill_uniform<backend::cpp>(s, u.view());
    const Eigen::ArrayXf uu = u.to_eigen().row(0).transpose().array();
    CHECK(std::abs(uu.mean() - 0.5f) < 0.004f);
    CHECK(std::abs((uu - 0.5f).square().mean() - 1.0f / 12) < 0.002f);
    CHECK(uu.minCoeff() > 0.0f);
    CHECK(uu.maxCoeff() < 1.0f);
}
#endif
