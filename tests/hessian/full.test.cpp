// Tests of the per-sample operations of hessian::full (hosm/hessian/full.hpp).
//
// Oracle: the dense Eigen computation in double on the same (float or double)
// inputs. Tolerances are relative to the magnitude of the terms that are
// summed (the usual rounding-error bound: e.g. (|H| |v|)_i for (H v)_i, and
// sum_ij (|H_ij| + |T_ij|)^2 for ||H - T||_F^2): 1e-12 in double (the sums here
// have at most a few thousand terms, so the bound is ~1e-13) and 1e-4 in float
// (~1e3 float epsilons).
#include "support/backends.hpp"

#include <cmath>
#include <random>
#include <type_traits>
#include <vector>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/hessian/full.hpp>

using namespace hosm;
using hessian::full_view;

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
/// checks are in diagonal.test.cpp and low_rank.test.cpp.
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
TEST_CASE_TEMPLATE("hessian/full: every operation against the dense Eigen computation", T, float,
                   double) {
    gen<T> g(11);
    for (index_t D : {1, 5, 17}) {
        CAPTURE(D);
        std::vector<T> h = g(D * D);
        for (index_t j = 0; j < D; ++j)  // symmetric, as a Hessian
            for (index_t i = 0; i < j; ++i) h[i + j * D] = h[j + i * D];
        const full_view<const T> H{h.data(), D};
        const md Hd = dense(h.data(), D, D);
        check_against_dense(H, Hd, md(Hd.cwiseAbs()), g);
        // a mutable view converts to the const view the operations take
        CHECK(trace(full_view<T>{h.data(), D}) == trace(H));
    }
}

TEST_CASE_TEMPLATE("hessian/full: affine a H + b I, out of place and in place", T, float, double) {
    gen<T> g(12);
    for (index_t D : {1, 5, 17}) {
        CAPTURE(D);
        std::vector<T> h = g(D * D), out(D * D);
        const md Hd = dense(h.data(), D, D);
        for (T a : {T(-0.7), T(0), T(2.5)}) {
            const T b = T(1.3);
            affine(full_view<const T>{h.data(), D}, a, b, full_view<T>{out.data(), D});
            const md want = double(a) * Hd + double(b) * md::Identity(D, D);
            const double s = std::abs(double(a)) * Hd.cwiseAbs().maxCoeff() + std::abs(double(b));
            for (index_t k = 0; k < D * D; ++k) CHECK(close(out[k], want.data()[k], s, rel_tol<T>));
            std::vector<T> in_place(h);  // Hout aliasing H gives the same numbers
            affine(full_view<const T>{in_place.data(), D}, a, b, full_view<T>{in_place.data(), D});
            CHECK(in_place == out);
        }
    }
}

TEST_CASE("hessian/full: residuals vanish at their own target") {
    // H = c I + U diag(w) U^T exactly representable: residual 0 up to rounding
    const index_t D = 4;
    const double u[] = {1, 0, 2, -1, 0, 1, 1, 3}, w[] = {0.5, -2};
    md Ud = Eigen::Map<const md>(u, D, 2);
    md Hd = 3.0 * md::Identity(D, D) + Ud * vd::Map(w, 2).asDiagonal() * Ud.transpose();
    CHECK(residual_sq_ipr(full_view<const double>{Hd.data(), D}, 3.0, 2, w, u) == 0.0);
    CHECK(diag_residual_sq_ipr(full_view<const double>{Hd.data(), D}, 3.0, 2, w, u) == 0.0);
    CHECK(residual_sq(full_view<const double>{Hd.data(), D}, Hd.data()) == 0.0);
}
#endif

namespace {
/// Runs every per-sample operation of sample j inside a back-end kernel.
template <class T>
struct full_kernel {
    batch_view<const T> H, v, U, w, s1, z;  // H: (D*D) x N, U: (D*m) x N, w: m x N
    index_t D, m;
    T c, sigma;
    batch_view<T> scal, vec, diag, dns, aff;  // 8 x N, D x N, D x N, (D*D) x N, (D*D) x N
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const full_view<const T> h{H.col(j), D};
        T* s = scal.col(j);
        s[0] = quad_form(h, v.col(j));
        s[1] = trace(h);
        s[2] = frobenius_sq(h);
        s[3] = residual_sq(h, H.col((j + 1) % H.count));
        s[4] = residual_sq_ipr(h, c, m, w.col(j), U.col(j));
        s[5] = diag_residual_sq_ipr(h, c, m, w.col(j), U.col(j));
        s[6] = d2sm_residual_sq(h, s1.col(j), z.col(j), sigma);
        s[7] = d2sm_diag_residual_sq(h, s1.col(j), z.col(j), sigma);
        apply(h, v.col(j), vec.col(j));
        diagonal_of(h, diag.col(j));
        to_dense(h, dns.col(j));
        affine(h, T(0.5), T(2), full_view<T>{aff.col(j), D});
    }
};
}  // namespace

TEST_CASE_TEMPLATE("hessian/full: the per-sample operations run in a back end's kernels", B,
                   HOSM_TEST_BACKENDS) {
    using T = double;
    const index_t D = 5, N = 7, m = 3;
    const T c = 0.4, sigma = 0.8;
    const md Hh = md::Random(D * D, N), vh = md::Random(D, N), Uh = md::Random(D * m, N),
             wh = md::Random(m, N), s1h = md::Random(D, N), zh = md::Random(D, N);
    const batch<T, B> H(Hh), v(vh), U(Uh), w(wh), s1(s1h), z(zh);
    batch<T, B> scal(8, N), vec(D, N), diag(D, N), dns(D * D, N), aff(D * D, N);
    backend::for_each_index<B>(
        N, full_kernel<T>{H.view(), v.view(), U.view(), w.view(), s1.view(), z.view(), D, m, c,
                          sigma, scal.view(), vec.view(), diag.view(), dns.view(), aff.view()});
    const md S = scal.to_eigen(), V = vec.to_eigen(), Dg = diag.to_eigen(), Dn = dns.to_eigen(),
             A = aff.to_eigen();
    // against the same functions called on the host (bitwise equality is not
    // required: a device may contract a * b + c into an FMA)
    const double tol = 1e-12;
    for (index_t j = 0; j < N; ++j) {
        CAPTURE(j);
        const full_view<const T> h{Hh.col(j).data(), D};
        const double want[8] = {
            quad_form(h, vh.col(j).data()),
            trace(h),
            frobenius_sq(h),
            residual_sq(h, Hh.col((j + 1) % N).data()),
            residual_sq_ipr(h, c, m, wh.col(j).data(), Uh.col(j).data()),
            diag_residual_sq_ipr(h, c, m, wh.col(j).data(), Uh.col(j).data()),
            d2sm_residual_sq(h, s1h.col(j).data(), zh.col(j).data(), sigma),
            d2sm_diag_residual_sq(h, s1h.col(j).data(), zh.col(j).data(), sigma)};
        for (int k = 0; k < 8; ++k) CHECK(close(S(k, j), want[k], 1 + std::abs(want[k]), tol));
        vd av(D), dg(D);
        md dn(D, D), af(D, D);
        apply(h, vh.col(j).data(), av.data());
        diagonal_of(h, dg.data());
        to_dense(h, dn.data());
        affine(h, 0.5, 2.0, full_view<T>{af.data(), D});
        CHECK((V.col(j) - av).cwiseAbs().maxCoeff() <= tol * (1 + av.cwiseAbs().maxCoeff()));
        CHECK(Dg.col(j) == dg);
        CHECK(Dn.col(j) == dn.reshaped());
        CHECK((A.col(j) - af.reshaped()).cwiseAbs().maxCoeff() <=
              tol * (1 + af.cwiseAbs().maxCoeff()));
    }
}
