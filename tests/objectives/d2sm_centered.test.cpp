// Tests of hosm/objectives/d2sm_centered.hpp (centred D2SM and D2SM-VR) on the
// cpp and omp back ends, for s2 of structure full, diagonal, low_rank<2> and
// low_rank<dynamic>:
//  - both losses equal ||H + C||^2 - ||C||^2 (pair mean, less 2 <A, H0>, for VR)
//    evaluated densely, 1e-12 relative; the VR identity
//    L_VR = (L(+, e+) + L(-, e-))/2 - 2 mean <A, H0>, 1e-12 relative;
//  - the three (VR) and one (plain) s2 gradients equal central differences
//    (h = 1e-6, 1e-6 relative);
//  - on 2-d N(0, I) at sigma = 0.5 with s1 = exact + delta, the mean gradient
//    at H* = s2~ + delta delta^T is 0 within 4 standard errors (20000 samples):
//    the minimiser's error is quadratic in delta; D2SM-VR's gradient there is
//    more than 10 standard errors away from 0 (its error is linear in delta);
//  - bad inputs raise hosm::error naming the argument.
#include "support/backends.hpp"
#include "objectives/denoising_support.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/objectives/d2sm_centered.hpp>
#include <hosm/objectives/d2sm_vr.hpp>

using namespace hosm;
using namespace objtest;

namespace {

/// (I - z z^T)/sigma^2 (diagonal structure: its diagonal).
template <class S>
matrix<double> A_of(const matrix<double>& z, index_t j, double sigma) {
    const index_t D = z.rows();
    matrix<double> A =
        (matrix<double>::Identity(D, D) - z.col(j) * z.col(j).transpose()) / (sigma * sigma);
    if constexpr (std::is_same_v<S, diagonal>) return A.diagonal().asDiagonal();
    return A;
}

template <class B, template <class, class> class Check>
void for_structures() {
    Check<B, full>{}();
    Check<B, diagonal>{}();
    Check<B, low_rank<2>>{}();
    Check<B, low_rank<hosm::dynamic>>{}();
}

}  // namespace

// ---- centred D2SM ---------------------------------------------------------------------

namespace {

/// (I - e e^T)/sigma^2 (diagonal structure: its diagonal), e = c z + sigma s.
template <class S>
matrix<double> C_of(const matrix<double>& s, const matrix<double>& z, index_t j, double c,
                    double sigma) {
    const index_t D = z.rows();
    const vector<double> e = c * z.col(j) + sigma * s.col(j);
    matrix<double> C = (matrix<double>::Identity(D, D) - e * e.transpose()) / (sigma * sigma);
    if constexpr (std::is_same_v<S, diagonal>) return C.diagonal().asDiagonal();
    return C;
}
template <class S, class B>
matrix<double> dense_of(const hessian::batch<S, double, B>& H, index_t j) {
    matrix<double> h = H.dense(j);
    if constexpr (std::is_same_v<S, diagonal>) return h.diagonal().asDiagonal();
    return h;
}
/// ||H + C||^2 - ||C||^2 for sample j.
template <class S, class B>
double dense_centred(const hessian::batch<S, double, B>& H, const matrix<double>& s,
                     const matrix<double>& z, index_t j, double c, double sigma) {
    const matrix<double> C = C_of<S>(s, z, j, c, sigma);
    return (dense_of(H, j) + C).squaredNorm() - C.squaredNorm();
}

template <class B, class S>
void check_centred_dense() {
    INFO("structure ", std::string(S::name));
    rng_t g(51);
    const index_t D = 4, N = 3;
    const double sigma = 0.4;
    const matrix<double> sp = randn(D, N, g), sm = randn(D, N, g), z = randn(D, N, g);
    auto hp = make_s2<S, B>(D, N), hm = make_s2<S, B>(D, N), h0 = make_s2<S, B>(D, N);
    fill_random(hp, g);
    fill_random(hm, g);
    fill_random(h0, g);
    const objectives::d2sm_centered<double> plain(sigma);
    const objectives::d2sm_centered_vr<double> vr(sigma);
    double ref_plain = 0, ref_vr = 0, cv = 0;
    for (index_t j = 0; j < N; ++j) {
        ref_plain += dense_centred(hp, sp, z, j, 1.0, sigma) / double(N);
        const double a0 = (A_of<S>(z, j, sigma).array() * dense_of(h0, j).array()).sum();
        cv += 2.0 * a0 / double(N);
        ref_vr += (0.5 * (dense_centred(hp, sp, z, j, 1.0, sigma) +
                          dense_centred(hm, sm, z, j, -1.0, sigma)) -
                   2.0 * a0) /
                  double(N);
    }
    const double lp = objectives::loss(plain, view(sp), hp, view(z));
    const double lv = objectives::loss(vr, view(sp), view(sm), hp, hm, h0, view(z));
    CHECK(lp == doctest::Approx(ref_plain).epsilon(1e-12));
    CHECK(lv == doctest::Approx(ref_vr).epsilon(1e-12));
    const matrix<double> mz = -z;  // x- = x - sigma z has noise -z: e- = -z + sigma s-
    const double identity = 0.5 * (lp + objectives::loss(plain, view(sm), hm, view(mz))) - cv;
    CHECK(lv == doctest::Approx(identity).epsilon(1e-12));
}

template <class B, class S>
void check_centred_gradients() {
    INFO("structure ", std::string(S::name));
    rng_t g(52);
    const index_t D = 3, N = 2;
    const double sigma = 0.6;
    const matrix<double> sp = randn(D, N, g), sm = randn(D, N, g), z = randn(D, N, g);
    auto hp = make_s2<S, B>(D, N), hm = make_s2<S, B>(D, N), h0 = make_s2<S, B>(D, N);
    fill_random(hp, g);
    fill_random(hm, g);
    fill_random(h0, g);
    auto gp = make_s2<S, B>(D, N), gm = make_s2<S, B>(D, N), g0 = make_s2<S, B>(D, N),
         gq = make_s2<S, B>(D, N);
    const objectives::d2sm_centered<double> plain(sigma);
    const objectives::d2sm_centered_vr<double> vr(sigma);
    objectives::loss_and_gradient(vr, view(sp), view(sm), hp, hm, h0, view(z), gp, gm, g0);
    objectives::loss_and_gradient(plain, view(sp), hp, view(z), gq);
    auto fv = [&] { return objectives::loss(vr, view(sp), view(sm), hp, hm, h0, view(z)); };
    auto fp = [&] { return objectives::loss(plain, view(sp), hp, view(z)); };
    const auto in_p = arrays(hp, "s2_plus"), in_m = arrays(hm, "s2_minus"),
               in_0 = arrays(h0, "s2_clean");
    const auto out_p = arrays(gp, "g"), out_m = arrays(gm, "g"), out_0 = arrays(g0, "g"),
               out_q = arrays(gq, "g");
    for (std::size_t a = 0; a < in_p.size(); ++a) {
        fd_check(fv, in_p[a].p, in_p[a].n, out_p[a].p, in_p[a].name);
        fd_check(fv, in_m[a].p, in_m[a].n, out_m[a].p, in_m[a].name);
        fd_check(fv, in_0[a].p, in_0[a].n, out_0[a].p, in_0[a].name);
        fd_check(fp, in_p[a].p, in_p[a].n, out_q[a].p, "plain " + in_p[a].name);
    }
}

/// Full and diagonal s2 (the gradient is dl/dH itself): s1 = exact + delta on
/// q_sigma = N(0, (1 + sigma^2) I); the mean gradient at H* = s2~ + delta delta^T.
template <class B, class S>
void check_centred_minimiser() {
    INFO("structure ", std::string(S::name));
    rng_t g(53);
    const index_t D = 2, N = 20000;
    const double sigma = 0.5, c = 1.0 / (1.0 + sigma * sigma);
    vector<double> delta(D);
    delta << 0.6, -0.4;
    const matrix<double> x = randn(D, N, g), z = randn(D, N, g);
    matrix<double> sp = -c * (x + sigma * z), sm = -c * (x - sigma * z), s0 = -c * x;
    sp.colwise() += delta;
    sm.colwise() += delta;
    s0.colwise() += delta;
    matrix<double> hstar = -c * matrix<double>::Identity(D, D) + delta * delta.transpose();
    if constexpr (std::is_same_v<S, diagonal>) hstar = matrix<double>(hstar.diagonal().asDiagonal());
    auto h = make_s2<S, B>(D, N);
    for (index_t j = 0; j < N; ++j) {
        if constexpr (std::is_same_v<S, full>) h.set_sample(j, hstar);
        else Eigen::Map<vector<double>>(h.data() + j * D, D) = hstar.diagonal();
    }
    auto gp = make_s2<S, B>(D, N), gm = make_s2<S, B>(D, N), g0 = make_s2<S, B>(D, N);
    matrix<double> g1p(D, N), g1m(D, N), g10(D, N);
    // per-sample total gradient N (G+ + G- + G0), one row per entry of dl/dH
    auto per_sample = [&] {
        const index_t n = std::is_same_v<S, full> ? D * D : D;
        matrix<double> w(n, N);
        for (index_t j = 0; j < N; ++j)
            for (index_t k = 0; k < n; ++k)
                w(k, j) = double(N) * (gp.data()[j * n + k] + gm.data()[j * n + k] + g0.data()[j * n + k]);
        return row_mean_se(w);
    };
    objectives::loss_and_gradient(objectives::d2sm_centered_vr<double>(sigma), view(sp), view(sm), h,
                                  h, h, view(z), gp, gm, g0);
    const mean_se centred = per_sample();
    for (index_t k = 0; k < centred.mean.size(); ++k) {
        INFO("entry ", k, ": ", centred.mean(k), " +- ", centred.se(k));
        CHECK(std::abs(centred.mean(k)) < 4 * centred.se(k));
    }
    objectives::loss_and_gradient(objectives::d2sm_vr<double>(sigma), view(sp), view(sm), view(s0),
                                  h, h, h, view(z), view(g1p), view(g1m), view(g10), gp, gm, g0);
    const mean_se seed = per_sample();
    double worst = 0;
    for (index_t k = 0; k < seed.mean.size(); ++k) worst = std::max(worst, std::abs(seed.mean(k)) / seed.se(k));
    INFO("D2SM-VR: largest |mean gradient| / se at H* = ", worst);
    CHECK(worst > 10);
}

template <class B, class S>
void check_centred_errors() {
    INFO("structure ", std::string(S::name));
    const index_t D = 2, N = 3;
    matrix<double> s = matrix<double>::Ones(D, N), z = s;
    auto h = make_s2<S, B>(D, N), gp = make_s2<S, B>(D, N), gm = make_s2<S, B>(D, N),
         g0 = make_s2<S, B>(D, N);
    CHECK_THROWS_WITH_AS(objectives::d2sm_centered_vr<double>(-1.0), doctest::Contains("'sigma'"),
                         hosm::error);
    CHECK_THROWS_WITH_AS(objectives::d2sm_centered<double>(0.0), doctest::Contains("'sigma'"),
                         hosm::error);
    const objectives::d2sm_centered_vr<double> obj(0.3);
    const objectives::d2sm_centered<double> plain(0.3);
    auto h_bad = make_s2<S, B>(D, N + 1);
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s), view(s), h, h_bad, h, view(z)),
                         doctest::Contains("'s2_minus'"), hosm::error);
    const matrix<double> s_bad = matrix<double>::Ones(D + 1, N);
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s), view(s_bad), h, h, h, view(z)),
                         doctest::Contains("'s1_minus'"), hosm::error);
    CHECK_THROWS_WITH_AS(objectives::loss(plain, view(s), h, view(s_bad)),
                         doctest::Contains("'z'"), hosm::error);
    CHECK_THROWS_WITH_AS(
        objectives::loss_and_gradient(obj, view(s), view(s), h, h, h, view(z), gp, gm, h),
        doctest::Contains("must not alias"), hosm::error);
    z(0, 1) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s), view(s), h, h, h, view(z)),
                         doctest::Contains("'z'"), hosm::error);
    z(0, 1) = 1.0;
    s(1, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(objectives::loss(plain, view(s), h, view(z)),
                         doctest::Contains("'s1'"), hosm::error);
}

template <class B, class S>
struct centred_dense_case {
    void operator()() { check_centred_dense<B, S>(); }
};
template <class B, class S>
struct centred_gradient_case {
    void operator()() { check_centred_gradients<B, S>(); }
};
template <class B, class S>
struct centred_error_case {
    void operator()() { check_centred_errors<B, S>(); }
};

}  // namespace

TEST_CASE_TEMPLATE("objectives::d2sm_centered(_vr): losses equal the dense formula; VR identity", B,
                   HOSM_TEST_BACKENDS) {
    for_structures<B, centred_dense_case>();
}

TEST_CASE_TEMPLATE("objectives::d2sm_centered(_vr): s2 gradients match central differences", B,
                   HOSM_TEST_BACKENDS) {
    for_structures<B, centred_gradient_case>();
}

TEST_CASE_TEMPLATE("objectives::d2sm_centered_vr: minimiser error quadratic in the s1 error", B,
                   HOSM_TEST_BACKENDS) {
    check_centred_minimiser<B, full>();
    check_centred_minimiser<B, diagonal>();
}

TEST_CASE_TEMPLATE("objectives::d2sm_centered(_vr): bad inputs raise hosm::error", B,
                   HOSM_TEST_BACKENDS) {
    for_structures<B, centred_error_case>();
}
