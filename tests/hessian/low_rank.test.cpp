// Tests of the per-sample operations of hessian::low_rank<R>
// (hosm/hessian/low_rank.hpp): H = diag(alpha) + B B^T.
//
// Oracle: the dense Eigen computation in double on the same (float or double)
// inputs, for ranks 1, 3 and D (the largest a hessian::batch accepts).
// Tolerances are relative to the magnitude of the terms that are summed, with
// H's entries bounded by |H| <= diag(|alpha|) + |B| |B|^T (e.g. (|H| |v|)_i
// for (H v)_i, sum_ij (|H_ij| + |T_ij|)^2 for ||H - T||_F^2, which also bounds
// the rounding of the Gram-matrix form used without forming D x D): 1e-12 in
// double and 1e-4 in float (~1e3 epsilons).
#include "support/backends.hpp"

#include <cmath>
#include <random>
#include <type_traits>
#include <vector>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/low_rank.hpp>

using namespace hosm;
using hessian::low_rank_view;

namespace {

template <class T>
constexpr double rel_tol = std::is_same_v<T, double> ? 1e-12 : 1e-4;

using md = matrix<double>;
using vd = vector<double>;

template <class T>
struct gen {
    std::mt19937 g;
    explicit gen(unsigned seed) : g(seed) {}
    std::vector<T> operator()(index_t n) {
        std::normal_distribution<double> nd;
        std::vector<T> x(static_cast<std::size_t>(n));
        for (auto& e : x) e = T(nd(g));
        return x;
    }
    T scalar() { return (*this)(1)[0]; }
};

template <class T>
md dense(const T* p, index_t r, index_t c) {
    md m(r, c);
    for (index_t j = 0; j < c; ++j)
        for (index_t i = 0; i < r; ++i) m(i, j) = double(p[i + j * r]);
    return m;
}

bool close(double got, double want, double scale, double tol) {
    const bool ok = std::abs(got - want) <= tol * scale;
    if (!ok) MESSAGE("got ", got, " want ", want, " scale ", scale, " tol ", tol);
    return ok;
}

/// Checks every per-sample operation of H against its dense double copy Hd;
/// Ha bounds |H| entrywise (the rounding scale of H's entries). The same
/// checks are in full.test.cpp and diagonal.test.cpp.
template <class T, class View>
void check_against_dense(View H, const md& Hd, const md& Ha, gen<T>& g) {
    const index_t D = H.dim;
    const double tol = rel_tol<T>;
    const std::vector<T> v = g(D);
    const vd vv = dense(v.data(), D, 1);
    {  // apply
        std::vector<T> out(D);
        apply(H, v.data(), out.data());
        const vd want = Hd * vv, scale = Ha * vv.cwiseAbs();
        for (index_t i = 0; i < D; ++i) CHECK(close(out[i], want(i), scale.maxCoeff(), tol));
    }
    {  // quad_form
        const double scale = vv.cwiseAbs().dot(Ha * vv.cwiseAbs());
        CHECK(close(quad_form(H, v.data()), vv.dot(Hd * vv), scale, tol));
    }
    {  // to_dense, diagonal_of, trace, frobenius_sq
        std::vector<T> out(D * D), dg(D);
        to_dense(H, out.data());
        diagonal_of(H, dg.data());
        const double s = Ha.maxCoeff();
        for (index_t k = 0; k < D * D; ++k) CHECK(close(out[k], Hd.data()[k], s, tol));
        for (index_t i = 0; i < D; ++i) CHECK(close(dg[i], Hd(i, i), s, tol));
        CHECK(close(trace(H), Hd.trace(), Ha.diagonal().sum(), tol));
        CHECK(close(frobenius_sq(H), Hd.squaredNorm(), Ha.squaredNorm(), tol));
    }
    {  // residual_sq against a dense M
        const std::vector<T> M = g(D * D);
        const md Md = dense(M.data(), D, D);
        const double scale = (Ha + Md.cwiseAbs()).squaredNorm();
        CHECK(close(residual_sq(H, M.data()), (Hd - Md).squaredNorm(), scale, tol));
    }
    for (index_t m : {0, 1, 2, 4}) {  // identity plus rank-m targets
        CAPTURE(m);
        const T c = g.scalar();
        const std::vector<T> w = g(m), U = g(D * m);
        const md Ud = dense(U.data(), D, m);
        const vd wd = dense(w.data(), m, 1);
        const md Td = double(c) * md::Identity(D, D) + Ud * wd.asDiagonal() * Ud.transpose();
        const md Ta = std::abs(double(c)) * md::Identity(D, D) +
                      Ud.cwiseAbs() * wd.cwiseAbs().asDiagonal() * Ud.cwiseAbs().transpose();
        const double scale = (Ha + Ta).squaredNorm();
        CHECK(close(residual_sq_ipr(H, c, m, w.data(), U.data()), (Hd - Td).squaredNorm(), scale,
                    tol));
        CHECK(close(diag_residual_sq_ipr(H, c, m, w.data(), U.data()),
                    (Hd.diagonal() - Td.diagonal()).squaredNorm(), scale, tol));
    }
    for (double sigma : {0.3, 1.7}) {  // D2SM integrands, seed 000 Eqs. 13 and 17
        CAPTURE(sigma);
        const std::vector<T> s1 = g(D), z = g(D);
        const vd s = dense(s1.data(), D, 1), zz = dense(z.data(), D, 1);
        const double is2 = 1.0 / (double(T(sigma)) * double(T(sigma)));
        const md E = Hd + s * s.transpose() + (md::Identity(D, D) - zz * zz.transpose()) * is2;
        const md Ea = Ha + s.cwiseAbs() * s.cwiseAbs().transpose() +
                      (md::Identity(D, D) + zz.cwiseAbs() * zz.cwiseAbs().transpose()) * is2;
        const double scale = Ea.squaredNorm();
        const T r = d2sm_residual_sq(H, s1.data(), z.data(), T(sigma));
        CHECK(close(r, E.squaredNorm(), scale, tol));
        CHECK(close(d2sm_diag_residual_sq(H, s1.data(), z.data(), T(sigma)),
                    E.diagonal().squaredNorm(), Ea.diagonal().squaredNorm(), tol));
        // the same number through residual_sq_ipr with c = -1/sigma^2, U = [s1, z], w = (-1,
        // 1/sigma^2)
        std::vector<T> U(s1);
        U.insert(U.end(), z.begin(), z.end());
        const T is2t = T(1) / (T(sigma) * T(sigma));
        const std::vector<T> w = {T(-1), is2t};
        CHECK(close(residual_sq_ipr(H, -is2t, 2, w.data(), U.data()), r, scale, tol));
    }
}

}  // namespace

#if !defined(__CUDACC__)
TEST_CASE_TEMPLATE("hessian/low_rank: every operation against the dense Eigen computation", T,
                   float, double) {
    gen<T> g(31);
    for (index_t D : {1, 5, 17})
        for (index_t R : {index_t(1), index_t(3), D}) {
            if (R > D) continue;
            CAPTURE(D);
            CAPTURE(R);
            std::vector<T> alpha = g(D), Bv = g(D * R);
            const low_rank_view<const T> H{alpha.data(), Bv.data(), D, R};
            const md Bd = dense(Bv.data(), D, R);
            const vd ad = dense(alpha.data(), D, 1);
            const md Hd = md(ad.asDiagonal()) + Bd * Bd.transpose();
            const md Ha =
                md(ad.cwiseAbs().asDiagonal()) + Bd.cwiseAbs() * Bd.cwiseAbs().transpose();
            check_against_dense(H, Hd, Ha, g);
            // a mutable view converts to the const view the operations take
            CHECK(trace(low_rank_view<T>{alpha.data(), Bv.data(), D, R}) == trace(H));
        }
}

TEST_CASE_TEMPLATE("hessian/low_rank: affine a H + b I keeps the structure (a >= 0)", T, float,
                   double) {
    gen<T> g(32);
    const T sigma = T(0.3);
    for (index_t D : {1, 5, 17})
        for (index_t R : {index_t(1), index_t(3), D}) {
            if (R > D) continue;
            CAPTURE(D);
            CAPTURE(R);
            const std::vector<T> alpha = g(D), Bv = g(D * R);
            const low_rank_view<const T> H{alpha.data(), Bv.data(), D, R};
            const md Bd = dense(Bv.data(), D, R);
            const vd ad = dense(alpha.data(), D, 1);
            const md Hd = md(ad.asDiagonal()) + Bd * Bd.transpose();
            const md Ha =
                md(ad.cwiseAbs().asDiagonal()) + Bd.cwiseAbs() * Bd.cwiseAbs().transpose();
            // a = sigma^4, b = sigma^2 is Tweedie's covariance sigma^4 s2 + sigma^2 I (Eq. 18)
            for (auto [a, b] :
                 {std::pair{T(0), T(1.3)}, std::pair{T(1), T(-0.4)}, std::pair{T(2.5), T(1.3)},
                  std::pair{sigma * sigma * sigma * sigma, sigma * sigma}}) {
                CAPTURE(a);
                std::vector<T> a2(D), B2(D * R);
                affine(H, a, b, low_rank_view<T>{a2.data(), B2.data(), D, R});
                std::vector<T> out(D * D);
                to_dense(low_rank_view<const T>{a2.data(), B2.data(), D, R}, out.data());
                const md want = double(a) * Hd + double(b) * md::Identity(D, D);
                const double s = double(a) * Ha.maxCoeff() + std::abs(double(b));
                for (index_t k = 0; k < D * D; ++k)
                    CHECK(close(out[k], want.data()[k], s, rel_tol<T>));
                // in place (Hout aliasing H) gives the same numbers
                std::vector<T> ai(alpha), Bi(Bv);
                affine(low_rank_view<const T>{ai.data(), Bi.data(), D, R}, a, b,
                       low_rank_view<T>{ai.data(), Bi.data(), D, R});
                CHECK(ai == a2);
                CHECK(Bi == B2);
            }
        }
}

TEST_CASE("hessian/low_rank: residuals at the structure's own target") {
    // integer data: every product and partial sum is exact in double
    const index_t D = 4, R = 2;
    const double alpha[] = {2, -1, 3, 0}, B[] = {1, 2, 0, -1, 3, 1, 1, 2};
    const low_rank_view<const double> H{alpha, B, D, R};
    // T = c I + B B^T: H - T = diag(alpha - c), though B B^T is not diagonal
    const double w[] = {1, 1}, c = 1;
    const double want = 1 + 4 + 4 + 1;
    CHECK(residual_sq_ipr(H, c, 2, w, B) == want);
    CHECK(diag_residual_sq_ipr(H, c, 2, w, B) == want);
    // m = 0: ||diag(alpha - c) + B B^T||^2 against the dense matrix
    md Hd(D, D);
    to_dense(H, Hd.data());
    CHECK(residual_sq_ipr(H, c, 0, w, B) == (Hd - c * md::Identity(D, D)).squaredNorm());
    CHECK(frobenius_sq(H) == Hd.squaredNorm());
    CHECK(residual_sq(H, Hd.data()) == 0.0);
}

TEST_CASE("hessian/low_rank: a rank above the dimension is refused by hessian::batch") {
    using hessian::low_rank;
    CHECK_THROWS_AS((hessian::batch<low_rank<3>, double>(2, 4)), hosm::error);
    CHECK_THROWS_AS((hessian::batch<low_rank<hosm::dynamic>, float>(4, 2, 5)), hosm::error);
    CHECK_THROWS_AS((hessian::batch<low_rank<hosm::dynamic>, float>(4, 2, 0)), hosm::error);
    CHECK_THROWS_WITH_AS((hessian::batch<low_rank<hosm::dynamic>, double>(4, 2, 5)),
                         doctest::Contains("'rank' = 5"), hosm::error);
    const hessian::batch<low_rank<hosm::dynamic>, double> ok(4, 2, 4);  // rank = dim is fine
    CHECK(ok.rank() == 4);
    CHECK(ok.sample(1).rank == 4);
}
#endif

namespace {
/// Runs every per-sample operation of sample j inside a back-end kernel.
template <class T>
struct low_rank_kernel {
    batch_view<const T> alpha, Bm, v, U, w, s1, z, M;  // Bm: (D*R) x N, U: (D*m) x N, M: (D*D) x N
    index_t D, R, m;
    T c, sigma;
    batch_view<T> scal, vec, diag, dns, aff_a, aff_B;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const low_rank_view<const T> h{alpha.col(j), Bm.col(j), D, R};
        T* s = scal.col(j);
        s[0] = quad_form(h, v.col(j));
        s[1] = trace(h);
        s[2] = frobenius_sq(h);
        s[3] = residual_sq(h, M.col(j));
        s[4] = residual_sq_ipr(h, c, m, w.col(j), U.col(j));
        s[5] = diag_residual_sq_ipr(h, c, m, w.col(j), U.col(j));
        s[6] = d2sm_residual_sq(h, s1.col(j), z.col(j), sigma);
        s[7] = d2sm_diag_residual_sq(h, s1.col(j), z.col(j), sigma);
        apply(h, v.col(j), vec.col(j));
        diagonal_of(h, diag.col(j));
        to_dense(h, dns.col(j));
        affine(h, T(0.5), T(2), low_rank_view<T>{aff_a.col(j), aff_B.col(j), D, R});
    }
};
}  // namespace

TEST_CASE_TEMPLATE("hessian/low_rank: the per-sample operations run in a back end's kernels", B,
                   HOSM_TEST_BACKENDS) {
    using T = double;
    const index_t D = 5, R = 2, N = 7, m = 3;
    const T c = 0.4, sigma = 0.8;
    const md ah = md::Random(D, N), Bh = md::Random(D * R, N), vh = md::Random(D, N),
             Uh = md::Random(D * m, N), wh = md::Random(m, N), s1h = md::Random(D, N),
             zh = md::Random(D, N), Mh = md::Random(D * D, N);
    const batch<T, B> alpha(ah), Bm(Bh), v(vh), U(Uh), w(wh), s1(s1h), z(zh), M(Mh);
    batch<T, B> scal(8, N), vec(D, N), diag(D, N), dns(D * D, N), aff_a(D, N), aff_B(D * R, N);
    backend::for_each_index<B>(
        N, low_rank_kernel<T>{alpha.view(), Bm.view(), v.view(), U.view(), w.view(), s1.view(),
                              z.view(), M.view(), D, R, m, c, sigma, scal.view(), vec.view(),
                              diag.view(), dns.view(), aff_a.view(), aff_B.view()});
    const md S = scal.to_eigen(), V = vec.to_eigen(), Dg = diag.to_eigen(), Dn = dns.to_eigen(),
             Aa = aff_a.to_eigen(), AB = aff_B.to_eigen();
    // against the same functions on the host (a device may contract into FMAs)
    const double tol = 1e-12;
    for (index_t j = 0; j < N; ++j) {
        CAPTURE(j);
        const low_rank_view<const T> h{ah.col(j).data(), Bh.col(j).data(), D, R};
        const double want[8] = {
            quad_form(h, vh.col(j).data()),
            trace(h),
            frobenius_sq(h),
            residual_sq(h, Mh.col(j).data()),
            residual_sq_ipr(h, c, m, wh.col(j).data(), Uh.col(j).data()),
            diag_residual_sq_ipr(h, c, m, wh.col(j).data(), Uh.col(j).data()),
            d2sm_residual_sq(h, s1h.col(j).data(), zh.col(j).data(), sigma),
            d2sm_diag_residual_sq(h, s1h.col(j).data(), zh.col(j).data(), sigma)};
        for (int k = 0; k < 8; ++k) CHECK(close(S(k, j), want[k], 1 + std::abs(want[k]), tol));
        vd av(D), dg(D), a2(D);
        md dn(D, D), B2(D, R);
        apply(h, vh.col(j).data(), av.data());
        diagonal_of(h, dg.data());
        to_dense(h, dn.data());
        affine(h, 0.5, 2.0, low_rank_view<T>{a2.data(), B2.data(), D, R});
        auto near = [&](const auto& x, const auto& y) {
            return (x - y).cwiseAbs().maxCoeff() <= tol * (1 + y.cwiseAbs().maxCoeff());
        };
        CHECK(near(V.col(j), av));
        CHECK(near(Dg.col(j), dg));
        CHECK(near(Dn.col(j), dn.reshaped()));
        CHECK(near(Aa.col(j), a2));
        CHECK(near(AB.col(j), B2.reshaped()));
    }
}
