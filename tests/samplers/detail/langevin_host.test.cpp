// Tests of hosm/samplers/detail/langevin_host.hpp (the host ULA kernel):
//  - philox16 gives exactly random::philox_block's bits, lane by lane;
//  - box_muller16 gives random::box_muller's normals to a few ulp;
//  - on the benchmarked configuration (2-d ring of K = 8 Gaussians, 10,000
//    float chains, eps = 0.01) a step equals Eq. (19) recomputed per chain with
//    the scalar score and stream.normal (float tolerance), on cpp and on omp
//    with 2 threads, bitwise the same on both.
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <cstdint>
#include <random>

#include <hosm/backend/cpp.hpp>
#include <hosm/backend/omp.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/random/normal.hpp>
#include <hosm/random/philox.hpp>
#include <hosm/samplers/langevin.hpp>
#include <hosm/targets/toys.hpp>

using namespace hosm;

TEST_CASE("samplers/detail/langevin_host: philox16 is Random123's Philox4x32-10, lane by lane") {
    std::mt19937_64 g(3);
    samplers::detail::philox16 b;
    for (int rep = 0; rep < 50; ++rep) {
        std::uint32_t c2[16], c3[16];
        for (int l = 0; l < 16; ++l) {
            const std::uint64_t idx = g();
            c2[l] = std::uint32_t(idx);
            c3[l] = std::uint32_t(idx >> 32);
        }
        const std::uint64_t seed = g();
        const std::uint32_t id = std::uint32_t(g()), block = std::uint32_t(g()) & 0x7fffffffu;
        const auto dom = rep % 2 ? random::domain::normal : random::domain::uniform;
        b.run(block | std::uint32_t(dom), id, c2, c3, seed);
        for (int l = 0; l < 16; ++l) {
            const random::block128 r =
                random::philox_block(seed, id, (std::uint64_t(c3[l]) << 32) | c2[l], block, dom);
            for (int w = 0; w < 4; ++w) CHECK(b.w[w][l] == r.w[w]);
        }
    }
}

TEST_CASE_TEMPLATE("samplers/detail/langevin_host: box_muller16 matches random::box_muller", T, float,
                   double) {
    std::mt19937 g(5);
    samplers::detail::philox16 b;
    for (int rep = 0; rep < 200; ++rep) {
        for (auto& row : b.w)
            for (auto& x : row) x = std::uint32_t(g());
        Eigen::Array<T, 16, 1> n0, n1;
        samplers::detail::box_muller16<T>(b, n0, n1);
        for (int l = 0; l < 16; ++l) {
            T r0, r1;
            random::box_muller<T>(random::block128{{b.w[0][l], b.w[1][l], b.w[2][l], b.w[3][l]}}, r0, r1);
            const T tol = std::is_same_v<T, float> ? T(2e-6) : T(1e-14);
            CHECK(std::abs(n0(l) - r0) <= tol * (1 + std::abs(r0)));
            CHECK(std::abs(n1(l) - r1) <= tol * (1 + std::abs(r1)));
        }
    }
}

TEST_CASE("samplers/detail/langevin_host: the benchmarked mixture chains follow Eq. (19)") {
    const index_t N = 10000;
    const float eps = 0.01f;
    const auto tc = targets::ring_of_gaussians<float, backend::cpp>();
    const auto to = targets::ring_of_gaussians<float, backend::omp>();
    matrix<float> x0 = matrix<float>::Random(2, N) * 6.0f;
    samplers::chains<float, backend::cpp> cc(x0);
    samplers::chains<float, backend::omp> co(x0);
    const random::stream s{3, 0};
    samplers::langevin<float, backend::cpp> uc(eps, s);
    samplers::langevin<float, backend::omp> uo(eps, s);
    const int threads = omp_get_max_threads();
    omp_set_num_threads(2);
    for (int t = 0; t < 3; ++t) {
        uc.step(tc, cc);
        uo.step(to, co);
    }
    omp_set_num_threads(threads);
    CHECK(cc.to_eigen() == co.to_eigen());
    // recompute per chain: scalar score (mixture_score) and stream.normal
    matrix<float> x = x0;
    const auto v = tc.view();
    double worst = 0;
    for (std::uint64_t t = 0; t < 3; ++t)
        for (index_t j = 0; j < N; ++j) {
            float g[2];
            v.score(x.col(j).data(), g);
            const std::uint64_t key = (t << 32) | std::uint64_t(j);
            for (index_t k = 0; k < 2; ++k)
                x(k, j) += eps / 2 * g[k] + std::sqrt(eps) * s.normal<float>(key, std::uint32_t(k));
        }
    const matrix<float> got = cc.to_eigen();
    for (index_t j = 0; j < N; ++j)
        for (index_t k = 0; k < 2; ++k)
            worst = std::max(worst, double(std::abs(got(k, j) - x(k, j))) / (1.0 + std::abs(x(k, j))));
    CHECK(worst <= 1e-5);
}
