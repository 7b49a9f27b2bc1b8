// hosm/diagnostics/moments.hpp — sample moments of a batch against known ones.
//
// For a host batch x_1..x_N (D x N, one column per sample):
//
//   sample_mean(x)        m = (1/N) sum_j x_j                         (N >= 1)
//   sample_covariance(x)  C = 1/(N-1) sum_j (x_j - m)(x_j - m)^T      (N >= 2)
//   compare(estimate, reference) -> moment_error of two same-shape arrays E, R:
//       max_abs       = max_ij |E_ij - R_ij|
//       frobenius     = ||E - R||_F
//       rel_frobenius = ||E - R||_F / ||R||_F, and ||E - R||_F when R = 0
//                       (a zero reference has no relative scale; documented
//                       fallback to the absolute error, never NaN or inf)
//   moment_errors_of(x, mean, cov) -> {mean: compare(m, mean),
//                                      covariance: compare(C, cov)}
//
// Scale for judging the errors: for i.i.d. draws the sample mean has standard
// error sqrt(C_ii / N) per coordinate and the sample variance
// C_ii sqrt(2 / (N - 1)) for Gaussian draws; for MCMC draws replace N by the
// ESS (hosm/diagnostics/ess.hpp).
//
// Everything is computed in double on the host (x in host memory, any
// floating type). Preconditions, checked (hosm::error names the argument and
// value): dim >= 1; N >= 1 (mean) or N >= 2 (covariance); mean of size D and
// cov of size D x D; estimate and reference of the same shape; every entry of
// x (named by sample and dimension), mean and cov finite.
#pragma once
#include <cmath>
#include <type_traits>

#include <Eigen/Dense>

#include <hosm/backend/cpp.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/core/types.hpp>
#include <hosm/diagnostics/detail/finite.hpp>

namespace hosm::diagnostics {

/// Errors of an estimated array against a reference (see the header comment).
struct moment_error {
    double max_abs = 0;
    double frobenius = 0;
    double rel_frobenius = 0;
};

/// Errors of the sample mean and of the sample covariance.
struct moment_errors {
    moment_error mean;
    moment_error covariance;
};

namespace detail {
template <class U>
Eigen::MatrixXd host_batch_as_double(const char* where, batch_view<U> x, index_t min_count) {
    hosm::detail::check_at_least(where, "x.dim", x.dim, 1);
    hosm::detail::check_at_least(where, "x.count (number of samples N)", x.count, min_count);
    check_batch_finite<backend::cpp>(where, "x", x);
    return Eigen::Map<const Eigen::Matrix<std::remove_const_t<U>, Eigen::Dynamic, Eigen::Dynamic>>(
               x.data, x.dim, x.count)
        .template cast<double>();
}
}  // namespace detail

/// Sample mean of a host batch (D-vector).
template <class U>
vector<double> sample_mean(batch_view<U> x) {
    const Eigen::MatrixXd h = detail::host_batch_as_double("diagnostics::sample_mean", x, 1);
    return h.rowwise().mean();
}

/// Unbiased sample covariance (divisor N - 1) of a host batch (D x D).
template <class U>
matrix<double> sample_covariance(batch_view<U> x) {
    const Eigen::MatrixXd h = detail::host_batch_as_double("diagnostics::sample_covariance", x, 2);
    const Eigen::MatrixXd c = h.colwise() - h.rowwise().mean();
    return (c * c.transpose()) / static_cast<double>(x.count - 1);
}

/// max-abs, Frobenius and relative Frobenius error of `estimate` against
/// `reference` (same shape).
template <class DE, class DR>
moment_error compare(const Eigen::MatrixBase<DE>& estimate, const Eigen::MatrixBase<DR>& reference) {
    constexpr const char* where = "diagnostics::compare";
    hosm::detail::check_size(where, "estimate.rows", estimate.rows(), reference.rows());
    hosm::detail::check_size(where, "estimate.cols", estimate.cols(), reference.cols());
    const Eigen::MatrixXd e = estimate.template cast<double>();
    const Eigen::MatrixXd r = reference.template cast<double>();
    hosm::detail::check_all_finite(where, "estimate", e.data(), e.size());
    hosm::detail::check_all_finite(where, "reference", r.data(), r.size());
    moment_error out;
    if (e.size() == 0) return out;
    out.max_abs = (e - r).cwiseAbs().maxCoeff();
    out.frobenius = (e - r).norm();
    const double ref = r.norm();
    out.rel_frobenius = ref > 0.0 ? out.frobenius / ref : out.frobenius;
    return out;
}

/// Errors of the sample mean and covariance of x against `mean` and `cov`.
template <class U>
moment_errors moment_errors_of(batch_view<U> x, const vector<double>& mean,
                               const matrix<double>& cov) {
    constexpr const char* where = "diagnostics::moment_errors_of";
    hosm::detail::check_size(where, "mean", mean.size(), x.dim);
    hosm::detail::check_size(where, "cov.rows", cov.rows(), x.dim);
    hosm::detail::check_size(where, "cov.cols", cov.cols(), x.dim);
    hosm::detail::check_all_finite(where, "mean", mean.data(), mean.size());
    hosm::detail::check_all_finite(where, "cov", cov.data(), cov.size());
    const Eigen::MatrixXd h = detail::host_batch_as_double(where, x, 2);
    const Eigen::VectorXd m = h.rowwise().mean();
    const Eigen::MatrixXd c0 = h.colwise() - m;
    const Eigen::MatrixXd c = (c0 * c0.transpose()) / static_cast<double>(x.count - 1);
    return {compare(m, mean), compare(c, cov)};
}

}  // namespace hosm::diagnostics
