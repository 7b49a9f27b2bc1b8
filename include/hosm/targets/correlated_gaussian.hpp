// hosm/targets/correlated_gaussian.hpp — the "100-d correlated multivariate
// normal" of seed 000's Table 1, as a reproducible generator.
//
// The seed does not give the covariance (its appendix is not part of it), so
// hosm documents its own construction, a pure function of (dim, seed):
//
//   Sigma = Q diag(lambda) Q^T,   mu = 0,
//   lambda_i = 10^(-1 + 2 i / (D - 1)),  i = 0 .. D-1  (log-spaced in [0.1, 10],
//              condition number 100; lambda = 1 when D = 1),
//   Q        Haar-distributed orthogonal: G = Q_0 R by Householder QR (Eigen),
//            Q = Q_0 diag(sign(R_ii)) (the sign fix makes Q Haar), where
//            G(i, j) = random::stream{seed, 0x434f5252 ("CORR")}.normal<double>(j, i),
//            i.e. column j of G is the D normals of sample index j.
//
// Everything is computed in double and converted to T, so float and double
// targets of one (dim, seed) are the same distribution up to rounding.
//
// A second generator, the FACTOR MODEL (a Gaussian near a k-dimensional
// subspace, the "data near a low-dimensional manifold" picture that seed 000
// Sec. 4.2 gives for its low-rank s2):
//
//   Sigma = diag(psi) + W W^T,   mu = 0,
//   psi_i = 10^(-log10(5) i / (D - 1)),  i = 0 .. D-1  (log-spaced in [0.2, 1]),
//   W     = Q_k diag(sqrt(c)),  c_j = 10^(j / (k - 1)), j = 0 .. k-1 (log-spaced
//           in [1, 10]; c = 1 when k = 1), Q_k the first k columns of the Haar
//           Q above (same stream, so the construction is again a pure function
//           of (dim, factors, seed)).
//
// Its second-order score is exactly diagonal plus PSD rank k (Woodbury):
//
//   -Sigma^-1 = -diag(1/psi) + Psi^-1 W (I_k + W^T Psi^-1 W)^-1 W^T Psi^-1,
//
// so hessian::low_rank<R> (s2 = diag(alpha) + B B^T) represents it without
// error when R >= k, and only approximately when R < k.
//
// API
//   targets::correlated_gaussian<T, B = backend::cpp>(dim, seed) -> targets::gaussian<T, B>
//   targets::correlated_gaussian_covariance(dim, seed)  -> hosm::matrix<double> (Sigma)
//   targets::factor_gaussian<T, B = backend::cpp>(dim, factors, seed) -> targets::gaussian<T, B>
//   targets::factor_gaussian_covariance(dim, factors, seed) -> hosm::matrix<double> (Sigma)
// Errors (hosm::error): dim < 1; factors < 1 or factors > dim.
#pragma once
#include <Eigen/Dense>
#include <cmath>
#include <cstdint>
#include <string>

#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/targets/gaussian.hpp>

namespace hosm::targets {

namespace detail {
/// The Haar orthogonal Q of the documented construction, in double.
inline matrix<double> haar_orthogonal(index_t dim, std::uint64_t seed) {
    const random::stream st{seed, 0x434f5252u};
    matrix<double> G(dim, dim);
    for (index_t j = 0; j < dim; ++j)
        for (index_t i = 0; i < dim; ++i)
            G(i, j) = st.normal<double>(static_cast<std::uint64_t>(j), static_cast<std::uint32_t>(i));
    Eigen::HouseholderQR<matrix<double>> qr(G);
    matrix<double> Q = qr.householderQ();
    const matrix<double> R = qr.matrixQR().triangularView<Eigen::Upper>();
    for (index_t j = 0; j < dim; ++j)
        if (R(j, j) < 0.0) Q.col(j) = -Q.col(j);
    return Q;
}
}  // namespace detail

/// Sigma = Q diag(lambda) Q^T of the documented construction, in double.
inline matrix<double> correlated_gaussian_covariance(index_t dim, std::uint64_t seed) {
    hosm::detail::check_at_least("targets::correlated_gaussian", "dim", dim, 1);
    const matrix<double> Q = detail::haar_orthogonal(dim, seed);
    vector<double> lambda(dim);
    for (index_t i = 0; i < dim; ++i)
        lambda(i) = dim == 1 ? 1.0 : std::pow(10.0, -1.0 + 2.0 * double(i) / double(dim - 1));
    matrix<double> S = Q * lambda.asDiagonal() * Q.transpose();
    return (S + S.transpose()) / 2.0;
}

/// N(0, Sigma) with Sigma = correlated_gaussian_covariance(dim, seed).
template <class T, concepts::Backend B = backend::cpp>
gaussian<T, B> correlated_gaussian(index_t dim, std::uint64_t seed) {
    const matrix<double> S = correlated_gaussian_covariance(dim, seed);
    return gaussian<T, B>(vector<T>::Zero(dim), S.cast<T>());
}

/// Sigma = diag(psi) + W W^T of the documented factor model, in double.
inline matrix<double> factor_gaussian_covariance(index_t dim, index_t factors, std::uint64_t seed) {
    hosm::detail::check_at_least("targets::factor_gaussian", "dim", dim, 1);
    hosm::detail::check_at_least("targets::factor_gaussian", "factors", factors, 1);
    if (factors > dim)
        throw error("targets::factor_gaussian: factors = " + std::to_string(factors) +
                    " exceeds dim = " + std::to_string(dim));
    const matrix<double> Q = detail::haar_orthogonal(dim, seed);
    matrix<double> W = Q.leftCols(factors);
    for (index_t j = 0; j < factors; ++j)
        W.col(j) *= std::sqrt(factors == 1 ? 1.0 : std::pow(10.0, double(j) / double(factors - 1)));
    matrix<double> S = W * W.transpose();
    for (index_t i = 0; i < dim; ++i)
        S(i, i) += dim == 1 ? 1.0 : std::pow(10.0, -std::log10(5.0) * double(i) / double(dim - 1));
    return (S + S.transpose()) / 2.0;
}

/// N(0, Sigma) with Sigma = factor_gaussian_covariance(dim, factors, seed).
template <class T, concepts::Backend B = backend::cpp>
gaussian<T, B> factor_gaussian(index_t dim, index_t factors, std::uint64_t seed) {
    const matrix<double> S = factor_gaussian_covariance(dim, factors, seed);
    return gaussian<T, B>(vector<T>::Zero(dim), S.cast<T>());
}

}  // namespace hosm::targets
