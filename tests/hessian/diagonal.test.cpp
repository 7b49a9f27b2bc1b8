// Tests of the per-sample operations of hessian::diagonal
// (hosm/hessian/diagonal.hpp).
//
// Oracle: the dense Eigen computation in double on the same (float or double)
// inputs. Tolerances are relative to the magnitude of the terms that are
// summed (e.g. (|H| |v|)_i for (H v)_i, sum_ij (|H_ij| + |T_ij|)^2 for
// ||H - T||_F^2, which also bounds the rounding of the Gram-matrix form of the
// off-diagonal energy): 1e-12 in double and 1e-4 in float (~1e3 epsilons).
#include "support/backends.hpp"

#include <cmath>
#include <random>
#include <type_traits>
#include <vector>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/hessian/diagonal.hpp>

using namespace hosm;
using hessian::diagonal_view;

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
/// checks are in full.test.cpp.
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
TEST_CASE_TEMPLATE("hessian/diagonal: every operation against the dense Eigen computation", T,
                   float, double) {
    gen<T> g(21);
    for (index_t D : {1, 5, 17}) {
        CAPTURE(D);
        std::vector<T> d = g(D);
        const diagonal_view<const T> H{d.data(), D};
        const md Hd = dense(d.data(), D, 1).asDiagonal();
        check_against_dense(H, Hd, md(Hd.cwiseAbs()), g);
        CHECK(trace(diagonal_view<T>{d.data(), D}) == trace(H));  // mutable view converts
    }
}

TEST_CASE_TEMPLATE("hessian/diagonal: affine and apply in place", T, float, double) {
    gen<T> g(22);
    const index_t D = 17;
    const std::vector<T> d = g(D), v = g(D);
    std::vector<T> out(D);
    for (T a : {T(-0.7), T(0), T(2.5)}) {
        affine(diagonal_view<const T>{d.data(), D}, a, T(1.3), diagonal_view<T>{out.data(), D});
        for (index_t i = 0; i < D; ++i) CHECK(out[i] == a * d[i] + T(1.3));
        std::vector<T> in_place(d);
        affine(diagonal_view<const T>{in_place.data(), D}, a, T(1.3),
               diagonal_view<T>{in_place.data(), D});
        CHECK(in_place == out);
    }
    std::vector<T> x(v);  // apply with out == v is allowed for the diagonal structure
    apply(diagonal_view<const T>{d.data(), D}, x.data(), x.data());
    for (index_t i = 0; i < D; ++i) CHECK(x[i] == d[i] * v[i]);
}

TEST_CASE("hessian/diagonal: the Gram form of the off-diagonal energy") {
    const index_t D = 4;
    const double d[] = {1, -2, 0.5, 3};
    // target c I + w1 e1 e1^T + w2 e3 e3^T is diagonal: no off-diagonal energy
    const double e[] = {1, 0, 0, 0, 0, 0, 1, 0}, w[] = {2, -1.5};
    const diagonal_view<const double> H{d, D};
    const double want = (1 - 0.25 - 2) * (1 - 0.25 - 2) + (-2 - 0.25) * (-2 - 0.25) +
                        (0.5 - 0.25 + 1.5) * (0.5 - 0.25 + 1.5) + (3 - 0.25) * (3 - 0.25);
    CHECK(residual_sq_ipr(H, 0.25, 2, w, e) == want);
    CHECK(diag_residual_sq_ipr(H, 0.25, 2, w, e) == want);
    // a dense rank-one target u u^T with u = (1, 1, 1, 1): off-diagonal energy 12
    const double u[] = {1, 1, 1, 1}, one[] = {1};
    const double diag_part = 0 + 9 + 0.25 + 4;
    CHECK(residual_sq_ipr(H, 0.0, 1, one, u) == diag_part + 12);
    CHECK(diag_residual_sq_ipr(H, 0.0, 1, one, u) == diag_part);
}
#endif

namespace {
/// Runs every per-sample operation of sample j inside a back-end kernel.
template <class T>
struct diagonal_kernel {
    batch_view<const T> H, v, U, w, s1, z, M;  // H: D x N, U: (D*m) x N, w: m x N, M: (D*D) x N
    index_t D, m;
    T c, sigma;
    batch_view<T> scal, vec, diag, dns, aff;  // 8 x N, D x N, D x N, (D*D) x N, D x N
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const diagonal_view<const T> h{H.col(j), D};
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
        affine(h, T(0.5), T(2), diagonal_view<T>{aff.col(j), D});
    }
};
}  // namespace

TEST_CASE_TEMPLATE("hessian/diagonal: the per-sample operations run in a back end's kernels", B,
                   HOSM_TEST_BACKENDS) {
    using T = double;
    const index_t D = 5, N = 7, m = 3;
    const T c = 0.4, sigma = 0.8;
    const md Hh = md::Random(D, N), vh = md::Random(D, N), Uh = md::Random(D * m, N),
             wh = md::Random(m, N), s1h = md::Random(D, N), zh = md::Random(D, N),
             Mh = md::Random(D * D, N);
    const batch<T, B> H(Hh), v(vh), U(Uh), w(wh), s1(s1h), z(zh), M(Mh);
    batch<T, B> scal(8, N), vec(D, N), diag(D, N), dns(D * D, N), aff(D, N);
    backend::for_each_index<B>(
        N, diagonal_kernel<T>{H.view(), v.view(), U.view(), w.view(), s1.view(), z.view(), M.view(),
                              D, m, c, sigma, scal.view(), vec.view(), diag.view(), dns.view(),
                              aff.view()});
    const md S = scal.to_eigen(), V = vec.to_eigen(), Dg = diag.to_eigen(), Dn = dns.to_eigen(),
             A = aff.to_eigen();
    // against the same functions on the host (a device may contract into FMAs)
    const double tol = 1e-12;
    for (index_t j = 0; j < N; ++j) {
        CAPTURE(j);
        const diagonal_view<const T> h{Hh.col(j).data(), D};
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
        vd av(D), af(D);
        md dn(D, D);
        apply(h, vh.col(j).data(), av.data());
        to_dense(h, dn.data());
        affine(h, 0.5, 2.0, diagonal_view<T>{af.data(), D});
        CHECK((V.col(j) - av).cwiseAbs().maxCoeff() <= tol * (1 + av.cwiseAbs().maxCoeff()));
        CHECK(Dg.col(j) == Hh.col(j));
        CHECK(Dn.col(j) == dn.reshaped());
        CHECK((A.col(j) - af).cwiseAbs().maxCoeff() <= tol * (1 + af.cwiseAbs().maxCoeff()));
    }
}
