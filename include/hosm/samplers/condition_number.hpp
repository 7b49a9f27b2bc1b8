// hosm/samplers/condition_number.hpp — the condition number kappa(sigma, M) of
// the (sigma, M) M-density of a Gaussian (seed 003, Sec. 4).
//
// Maths. For p = N(mu, Sigma) in R^D with eigenvalues tau_1^2 <= ... <= tau_D^2
// of Sigma, the M-density of (sigma, M) multimeasurement noise is the Gaussian
// in R^{M D} with covariance
//
//     C = 1_M 1_M^T (x) Sigma + sigma^2 I_{M D}       (measurement-major layout,
//                                                      rows m D .. m D + D - 1)
//
// and precision F = C^{-1} (Eq. 22-23). Its condition number kappa =
// lambda_max(F) / lambda_min(F) (Eq. 13) is
//
//     M >= 2:  lambda_max(F) = sigma^-2 ((M - 1) D-fold degenerate),
//              lambda_min(F) = sigma^-2 / (1 + M sigma^-2 tau_max^2)     (Eq. 27),
//              kappa(sigma, M) = 1 + M sigma^-2 tau_max^2                 (Eq. 28);
//     M = 1:   F = (Sigma + sigma^2 I)^{-1},
//              kappa(sigma, 1) = (tau_max^2 + sigma^2) / (tau_min^2 + sigma^2)   (Eq. 14)
//
// (for M = 1 there are no degenerate sigma^-2 eigenvalues, so Eq. 28 does not
// apply). In the universality class [sigma_eff] (sigma = sigma_eff sqrt(M)) Eq. 28
// is 1 + tau_max^2 / sigma_eff^2 for every M >= 2.
//
// API (T float or double; host functions, Eigen)
//   samplers::m_density_covariance(Sigma, mm)          C, (M D) x (M D)
//   samplers::m_density_condition_number(Sigma, mm)    closed form above
//   samplers::m_density_condition_number_dense(Sigma, mm)
//       lambda_max(C) / lambda_min(C) from the eigenvalues of the dense C
//       (= lambda_max(F) / lambda_min(F)); for testing the closed form
//   with mm a noise::multimeasurement<T>{sigma, M} (sigma > 0, M >= 1), and
//   overloads taking a targets::gaussian<T, B> instead of Sigma.
//
// Errors (hosm::error): Sigma empty, not square, non-finite, not symmetric (to
// sqrt(eps) relative) or not positive definite; those of noise::multimeasurement.
#pragma once
#include <cmath>
#include <limits>

#include <Eigen/Dense>

#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/noise/multimeasurement.hpp>
#include <hosm/targets/gaussian.hpp>

namespace hosm::samplers {

namespace detail {

/// Ascending eigenvalues of a checked SPD Sigma.
template <class T>
vector<T> covariance_eigenvalues(const char* where, const matrix<T>& Sigma) {
    const index_t D = static_cast<index_t>(Sigma.rows());
    hosm::detail::check_at_least(where, "Sigma.rows()", D, 1);
    if (Sigma.cols() != Sigma.rows())
        hosm::detail::fail(where, "argument 'Sigma' is ", Sigma.rows(), " x ", Sigma.cols(),
                           ", expected a square matrix");
    hosm::detail::check_all_finite(where, "Sigma", Sigma.data(), D * D);
    const T scale = Sigma.cwiseAbs().maxCoeff();
    const T tol = std::sqrt(std::numeric_limits<T>::epsilon()) * scale;
    if ((Sigma - Sigma.transpose()).cwiseAbs().maxCoeff() > tol)
        hosm::detail::fail(where, "argument 'Sigma' is not symmetric");
    Eigen::SelfAdjointEigenSolver<matrix<T>> eig(Sigma, Eigen::EigenvaluesOnly);
    if (eig.info() != Eigen::Success || !(eig.eigenvalues()(0) > T(0)))
        hosm::detail::fail(where, "argument 'Sigma' is not positive definite (smallest eigenvalue ",
                           eig.eigenvalues()(0), ")");
    return eig.eigenvalues();
}

}  // namespace detail

/// C = 1_M 1_M^T (x) Sigma + sigma^2 I_{M D}.
template <class T>
matrix<T> m_density_covariance(const matrix<T>& Sigma, const noise::multimeasurement<T>& mm) {
    detail::covariance_eigenvalues("samplers::m_density_covariance", Sigma);
    const index_t D = static_cast<index_t>(Sigma.rows()), M = mm.measurements();
    matrix<T> C(M * D, M * D);
    for (index_t a = 0; a < M; ++a)
        for (index_t b = 0; b < M; ++b) C.block(a * D, b * D, D, D) = Sigma;
    C.diagonal().array() += mm.variance();
    return C;
}

/// Eq. 28 (M >= 2) or Eq. 14 (M = 1).
template <class T>
T m_density_condition_number(const matrix<T>& Sigma, const noise::multimeasurement<T>& mm) {
    const vector<T> tau2 =
        detail::covariance_eigenvalues("samplers::m_density_condition_number", Sigma);
    const T s2 = mm.variance();
    const T tmax = tau2(tau2.size() - 1), tmin = tau2(0);
    if (mm.measurements() == 1) return (tmax + s2) / (tmin + s2);
    return T(1) + static_cast<T>(mm.measurements()) * tmax / s2;
}

/// lambda_max(C) / lambda_min(C) of the dense M-density covariance.
template <class T>
T m_density_condition_number_dense(const matrix<T>& Sigma, const noise::multimeasurement<T>& mm) {
    const matrix<T> C = m_density_covariance(Sigma, mm);
    Eigen::SelfAdjointEigenSolver<matrix<T>> eig(C, Eigen::EigenvaluesOnly);
    const vector<T>& l = eig.eigenvalues();
    return l(l.size() - 1) / l(0);
}

template <class T, class B>
matrix<T> m_density_covariance(const targets::gaussian<T, B>& g,
                               const noise::multimeasurement<T>& mm) {
    return m_density_covariance(g.covariance(), mm);
}
template <class T, class B>
T m_density_condition_number(const targets::gaussian<T, B>& g,
                             const noise::multimeasurement<T>& mm) {
    return m_density_condition_number(g.covariance(), mm);
}
template <class T, class B>
T m_density_condition_number_dense(const targets::gaussian<T, B>& g,
                                   const noise::multimeasurement<T>& mm) {
    return m_density_condition_number_dense(g.covariance(), mm);
}

}  // namespace hosm::samplers
