// Tests of hosm/objectives/joint.hpp on the cpp and omp back ends, for s2 of
// structure full, diagonal (Eq. 16), low_rank<2> and low_rank<dynamic>:
//  - L_joint equals a dense evaluation of Eq. (15) (1e-12 relative) and equals
//    d2sm + gamma dsm with gradients g1 = g1_d2sm + gamma g1_dsm, g2 = g2_d2sm
//    (1e-13 relative: the same numbers summed in another order);
//  - L_joint-VR = d2sm_vr + gamma dsm_vr with the same gradient rule, and its offset;
//  - gradients equal central differences (h = 1e-6, 1e-6 relative);
//  - gamma = 0 gives plain D2SM; gamma < 0 or non-finite raises hosm::error.
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
#include <hosm/objectives/dsm.hpp>
#include <hosm/objectives/dsm_vr.hpp>
#include <hosm/objectives/joint.hpp>

using namespace hosm;
using namespace objtest;

namespace {

/// Eq. (15), densely; Eq. (17) as the D2SM term for a diagonal s2 (Eq. 16).
template <class S, class B>
double dense_joint(const matrix<double>& s1, const hessian::batch<S, double, B>& s2,
                   const matrix<double>& z, double sigma, double gamma) {
    const index_t D = s1.rows(), N = s1.cols();
    const matrix<double> I = matrix<double>::Identity(D, D);
    double sum = 0;
    for (index_t j = 0; j < N; ++j) {
        const matrix<double> E = s2.dense(j) + s1.col(j) * s1.col(j).transpose() +
                                 (I - z.col(j) * z.col(j).transpose()) / (sigma * sigma);
        sum += std::is_same_v<S, diagonal> ? E.diagonal().squaredNorm() : E.squaredNorm();
        sum += gamma / 2 * (s1.col(j) + z.col(j) / sigma).squaredNorm();
    }
    return sum / double(N);
}

template <class S, class B>
void check_close(hessian::batch<S, double, B>& a, hessian::batch<S, double, B>& b) {
    const auto x = arrays(a, "a"), y = arrays(b, "b");
    for (std::size_t k = 0; k < x.size(); ++k) {
        const Eigen::Map<const vector<double>> u(x[k].p, x[k].n), v(y[k].p, y[k].n);
        CHECK((u - v).norm() <= 1e-13 * (1 + v.norm()));
    }
}

template <class B, class S>
void check_joint() {
    INFO("structure ", std::string(S::name));
    rng_t g(51);
    const index_t D = 4, N = 3;
    const double sigma = 0.6, gamma = 0.7;
    matrix<double> s1 = randn(D, N, g);
    const matrix<double> z = randn(D, N, g);
    auto s2 = make_s2<S, B>(D, N);
    fill_random(s2, g);
    const objectives::joint<double> obj(sigma, gamma);
    CHECK(obj.gamma() == gamma);
    const double l = objectives::loss(obj, view(s1), s2, view(z));
    CHECK(l == doctest::Approx(dense_joint(s1, s2, z, sigma, gamma)).epsilon(1e-12));

    matrix<double> g1(D, N), h1(D, N), k1(D, N);
    auto g2 = make_s2<S, B>(D, N), h2 = make_s2<S, B>(D, N);
    const double lj = objectives::loss_and_gradient(obj, view(s1), s2, view(z), view(g1), g2);
    const double ld = objectives::loss_and_gradient(objectives::d2sm<double>(sigma), view(s1), s2,
                                                    view(z), view(h1), h2);
    const double ls = objectives::loss_and_gradient<B>(objectives::dsm<double>(sigma), view(s1),
                                                       view(z), view(k1));
    CHECK(lj == doctest::Approx(ld + gamma * ls).epsilon(1e-13));
    CHECK((g1 - (h1 + gamma * k1)).norm() <= 1e-13 * g1.norm());
    check_close(g2, h2);

    auto f = [&] { return objectives::loss(obj, view(s1), s2, view(z)); };
    fd_check(f, s1.data(), s1.size(), g1.data(), "s1");
    const auto in = arrays(s2, "s2"), out = arrays(g2, "g2");
    for (std::size_t a = 0; a < in.size(); ++a) fd_check(f, in[a].p, in[a].n, out[a].p, in[a].name);

    // gamma = 0 is plain D2SM
    CHECK(objectives::loss(objectives::joint<double>(sigma, 0.0), view(s1), s2, view(z)) ==
          doctest::Approx(objectives::loss(objectives::d2sm<double>(sigma), view(s1), s2, view(z)))
              .epsilon(1e-14));
}

template <class B, class S>
void check_joint_vr() {
    INFO("structure ", std::string(S::name));
    rng_t g(52);
    const index_t D = 3, N = 3;
    const double sigma = 0.7, gamma = 1.3;
    matrix<double> sp = randn(D, N, g), sm = randn(D, N, g), s0 = randn(D, N, g);
    const matrix<double> z = randn(D, N, g);
    auto hp = make_s2<S, B>(D, N), hm = make_s2<S, B>(D, N), h0 = make_s2<S, B>(D, N);
    fill_random(hp, g);
    fill_random(hm, g);
    fill_random(h0, g);
    const objectives::joint_vr<double> obj(sigma, gamma);
    const objectives::d2sm_vr<double> d2(sigma);
    const objectives::dsm_vr<double> d1(sigma);
    CHECK(obj.offset<S>(D) == doctest::Approx(d2.offset<S>(D) + gamma * d1.offset(D)));

    matrix<double> gp(D, N), gm(D, N), g0(D, N), hp1(D, N), hm1(D, N), h01(D, N), kp(D, N),
        km(D, N), k0(D, N);
    auto gp2 = make_s2<S, B>(D, N), gm2 = make_s2<S, B>(D, N), g02 = make_s2<S, B>(D, N);
    auto hp2 = make_s2<S, B>(D, N), hm2 = make_s2<S, B>(D, N), h02 = make_s2<S, B>(D, N);
    const double lj =
        objectives::loss_and_gradient(obj, view(sp), view(sm), view(s0), hp, hm, h0, view(z),
                                      view(gp), view(gm), view(g0), gp2, gm2, g02);
    const double ld =
        objectives::loss_and_gradient(d2, view(sp), view(sm), view(s0), hp, hm, h0, view(z),
                                      view(hp1), view(hm1), view(h01), hp2, hm2, h02);
    const double ls = objectives::loss_and_gradient<B>(d1, view(sp), view(sm), view(s0), view(z),
                                                       view(kp), view(km), view(k0));
    CHECK(lj == doctest::Approx(ld + gamma * ls).epsilon(1e-13));
    CHECK(objectives::loss(obj, view(sp), view(sm), view(s0), hp, hm, h0, view(z)) ==
          doctest::Approx(lj).epsilon(1e-14));
    CHECK((gp - (hp1 + gamma * kp)).norm() <= 1e-13 * gp.norm());
    CHECK((gm - (hm1 + gamma * km)).norm() <= 1e-13 * gm.norm());
    CHECK((g0 - (h01 + gamma * k0)).norm() <= 1e-13 * g0.norm());
    check_close(gp2, hp2);
    check_close(gm2, hm2);
    check_close(g02, h02);

    auto f = [&] {
        return objectives::loss(obj, view(sp), view(sm), view(s0), hp, hm, h0, view(z));
    };
    fd_check(f, sp.data(), sp.size(), gp.data(), "s1_plus");
    fd_check(f, sm.data(), sm.size(), gm.data(), "s1_minus");
    fd_check(f, s0.data(), s0.size(), g0.data(), "s1_clean");
}

template <class B, class S>
void check_errors() {
    INFO("structure ", std::string(S::name));
    CHECK_THROWS_WITH_AS(objectives::joint<double>(0.1, -0.5), doctest::Contains("'gamma'"),
                         hosm::error);
    CHECK_THROWS_WITH_AS(objectives::joint_vr<double>(0.1, -1e-9), doctest::Contains("'gamma'"),
                         hosm::error);
    CHECK_THROWS_AS(objectives::joint<double>(0.1, std::numeric_limits<double>::quiet_NaN()),
                    hosm::error);
    CHECK_THROWS_WITH_AS(objectives::joint<double>(0.0, 1.0), doctest::Contains("'sigma'"),
                         hosm::error);
    const index_t D = 2, N = 2;
    matrix<double> s1 = matrix<double>::Ones(D, N), z = s1;
    auto s2 = make_s2<S, B>(D + 1, N);
    CHECK_THROWS_WITH_AS(
        objectives::loss(objectives::joint<double>(0.1, 1.0), view(s1), s2, view(z)),
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
struct joint_case {
    void operator()() { check_joint<B, S>(); }
};
template <class B, class S>
struct joint_vr_case {
    void operator()() { check_joint_vr<B, S>(); }
};
template <class B, class S>
struct error_case {
    void operator()() { check_errors<B, S>(); }
};

}  // namespace

TEST_CASE_TEMPLATE("objectives::joint: Eq. (15)/(16), composition and gradients", B,
                   HOSM_TEST_BACKENDS) {
    for_structures<B, joint_case>();
}

TEST_CASE_TEMPLATE("objectives::joint_vr: D2SM-VR + gamma DSM-VR and gradients", B,
                   HOSM_TEST_BACKENDS) {
    for_structures<B, joint_vr_case>();
}

TEST_CASE_TEMPLATE("objectives::joint: bad inputs raise hosm::error", B, HOSM_TEST_BACKENDS) {
    for_structures<B, error_case>();
}

// ---- the benchmarked configurations (bench/mlp.bench.cpp), float32 -----------
// sigma = 0.1, gamma = 1, low_rank<20> at D = 100 (N = 10, 256) and D = 784
// (N = 3), diagonal at D = 100: loss and gradients against the dense double
// formulas  E_j = s2_j + s1_j s1_j^T + (I - z_j z_j^T)/sigma^2,
//   dL/dalpha = (2/N) diag(E),  dL/dB = (4/N) E B,  dL/ds1 = (4/N) E s1 + (gamma/N)(s1 + z/sigma)
// (diagonal: e = diag(E), dL/dd = (2/N) e, dL/ds1 = (4/N) e o s1 + ...).
namespace {

template <class S, class B>
void check_joint_float(index_t D, index_t N) {
    CAPTURE(D);
    CAPTURE(N);
    const float sigma = 0.1f, gamma = 1.0f;
    const matrix<float> s1 = matrix<float>::Random(D, N), z = matrix<float>::Random(D, N) * 1.5f;
    hessian::batch<S, float, B> s2(D, N), g2(D, N);
    if constexpr (hessian::is_low_rank_v<S>) {
        const matrix<float> a = matrix<float>::Random(D, N) * 5.0f;
        const matrix<float> b = matrix<float>::Random(D * s2.rank(), N) * 0.5f;
        std::copy(a.data(), a.data() + a.size(), s2.alpha_data());
        std::copy(b.data(), b.data() + b.size(), s2.B_data());
    } else {
        const matrix<float> d = matrix<float>::Random(D, N) * 5.0f;
        std::copy(d.data(), d.data() + d.size(), s2.data());
    }
    matrix<float> g1(D, N);
    const objectives::joint<float> obj(sigma, gamma);
    const float L = objectives::loss_and_gradient(obj, view(s1), s2, view(z), view(g1), g2);
    // dense double reference
    const matrix<double> I = matrix<double>::Identity(D, D);
    const double sg = sigma, gm = gamma;
    double ref = 0, e1 = 0, e2 = 0, scale1 = 0, scale2 = 0;
    for (index_t j = 0; j < N; ++j) {
        const vector<double> s = s1.col(j).cast<double>(), zj = z.col(j).cast<double>();
        const matrix<double> H = s2.dense(j).template cast<double>();
        const matrix<double> E = H + s * s.transpose() + (I - zj * zj.transpose()) / (sg * sg);
        vector<double> G1;
        if constexpr (hessian::is_low_rank_v<S>) {
            ref += E.squaredNorm();
            G1 = 4.0 / N * E * s;
            const index_t R = s2.rank();
            const matrix<double> Bj =
                Eigen::Map<const matrix<float>>(s2.B_data() + j * D * R, D, R).cast<double>();
            const matrix<double> GB = 4.0 / N * E * Bj;
            const vector<double> Ga = 2.0 / N * E.diagonal();
            const matrix<double> gB =
                Eigen::Map<const matrix<float>>(g2.B_data() + j * D * R, D, R).cast<double>();
            const vector<double> ga =
                Eigen::Map<const vector<float>>(g2.alpha_data() + j * D, D).cast<double>();
            e2 = std::max({e2, (gB - GB).cwiseAbs().maxCoeff(), (ga - Ga).cwiseAbs().maxCoeff()});
            scale2 = std::max({scale2, GB.cwiseAbs().maxCoeff(), Ga.cwiseAbs().maxCoeff()});
        } else {
            const vector<double> e = E.diagonal();
            ref += e.squaredNorm();
            G1 = 4.0 / N * e.cwiseProduct(s);
            const vector<double> Gd = 2.0 / N * e;
            const vector<double> gd = Eigen::Map<const vector<float>>(g2.data() + j * D, D).cast<double>();
            e2 = std::max(e2, (gd - Gd).cwiseAbs().maxCoeff());
            scale2 = std::max(scale2, Gd.cwiseAbs().maxCoeff());
        }
        ref += gm / 2 * (s + zj / sg).squaredNorm();
        G1 += gm / N * (s + zj / sg);
        e1 = std::max(e1, (g1.col(j).cast<double>() - G1).cwiseAbs().maxCoeff());
        scale1 = std::max(scale1, G1.cwiseAbs().maxCoeff());
    }
    ref /= N;
    CHECK(std::abs(double(L) - ref) <= 1e-5 * ref);
    // float sums of D terms of size ~1/sigma^2: 1e-4 of the largest gradient entry
    CHECK(e1 <= 1e-4 * scale1);
    CHECK(e2 <= 1e-4 * scale2);
}

}  // namespace

TEST_CASE_TEMPLATE("objectives::joint: benchmarked float configurations match the dense formulas", B,
                   HOSM_TEST_BACKENDS) {
    check_joint_float<hessian::low_rank<20>, B>(100, 10);
    check_joint_float<hessian::low_rank<20>, B>(100, 256);
    check_joint_float<hessian::low_rank<20>, B>(784, 3);
    check_joint_float<hessian::diagonal, B>(100, 10);
    check_joint_float<hessian::diagonal, B>(100, 256);
}
