#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include <hosm/models/init_scheme.hpp>

using namespace hosm;
using namespace hosm::models;

namespace {
struct moments {
    double mean = 0, var = 0, max_abs = 0;
};
moments draw(init_scheme scheme, index_t in, index_t out, bool bias, int n) {
    const random::stream s{11, 3};
    double sum = 0, sq = 0, mx = 0;
    for (int k = 0; k < n; ++k) {
        const double v = init_draw<double>(scheme, s, static_cast<std::uint64_t>(k), in, out, bias);
        sum += v;
        sq += v * v;
        mx = std::fmax(mx, std::fabs(v));
    }
    return {sum / n, sq / n - (sum / n) * (sum / n), mx};
}
}  // namespace

TEST_CASE("models/init_scheme: scales of every scheme") {
    // n = 20000 draws: the sample variance has relative standard error
    // sqrt(2 / n) = 1% (normal) and less for the uniform; tolerance 5% (5 sigma).
    const int n = 20000;
    const index_t in = 16, out = 48;
    const moments u = draw(init_scheme::pytorch, in, out, false, n);
    CHECK(u.max_abs <= 1.0 / std::sqrt(16.0));
    CHECK(u.var == doctest::Approx(1.0 / (3.0 * in)).epsilon(0.05));  // U(-a, a): a^2 / 3
    const moments ub = draw(init_scheme::pytorch, in, out, true, n);
    CHECK(ub.var == doctest::Approx(1.0 / (3.0 * in)).epsilon(0.05));
    CHECK(draw(init_scheme::lecun_normal, in, out, false, n).var ==
          doctest::Approx(1.0 / in).epsilon(0.05));
    CHECK(draw(init_scheme::glorot_normal, in, out, false, n).var ==
          doctest::Approx(2.0 / (in + out)).epsilon(0.05));
    CHECK(draw(init_scheme::he_normal, in, out, false, n).var ==
          doctest::Approx(2.0 / in).epsilon(0.05));
    for (init_scheme s : {init_scheme::lecun_normal, init_scheme::glorot_normal, init_scheme::he_normal}) {
        const moments b = draw(s, in, out, true, 100);
        CHECK(b.max_abs == 0.0);  // zero biases
    }
}

TEST_CASE("models/init_scheme: deterministic in (stream, index), float and double agree") {
    const random::stream s{5, 1};
    CHECK(init_draw<double>(init_scheme::he_normal, s, 7, 4, 4, false) ==
          init_draw<double>(init_scheme::he_normal, s, 7, 4, 4, false));
    CHECK(init_draw<double>(init_scheme::he_normal, s, 7, 4, 4, false) !=
          init_draw<double>(init_scheme::he_normal, s, 8, 4, 4, false));
    CHECK(init_draw<float>(init_scheme::pytorch, s, 3, 9, 2, false) ==
          doctest::Approx(init_draw<double>(init_scheme::pytorch, s, 3, 9, 2, false)).epsilon(1e-6));
    CHECK(std::string(name(init_scheme::glorot_normal)) == "glorot_normal");
    CHECK_THROWS_AS(name(static_cast<init_scheme>(9)), hosm::error);
    CHECK_THROWS_AS(init_draw<double>(static_cast<init_scheme>(9), s, 0, 1, 1, false), hosm::error);
}
