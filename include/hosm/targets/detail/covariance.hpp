// hosm/targets/detail/covariance.hpp — host-side checks and factorization of
// a covariance matrix (Eigen), shared by the Gaussian targets.
//
//   factor_covariance(where, name, Sigma, D) -> covariance_factor<T>
//
// Checks (hosm::error naming `where` and `name`): Sigma is D x D, finite,
// symmetric to sqrt(eps) relative to max |Sigma_ij|, and positive definite
// (Eigen's LLT succeeds; otherwise the message reports "argument 'Sigma' is
// not positive definite: smallest eigenvalue = ..."). Returns the symmetrized
// Sigma, its Cholesky factor L (Sigma = L L^T, lower), the precision
// P = Sigma^{-1}, log det Sigma = 2 sum log L_ii, the largest eigenvalue of P,
// and whether Sigma is diagonal (every off-diagonal entry exactly 0).
#pragma once
#include <Eigen/Dense>
#include <cmath>
#include <limits>

#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>

namespace hosm::targets::detail {

template <class T>
struct covariance_factor {
    matrix<T> Sigma, L, P;
    T logdet = T(0);
    T precision_max = T(0);  // largest eigenvalue of P
    bool diagonal = false;
};

template <class T>
covariance_factor<T> factor_covariance(const char* where, const char* name, const matrix<T>& S,
                                       index_t D) {
    if (S.rows() != D || S.cols() != D)
        hosm::detail::fail(where, "dimension mismatch: argument '", name, "' is ", S.rows(), " x ",
                           S.cols(), ", expected ", D, " x ", D);
    hosm::detail::check_all_finite(where, name, S.data(), static_cast<index_t>(S.size()));
    const T scale = S.cwiseAbs().maxCoeff();
    const T tol = std::sqrt(std::numeric_limits<T>::epsilon()) * scale;
    bool diagonal = true;
    for (index_t j = 0; j < D; ++j)
        for (index_t i = j + 1; i < D; ++i) {
            if (std::abs(S(i, j) - S(j, i)) > tol)
                hosm::detail::fail(where, "argument '", name, "' is not symmetric: ", name, "(", i,
                                   ", ", j, ") = ", S(i, j), " but ", name, "(", j, ", ", i,
                                   ") = ", S(j, i));
            if (S(i, j) != T(0) || S(j, i) != T(0)) diagonal = false;
        }
    covariance_factor<T> f;
    f.Sigma = (S + S.transpose()) / T(2);
    f.diagonal = diagonal;
    Eigen::LLT<matrix<T>> llt(f.Sigma);
    if (llt.info() != Eigen::Success) {
        Eigen::SelfAdjointEigenSolver<matrix<T>> eig(f.Sigma, Eigen::EigenvaluesOnly);
        hosm::detail::fail(where, "argument '", name,
                           "' is not positive definite: smallest eigenvalue = ",
                           eig.eigenvalues()(0));
    }
    f.L = llt.matrixL();
    f.P = llt.solve(matrix<T>::Identity(D, D));
    f.P = ((f.P + f.P.transpose()) / T(2)).eval();
    f.logdet = T(2) * f.L.diagonal().array().log().sum();
    if (!f.P.allFinite() || !std::isfinite(static_cast<double>(f.logdet)))
        hosm::detail::fail(where, "argument '", name,
                           "' is numerically singular: its inverse is not finite");
    if (diagonal) {
        f.precision_max = f.P.diagonal().maxCoeff();
    } else {
        Eigen::SelfAdjointEigenSolver<matrix<T>> eig(f.P, Eigen::EigenvaluesOnly);
        f.precision_max = eig.eigenvalues()(D - 1);
    }
    return f;
}

}  // namespace hosm::targets::detail
