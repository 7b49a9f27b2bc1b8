// hosm/hessian/solve.hpp — linear solves and log-determinants of one
// symmetric positive definite Hessian-structured matrix (host only: Eigen).
//
//   solve(H, rhs, out, n = 1)   out = H^{-1} rhs, rhs and out D x n column-major
//                               (out may be rhs)
//   logdet(H)                   log det H
//
// By structure (D the dimension, R the rank):
//   full       Eigen's LLT of H (its lower triangle is read; H is checked to be
//              symmetric to sqrt(eps) relative to max |H_ij|);
//              logdet = 2 sum_i log L_ii.                      O(D^3 + D^2 n)
//   diagonal   x_i = rhs_i / d_i, needs every d_i > 0;
//              logdet = sum_i log d_i.                          O(D n)
//   low_rank   H = A + B B^T, A = diag(alpha), needs every alpha_i > 0.
//              Woodbury:  H^{-1} = A^{-1} - A^{-1} B K^{-1} B^T A^{-1},
//              with the capacitance K = I_R + B^T A^{-1} B (SPD whenever
//              alpha > 0, Cholesky by Eigen's LLT), so with W = A^{-1} B and
//              y = A^{-1} rhs:  x = y - W K^{-1} (B^T y).       O(D R^2 + R^3 + D R n)
//              Matrix determinant lemma:
//              logdet = sum_i log alpha_i + logdet K.
//
// Errors (hosm::error naming the function, the argument and the value, never a
// NaN): a non-finite entry in H or rhs; an asymmetric full H; a full H whose
// Cholesky factorization fails ("argument 'H' is not positive definite:
// smallest eigenvalue = ..."); d_i <= 0 or alpha_i <= 0 (named with its index,
// e.g. "alpha[3] = -0.2"); a solution that overflows (H numerically singular).
// A low-rank H with some alpha_i <= 0 may still be positive definite, but the
// Woodbury form needs diag(alpha) invertible and positive, so it is refused.
#pragma once
#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <type_traits>

#include <hosm/core/checks.hpp>
#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>

namespace hosm::hessian {

namespace detail {

template <class T>
using solve_matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

template <class T>
void check_solve_args(const char* where, index_t D, const T* rhs, const T* out, index_t n) {
    hosm::detail::check_at_least(where, "H.dim", D, 1);
    hosm::detail::check_at_least(where, "n", n, 0);
    if (n > 0 && (rhs == nullptr || out == nullptr))
        hosm::detail::fail(where, "argument '", rhs == nullptr ? "rhs" : "out", "' is null");
    if (n > 0) hosm::detail::check_all_finite(where, "rhs", rhs, D * n);
}

template <class T>
void check_solution(const char* where, const T* out, index_t size) {
    for (index_t k = 0; k < size; ++k)
        if (!std::isfinite(static_cast<double>(out[k])))
            hosm::detail::fail(where,
                               "argument 'H' is numerically singular: the solution has a "
                               "non-finite entry at flat index ",
                               k);
}

/// The LLT factor of a full SPD H, or hosm::error naming the smallest eigenvalue.
template <class T>
Eigen::LLT<solve_matrix<T>> full_llt(const char* where, const T* h, index_t D) {
    hosm::detail::check_at_least(where, "H.dim", D, 1);
    hosm::detail::check_all_finite(where, "H", h, D * D);
    Eigen::Map<const solve_matrix<T>> H(h, D, D);
    const T scale = H.cwiseAbs().maxCoeff();
    const T tol = std::sqrt(std::numeric_limits<T>::epsilon()) * scale;
    for (index_t j = 0; j < D; ++j)
        for (index_t i = j + 1; i < D; ++i)
            if (std::abs(H(i, j) - H(j, i)) > tol)
                hosm::detail::fail(where, "argument 'H' is not symmetric: H(", i, ", ", j,
                                   ") = ", H(i, j), " but H(", j, ", ", i, ") = ", H(j, i));
    Eigen::LLT<solve_matrix<T>> llt(H);
    if (llt.info() != Eigen::Success) {
        Eigen::SelfAdjointEigenSolver<solve_matrix<T>> eig(H, Eigen::EigenvaluesOnly);
        hosm::detail::fail(where, "argument 'H' is not positive definite: smallest eigenvalue = ",
                           eig.eigenvalues()(0));
    }
    return llt;
}

template <class T>
void check_positive_entries(const char* where, const char* entry, const T* p, index_t D) {
    for (index_t i = 0; i < D; ++i)
        if (!(p[i] > T(0)) || !std::isfinite(static_cast<double>(p[i])))
            hosm::detail::fail(where, "argument 'H' is not positive definite: ", entry, "[", i,
                               "] = ", p[i], " (must be finite and > 0)");
}

/// Factorization data of the Woodbury form of a low-rank H = diag(alpha) + B B^T.
template <class T>
struct woodbury {
    solve_matrix<T> W;                  // A^{-1} B, D x R
    Eigen::LLT<solve_matrix<T>> K_llt;  // of K = I + B^T A^{-1} B
};

template <class T>
woodbury<T> low_rank_woodbury(const char* where, const T* alpha, const T* B, index_t D, index_t R) {
    hosm::detail::check_at_least(where, "H.dim", D, 1);
    hosm::detail::check_at_least(where, "H.rank", R, 0);
    check_positive_entries(where, "alpha", alpha, D);
    hosm::detail::check_all_finite(where, "H.B", B, D * R);
    Eigen::Map<const solve_matrix<T>> Bm(B, D, R);
    Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>> a(alpha, D);
    woodbury<T> f;
    f.W = a.cwiseInverse().asDiagonal() * Bm;
    solve_matrix<T> K = solve_matrix<T>::Identity(R, R);
    K.noalias() += Bm.transpose() * f.W;
    f.K_llt.compute(K);
    if (f.K_llt.info() != Eigen::Success)  // K >= I in exact arithmetic
        hosm::detail::fail(where,
                           "argument 'H' is numerically singular: the Woodbury "
                           "capacitance I + B^T diag(alpha)^-1 B failed to factorize");
    return f;
}

}  // namespace detail

/// out = H^{-1} rhs for a full SPD H; rhs and out are D x n column-major and
/// may be the same array. Throws hosm::error when H is not SPD.
template <class U>
void solve(full_view<U> H, const std::remove_const_t<U>* rhs, std::remove_const_t<U>* out,
           index_t n = 1) {
    using T = std::remove_const_t<U>;
    constexpr const char* where = "hessian::solve<full>";
    detail::check_solve_args(where, H.dim, rhs, out, n);
    const auto llt = detail::full_llt<T>(where, H.h, H.dim);
    if (n == 0) return;
    detail::solve_matrix<T> x = Eigen::Map<const detail::solve_matrix<T>>(rhs, H.dim, n);
    llt.solveInPlace(x);
    detail::check_solution(where, x.data(), x.size());
    Eigen::Map<detail::solve_matrix<T>>(out, H.dim, n) = x;
}

/// out = diag(d)^{-1} rhs; needs every d_i > 0. rhs and out may alias.
template <class U>
void solve(diagonal_view<U> H, const std::remove_const_t<U>* rhs, std::remove_const_t<U>* out,
           index_t n = 1) {
    using T = std::remove_const_t<U>;
    constexpr const char* where = "hessian::solve<diagonal>";
    detail::check_solve_args(where, H.dim, rhs, out, n);
    detail::check_positive_entries(where, "d", H.d, H.dim);
    const index_t D = H.dim;
    for (index_t j = 0; j < n; ++j)
        for (index_t i = 0; i < D; ++i) {
            const T x = rhs[i + j * D] / H.d[i];
            if (!std::isfinite(static_cast<double>(x)))
                hosm::detail::fail(where, "argument 'H' is numerically singular: d[", i,
                                   "] = ", H.d[i], " gives a non-finite solution");
            out[i + j * D] = x;
        }
}

/// out = (diag(alpha) + B B^T)^{-1} rhs by the Woodbury identity; needs every
/// alpha_i > 0. rhs and out may alias.
template <class U>
void solve(low_rank_view<U> H, const std::remove_const_t<U>* rhs, std::remove_const_t<U>* out,
           index_t n = 1) {
    using T = std::remove_const_t<U>;
    constexpr const char* where = "hessian::solve<low_rank>";
    detail::check_solve_args(where, H.dim, rhs, out, n);
    const auto f = detail::low_rank_woodbury<T>(where, H.alpha, H.B, H.dim, H.rank);
    if (n == 0) return;
    const index_t D = H.dim, R = H.rank;
    Eigen::Map<const detail::solve_matrix<T>> Bm(H.B, D, R);
    Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>> a(H.alpha, D);
    // y = A^{-1} rhs;  x = y - W K^{-1} (B^T y)
    detail::solve_matrix<T> y =
        a.cwiseInverse().asDiagonal() * Eigen::Map<const detail::solve_matrix<T>>(rhs, D, n);
    if (R > 0) {
        detail::solve_matrix<T> p = Bm.transpose() * y;
        f.K_llt.solveInPlace(p);
        y.noalias() -= f.W * p;
    }
    detail::check_solution(where, y.data(), y.size());
    Eigen::Map<detail::solve_matrix<T>>(out, D, n) = y;
}

/// log det H for a full SPD H (2 sum log L_ii of its Cholesky factor).
template <class U>
std::remove_const_t<U> logdet(full_view<U> H) {
    using T = std::remove_const_t<U>;
    const auto llt = detail::full_llt<T>("hessian::logdet<full>", H.h, H.dim);
    return T(2) * llt.matrixLLT().diagonal().array().log().sum();
}

/// log det diag(d) = sum_i log d_i; needs every d_i > 0.
template <class U>
std::remove_const_t<U> logdet(diagonal_view<U> H) {
    using T = std::remove_const_t<U>;
    constexpr const char* where = "hessian::logdet<diagonal>";
    hosm::detail::check_at_least(where, "H.dim", H.dim, 1);
    detail::check_positive_entries(where, "d", H.d, H.dim);
    T s = T(0);
    for (index_t i = 0; i < H.dim; ++i) s += std::log(H.d[i]);
    return s;
}

/// log det(diag(alpha) + B B^T) = sum_i log alpha_i + logdet(I + B^T A^{-1} B);
/// needs every alpha_i > 0.
template <class U>
std::remove_const_t<U> logdet(low_rank_view<U> H) {
    using T = std::remove_const_t<U>;
    const auto f =
        detail::low_rank_woodbury<T>("hessian::logdet<low_rank>", H.alpha, H.B, H.dim, H.rank);
    T s = T(0);
    for (index_t i = 0; i < H.dim; ++i) s += std::log(H.alpha[i]);
    if (H.rank > 0) s += T(2) * f.K_llt.matrixLLT().diagonal().array().log().sum();
    return s;
}

}  // namespace hosm::hessian
