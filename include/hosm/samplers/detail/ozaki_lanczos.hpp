// hosm/samplers/detail/ozaki_lanczos.hpp — y = f(H) v for a symmetric H given
// only by products H u, by the Lanczos process (host only: Eigen).
//
//   lanczos_apply(D, Hv, v, f, kmax, tol, norm_bound, out) -> lanczos_result
//
// Hv(u, w) writes w = H u (D numbers each); f is a scalar function applied to
// the Ritz values; norm_bound >= ||H||_2 (used for the breakdown test).
//
// Algorithm: q_1 = v / |v|; for j = 1, 2, ...: w = H q_j, alpha_j = q_j . w,
// w is orthogonalized against q_1..q_j twice (full reorthogonalization, so
// V_j = [q_1..q_j] stays orthonormal to working precision), beta_j = |w|,
// q_{j+1} = w / beta_j. With T_j the j x j tridiagonal matrix (alpha, beta),
//
//     y_j = |v| V_j f(T_j) e_1,   f(T_j) e_1 = Q f(Theta) Q^T e_1
//
// (Eigen's SelfAdjointEigenSolver::computeFromTridiagonal). Stops, at the
// first j that satisfies one of:
//   * beta_j <= 10 sqrt(D) eps_T norm_bound: span(V_j) is H-invariant (to
//     working precision) and contains v, so y_j = f(H) v exactly;
//   * j = D: V_j spans R^D, again exact;
//   * j >= 2 and |y_j - y_{j-1}| <= tol |y_j| (a-posteriori test, computed on
//     the coefficient vectors since V_j is orthonormal);
//   * j = kmax (then converged = false unless one of the above also held).
//
// A-priori error (Saad 1992; exact arithmetic, which full reorthogonalization
// maintains to working precision): for any f and spectrum(H) in [a, b],
//
//     |f(H) v - y_j| <= 2 |v| E_{j-1}(f; [a, b]),
//
// E_k the error of the best uniform polynomial approximation of degree k, as
// Lanczos reproduces polynomials of degree < j exactly and spectrum(T_j) lies
// in [a, b]. For the Ozaki drift f(l) = (e^{eps l/2} - 1)/l = int_0^{eps/2}
// e^{s l} ds with b <= 0, the Chebyshev coefficients of e^{s l} on [a, b] are
// 2 e^{s(a+b)/2} I_i(s(b-a)/2) and I_i(x) <= (x/2)^i e^x / i! (from the
// Poisson integral of I_i), so E_{j-1}(e^{s .}) <= 2 e^{s b} r^j e^r / j! with
// r = s (b - a) / 4; integrating over s in [0, eps/2]:
//
//     |f(H) v - y_j| <= 2 eps |v| rho^j e^rho / j!,   rho = eps (b - a) / 8
//
// (drift_error_bound below). This holds when the curvature policy is inactive
// on spectrum(H) (b <= -floor); otherwise f has a kink and only the generic
// bound applies. For the noise factor sqrt(variance(l)) no closed bound is
// stated: it is analytic on a neighbourhood of (-inf, 0] (its nearest
// singularities are at eps l = +-2 pi i), so E_k decays geometrically, and the
// a-posteriori test controls the stopping.
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>

#include <hosm/core/types.hpp>

namespace hosm::samplers::detail {

struct lanczos_result {
    index_t iterations = 0;  // Krylov dimension j used
    bool converged = false;  // exact (invariant subspace or j = D) or tol met
};

/// 2 eps |v| rho^j e^rho / j!, rho = eps (b - a) / 8 (see the header).
inline double drift_error_bound(double eps, double a, double b, index_t j, double v_norm) {
    const double rho = eps * (b - a) / 8.0;
    return 2.0 * eps * v_norm * std::exp(static_cast<double>(j) * std::log(rho) + rho -
                                         std::lgamma(static_cast<double>(j) + 1.0));
}

template <class T, class MatVec, class F>
lanczos_result lanczos_apply(index_t D, const MatVec& Hv, const T* v, const F& f, index_t kmax,
                             T tol, T norm_bound, T* out) {
    using vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
    using mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
    Eigen::Map<const vec> vin(v, D);
    Eigen::Map<vec> y(out, D);
    const T v_norm = vin.norm();
    if (v_norm == T(0)) {
        y.setZero();
        return {0, true};
    }
    if (kmax <= 0 || kmax > D) kmax = D;
    const T breakdown = T(10) * std::sqrt(static_cast<T>(D)) * std::numeric_limits<T>::epsilon() *
                        std::max(norm_bound, std::numeric_limits<T>::min());
    mat V(D, kmax);
    vec alpha(kmax), beta(kmax), w(D), c, c_prev;
    V.col(0) = vin / v_norm;
    Eigen::SelfAdjointEigenSolver<mat> es;
    lanczos_result res;
    for (index_t j = 0; j < kmax; ++j) {
        Hv(V.col(j).data(), w.data());
        alpha(j) = V.col(j).dot(w);
        for (int pass = 0; pass < 2; ++pass) {
            const auto Vj = V.leftCols(j + 1);
            w.noalias() -= Vj * (Vj.transpose() * w);
        }
        beta(j) = w.norm();
        const index_t m = j + 1;
        res.iterations = m;
        const vec d = alpha.head(m);
        const vec e = beta.head(m - 1);
        es.computeFromTridiagonal(d, e, Eigen::ComputeEigenvectors);
        const mat& Q = es.eigenvectors();
        vec ft(m);
        for (index_t i = 0; i < m; ++i) ft(i) = f(es.eigenvalues()(i)) * Q(0, i);
        c = Q * ft;
        if (beta(j) <= breakdown || m == D) {
            res.converged = true;
            break;
        }
        if (j >= 1) {
            T diff2 = (c.head(j) - c_prev).squaredNorm() + c(j) * c(j);
            if (std::sqrt(diff2) <= tol * c.norm()) {
                res.converged = true;
                break;
            }
        }
        c_prev = c;
        if (j + 1 < kmax) V.col(j + 1) = w / beta(j);
    }
    y.noalias() = v_norm * (V.leftCols(res.iterations) * c);
    return res;
}

}  // namespace hosm::samplers::detail
