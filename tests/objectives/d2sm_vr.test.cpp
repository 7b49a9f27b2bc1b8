// Tests of hosm/objectives/d2sm_vr.hpp (seed 000 Sec. 4.3) on the cpp and omp
// back ends, for s2 of structure full, diagonal, low_rank<2> and low_rank<dynamic>:
//  - the loss equals half the seed's bracket ||psi+||^2 + ||psi-||^2 +
//    2 <A, psi+ + psi- - 2 psi0>, evaluated densely from the dense H of each
//    sample (diagonal: the same on the diagonal form of Eq. 17); 1e-12 relative;
//  - the exact identity L_VR = (L_D2SM(+, z) + L_D2SM(-, -z))/2 - mean ||A||^2
//    - 2 mean <A, psi0> (1e-12 relative) and unbiasedness E[L_VR] + offset<S>(D)
//    = E[L_D2SM] for a nonlinear model (Monte Carlo: within 4 standard errors
//    of 50 batch means of 160 samples);
//  - the six gradients equal central differences (h = 1e-6, 1e-6 relative);
//  - seed 000 Fig. 1: at sigma = 1e-3 on 2-d N(0, I) with the exact s1, s2, the
//    variance of the loss is > 100 times smaller than plain D2SM's (it is ~1e20 x);
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
#include <hosm/objectives/d2sm_vr.hpp>

using namespace hosm;
using namespace objtest;

namespace {

struct triple {
    matrix<double> sp, sm, s0;
};

/// psi = H + s1 s1^T (dense), or its diagonal form for a diagonal structure.
template <class S, class B>
matrix<double> psi(const hessian::batch<S, double, B>& s2, const matrix<double>& s1, index_t j) {
    matrix<double> p = s2.dense(j) + s1.col(j) * s1.col(j).transpose();
    if constexpr (std::is_same_v<S, diagonal>) return p.diagonal().asDiagonal();
    return p;
}
template <class S>
matrix<double> A_of(const matrix<double>& z, index_t j, double sigma) {
    const index_t D = z.rows();
    matrix<double> A =
        (matrix<double>::Identity(D, D) - z.col(j) * z.col(j).transpose()) / (sigma * sigma);
    if constexpr (std::is_same_v<S, diagonal>) return A.diagonal().asDiagonal();
    return A;
}

/// Half the bracket of seed 000 Sec. 4.3, batch mean.
template <class S, class B>
double dense_d2sm_vr(const triple& s1, const hessian::batch<S, double, B>& hp,
                     const hessian::batch<S, double, B>& hm, const hessian::batch<S, double, B>& h0,
                     const matrix<double>& z, double sigma) {
    const index_t N = z.cols();
    double sum = 0;
    for (index_t j = 0; j < N; ++j) {
        const matrix<double> pp = psi(hp, s1.sp, j), pm = psi(hm, s1.sm, j), p0 = psi(h0, s1.s0, j);
        const matrix<double> A = A_of<S>(z, j, sigma);
        const double seed_bracket = pp.squaredNorm() + pm.squaredNorm() +
                                    2.0 * (A.array() * (pp + pm - 2.0 * p0).array()).sum();
        sum += seed_bracket / 2.0;
    }
    return sum / double(N);
}

/// A smooth nonlinear model: s1(y) = tanh(W1 y + b), s2(y) entries tanh of
/// linear functions of y (full: symmetrized).
struct toy_model {
    matrix<double> W1, W2, W3;
    vector<double> b;
    toy_model(index_t D, rng_t& g)
        : W1(randn(D, D, g)),
          W2(randn(D * D, D, g, 0.5)),
          W3(randn(D * 4, D, g, 0.5)),
          b(randn(D, 1, g)) {}
    matrix<double> s1(const matrix<double>& y) const {
        matrix<double> a = W1 * y;
        a.colwise() += b;
        return a.array().tanh().matrix();
    }
    template <class S, class B>
    hessian::batch<S, double, B> s2(const matrix<double>& y) const {
        const index_t D = y.rows(), N = y.cols();
        auto H = make_s2<S, B>(D, N);
        for (index_t j = 0; j < N; ++j) {
            const vector<double> u = (W2 * y.col(j)).array().tanh().matrix();
            if constexpr (std::is_same_v<S, full>) {
                const Eigen::Map<const matrix<double>> h(u.data(), D, D);
                H.set_sample(j, (h + h.transpose()) / 2.0);
            } else if constexpr (std::is_same_v<S, diagonal>) {
                Eigen::Map<vector<double>>(H.data() + j * D, D) = u.head(D);
            } else {
                const vector<double> v = (W3 * y.col(j)).array().tanh().matrix();
                H.set_sample(j, u.head(D), Eigen::Map<const matrix<double>>(v.data(), D, H.rank()));
            }
        }
        return H;
    }
};

template <class B, class S>
void check_dense() {
    INFO("structure ", std::string(S::name));
    rng_t g(41);
    const index_t D = 4, N = 3;
    const double sigma = 0.5;
    const triple s1{randn(D, N, g), randn(D, N, g), randn(D, N, g)};
    const matrix<double> z = randn(D, N, g);
    auto hp = make_s2<S, B>(D, N), hm = make_s2<S, B>(D, N), h0 = make_s2<S, B>(D, N);
    fill_random(hp, g);
    fill_random(hm, g);
    fill_random(h0, g);
    const objectives::d2sm_vr<double> obj(sigma);
    const double l =
        objectives::loss(obj, view(s1.sp), view(s1.sm), view(s1.s0), hp, hm, h0, view(z));
    CHECK(l == doctest::Approx(dense_d2sm_vr(s1, hp, hm, h0, z, sigma)).epsilon(1e-12));

    // identity with plain D2SM
    const objectives::d2sm<double> plain(sigma);
    const matrix<double> mz = -z;
    double cv = 0;
    for (index_t j = 0; j < N; ++j) {
        const matrix<double> A = A_of<S>(z, j, sigma);
        cv += A.squaredNorm() + 2.0 * (A.array() * psi(h0, s1.s0, j).array()).sum();
    }
    const double identity = 0.5 * (objectives::loss(plain, view(s1.sp), hp, view(z)) +
                                   objectives::loss(plain, view(s1.sm), hm, view(mz))) -
                            cv / double(N);
    CHECK(l == doctest::Approx(identity).epsilon(1e-12));

    const double s4 = sigma * sigma * sigma * sigma;
    if constexpr (std::is_same_v<S, diagonal>)
        CHECK(obj.offset<S>(D) == doctest::Approx(2.0 * D / s4));
    else
        CHECK(obj.offset<S>(D) == doctest::Approx(double(D * D + D) / s4));
}

template <class B, class S>
void check_unbiased() {
    INFO("structure ", std::string(S::name));
    rng_t g(42);
    const index_t D = 3, n = 160, M = 50;
    const double sigma = 0.7;
    const toy_model model(D, g);
    const objectives::d2sm<double> plain(sigma);
    const objectives::d2sm_vr<double> vr(sigma);
    matrix<double> diff(1, M);
    for (index_t m = 0; m < M; ++m) {
        const matrix<double> x = randn(D, n, g), z = randn(D, n, g);
        const matrix<double> xp = x + sigma * z, xm = x - sigma * z;
        const matrix<double> sp = model.s1(xp), sm = model.s1(xm), s0 = model.s1(x);
        const auto hp = model.s2<S, B>(xp), hm = model.s2<S, B>(xm), h0 = model.s2<S, B>(x);
        diff(0, m) = objectives::loss(vr, view(sp), view(sm), view(s0), hp, hm, h0, view(z)) +
                     vr.offset<S>(D) - objectives::loss(plain, view(sp), hp, view(z));
    }
    const mean_se ms = row_mean_se(diff);
    INFO("E[L_VR] + offset - E[L_D2SM] = ", ms.mean(0), " +- ", ms.se(0));
    CHECK(std::abs(ms.mean(0)) < 4 * ms.se(0));
    CHECK(ms.se(0) > 0);
}

template <class B, class S>
void check_gradients() {
    INFO("structure ", std::string(S::name));
    rng_t g(43);
    const index_t D = 3, N = 2;
    const double sigma = 0.8;
    triple s1{randn(D, N, g), randn(D, N, g), randn(D, N, g)};
    const matrix<double> z = randn(D, N, g);
    auto hp = make_s2<S, B>(D, N), hm = make_s2<S, B>(D, N), h0 = make_s2<S, B>(D, N);
    fill_random(hp, g);
    fill_random(hm, g);
    fill_random(h0, g);
    auto gp2 = make_s2<S, B>(D, N), gm2 = make_s2<S, B>(D, N), g02 = make_s2<S, B>(D, N);
    matrix<double> gp(D, N), gm(D, N), g0(D, N);
    const objectives::d2sm_vr<double> obj(sigma);
    objectives::loss_and_gradient(obj, view(s1.sp), view(s1.sm), view(s1.s0), hp, hm, h0, view(z),
                                  view(gp), view(gm), view(g0), gp2, gm2, g02);
    auto f = [&] {
        return objectives::loss(obj, view(s1.sp), view(s1.sm), view(s1.s0), hp, hm, h0, view(z));
    };
    fd_check(f, s1.sp.data(), s1.sp.size(), gp.data(), "s1_plus");
    fd_check(f, s1.sm.data(), s1.sm.size(), gm.data(), "s1_minus");
    fd_check(f, s1.s0.data(), s1.s0.size(), g0.data(), "s1_clean");
    const auto in_p = arrays(hp, "s2_plus"), in_m = arrays(hm, "s2_minus"),
               in_0 = arrays(h0, "s2_clean");
    const auto out_p = arrays(gp2, "g"), out_m = arrays(gm2, "g"), out_0 = arrays(g02, "g");
    for (std::size_t a = 0; a < in_p.size(); ++a) {
        fd_check(f, in_p[a].p, in_p[a].n, out_p[a].p, in_p[a].name);
        fd_check(f, in_m[a].p, in_m[a].n, out_m[a].p, in_m[a].name);
        fd_check(f, in_0[a].p, in_0[a].n, out_0[a].p, in_0[a].name);
    }
}

template <class B, class S>
void check_variance() {
    INFO("structure ", std::string(S::name));
    rng_t g(44);
    const index_t D = 2, n = 20, M = 100;
    const double sigma = 1e-3, c = 1.0 / (1.0 + sigma * sigma);  // q_sigma = N(0, (1 + sigma^2) I)
    auto exact_s2 = [&] {  // s2 = -c I in every structure (low-rank: alpha = -c, B = 0)
        auto H = make_s2<S, B>(D, n);
        for (index_t j = 0; j < n; ++j) {
            if constexpr (std::is_same_v<S, full>)
                H.set_sample(j, -c * matrix<double>::Identity(D, D));
            else if constexpr (std::is_same_v<S, diagonal>)
                Eigen::Map<vector<double>>(H.data() + j * D, D).setConstant(-c);
            else
                H.set_sample(j, vector<double>::Constant(D, -c), matrix<double>::Zero(D, H.rank()));
        }
        return H;
    };
    const auto h = exact_s2();
    const objectives::d2sm<double> plain(sigma);
    const objectives::d2sm_vr<double> vr(sigma);
    matrix<double> lp(1, M), lv(1, M);
    for (index_t m = 0; m < M; ++m) {
        const matrix<double> x = randn(D, n, g), z = randn(D, n, g);
        const matrix<double> sp = -c * (x + sigma * z), sm = -c * (x - sigma * z), s0 = -c * x;
        lp(0, m) = objectives::loss(plain, view(sp), h, view(z));
        lv(0, m) = objectives::loss(vr, view(sp), view(sm), view(s0), h, h, h, view(z));
    }
    const double vp = row_mean_se(lp).se(0), vv = row_mean_se(lv).se(0);
    const double ratio = (vp * vp) / (vv * vv);
    INFO("Var(L_D2SM) / Var(L_D2SM-VR) = ", ratio);
    CHECK(ratio > 100);
}

template <class B, class S>
void check_errors() {
    INFO("structure ", std::string(S::name));
    const index_t D = 2, N = 3;
    matrix<double> s = matrix<double>::Ones(D, N), s0 = s, z = s, gp(D, N), gm(D, N), g0(D, N);
    auto h = make_s2<S, B>(D, N), gp2 = make_s2<S, B>(D, N), gm2 = make_s2<S, B>(D, N),
         g02 = make_s2<S, B>(D, N);
    const objectives::d2sm_vr<double> obj(0.3);
    CHECK_THROWS_WITH_AS(objectives::d2sm_vr<double>(std::numeric_limits<double>::infinity()),
                         doctest::Contains("'sigma'"), hosm::error);
    auto h_bad = make_s2<S, B>(D, N + 1);
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s), view(s), view(s0), h, h_bad, h, view(z)),
                         doctest::Contains("'s2_minus'"), hosm::error);
    const matrix<double> s_bad = matrix<double>::Ones(D + 1, N);
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s), view(s_bad), view(s0), h, h, h, view(z)),
                         doctest::Contains("'s1_minus'"), hosm::error);
    auto g_bad = make_s2<S, B>(D + 1, N);
    CHECK_THROWS_WITH_AS(
        objectives::loss_and_gradient(obj, view(s), view(s), view(s0), h, h, h, view(z), view(gp),
                                      view(gm), view(g0), gp2, gm2, g_bad),
        doctest::Contains("'g2_clean'"), hosm::error);
    CHECK_THROWS_WITH_AS(
        objectives::loss_and_gradient(obj, view(s), view(s), view(s0), h, h, h, view(z), view(gp),
                                      view(gm), view(g0), gp2, gp2, g02),
        doctest::Contains("own storage"), hosm::error);
    CHECK_THROWS_WITH_AS(
        objectives::loss_and_gradient(obj, view(s), view(s), view(s0), h, h, h, view(z), view(gp),
                                      view(gm), view(g0), gp2, gm2, h),
        doctest::Contains("must not alias"), hosm::error);
    z(1, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s), view(s), view(s0), h, h, h, view(z)),
                         doctest::Contains("'z'"), hosm::error);
    z(1, 0) = 1.0;
    s0(0, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(objectives::loss(obj, view(s), view(s), view(s0), h, h, h, view(z)),
                         doctest::Contains("'s1_clean'"), hosm::error);
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
struct unbiased_case {
    void operator()() { check_unbiased<B, S>(); }
};
template <class B, class S>
struct gradient_case {
    void operator()() { check_gradients<B, S>(); }
};
template <class B, class S>
struct variance_case {
    void operator()() { check_variance<B, S>(); }
};
template <class B, class S>
struct error_case {
    void operator()() { check_errors<B, S>(); }
};

}  // namespace

TEST_CASE_TEMPLATE("objectives::d2sm_vr: loss equals the seed's formula; identity with D2SM", B,
                   HOSM_TEST_BACKENDS) {
    for_structures<B, dense_case>();
}

TEST_CASE_TEMPLATE("objectives::d2sm_vr: unbiased for L_D2SM up to offset<S>(D)", B,
                   HOSM_TEST_BACKENDS) {
    for_structures<B, unbiased_case>();
}

TEST_CASE_TEMPLATE("objectives::d2sm_vr: gradients match central differences", B,
                   HOSM_TEST_BACKENDS) {
    for_structures<B, gradient_case>();
}

TEST_CASE_TEMPLATE("objectives::d2sm_vr: much smaller variance than D2SM at sigma = 1e-3 (Fig. 1)",
                   B, HOSM_TEST_BACKENDS) {
    for_structures<B, variance_case>();
}

TEST_CASE_TEMPLATE("objectives::d2sm_vr: bad inputs raise hosm::error", B, HOSM_TEST_BACKENDS) {
    for_structures<B, error_case>();
}
