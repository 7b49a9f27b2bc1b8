// hosm/noise/multimeasurement.hpp — the Gaussian multimeasurement noise model (sigma, M).
//
// Maths (seed 003, Sec. 2-3): M independent noisy measurements of one clean x,
//
//     y_m = x + sigma eps_m,   eps_m ~ N(0, I_D),   m = 1..M,
//
// whose law p(y), y = (y_1, ..., y_M) in R^{M D}, is the M-density. Its
// empirical mean  ybar = M^{-1} sum_m y_m = x + (sigma / sqrt(M)) eps_bar  is a
// single-measurement observation with the effective noise level
//
//     sigma_eff = sigma / sqrt(M)                       (universality class [sigma_eff])
//
// and the M-density depends on the data only through ybar (seed 003 Eq. 4-7;
// hosm/targets/m_density.hpp gives its exact log density and score).
//
// Layout: a batch of measurements is (M D) x N; column j holds sample j's
// measurements stacked, y_m in rows m*D .. m*D + D - 1 (m = 0..M-1).
//
// API
//   noise::multimeasurement<T> mm{sigma, M};     sigma > 0, M >= 1, else hosm::error
//   mm.sigma(), mm.measurements(), mm.sigma_eff(), mm.variance() (sigma^2)
//   mm.perturb<B>(s, x, y, eps, first)
//       x D x N, y and eps (M D) x N in B's memory;
//       eps(k, j) = s.normal<T>(first + j, k) (random::fill_normal<B>(s, eps, first)),
//       so eps_m of sample j is draws k = m*D .. m*D + D - 1 of index first + j;
//       y(m*D + i, j) = x(i, j) + sigma eps(m*D + i, j). y must not overlap x or eps.
//   mm.mean<B>(y, ybar)       ybar = M^{-1} sum_m y_m, ybar D x N (must not overlap y)
//   host overloads on hosm::matrix<T>: perturb(s, x, first) -> {y, eps}; mean(y)
//
// Errors (hosm::error): sigma <= 0 or non-finite, M < 1, shapes that do not
// match (y must have M times x's rows), a non-finite entry in x or y.
#pragma once
#include <cmath>
#include <cstdint>
#include <utility>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/noise/detail/batch_checks.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::noise {

namespace detail {

/// y(m*D + i, j) = x(i, j) + sigma eps(m*D + i, j), one sample per call.
template <class T>
struct mm_perturb_fn {
    batch_view<const T> x;
    batch_view<T> y;
    batch_view<const T> eps;
    index_t M;
    T sigma;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* xc = x.col(j);
        const T* ec = eps.col(j);
        T* yc = y.col(j);
        const index_t D = x.dim;
        for (index_t m = 0; m < M; ++m)
            for (index_t i = 0; i < D; ++i) yc[m * D + i] = xc[i] + sigma * ec[m * D + i];
    }
};

/// ybar(:, j) = M^{-1} sum_m y_m(:, j).
template <class T>
struct mm_mean_fn {
    batch_view<const T> y;
    batch_view<T> ybar;
    index_t M;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* yc = y.col(j);
        T* out = ybar.col(j);
        const index_t D = ybar.dim;
        for (index_t i = 0; i < D; ++i) {
            T s = T(0);
            for (index_t m = 0; m < M; ++m) s += yc[m * D + i];
            out[i] = s / static_cast<T>(M);
        }
    }
};

}  // namespace detail

template <class T>
class multimeasurement {
public:
    using value_type = T;

    multimeasurement(T sigma, index_t M) : sigma_(sigma), M_(M) {
        hosm::detail::check_positive("noise::multimeasurement", "sigma", sigma);
        hosm::detail::check_at_least("noise::multimeasurement", "M", M, 1);
    }

    T sigma() const { return sigma_; }
    index_t measurements() const { return M_; }
    T variance() const { return sigma_ * sigma_; }
    /// sigma / sqrt(M): the noise level of the mean of the measurements.
    T sigma_eff() const { return sigma_ / std::sqrt(static_cast<T>(M_)); }

    /// y_m = x + sigma eps_m for every sample, eps from random::fill_normal.
    template <concepts::Backend B>
    void perturb(const random::stream& s, batch_view<const T> x, batch_view<T> y,
                 batch_view<T> eps, std::uint64_t first = 0) const {
        constexpr const char* where = "noise::multimeasurement::perturb";
        detail::check_shape(where, "x", x, x.dim, x.count);
        detail::check_shape(where, "y", y, M_ * x.dim, x.count);
        detail::check_shape(where, "eps", eps, M_ * x.dim, x.count);
        detail::check_finite_batch<B>(where, "x", x);
        random::fill_normal<B>(s, eps, first);
        backend::for_each_index<B>(x.count, detail::mm_perturb_fn<T>{x, y, eps, M_, sigma_});
    }

    /// ybar = M^{-1} sum_m y_m; y is (M D) x N, ybar D x N.
    template <concepts::Backend B>
    void mean(batch_view<const T> y, batch_view<T> ybar) const {
        constexpr const char* where = "noise::multimeasurement::mean";
        detail::check_shape(where, "y", y, M_ * ybar.dim, ybar.count);
        detail::check_shape(where, "ybar", ybar, ybar.dim, ybar.count);
        detail::check_finite_batch<B>(where, "y", y);
        backend::for_each_index<B>(ybar.count, detail::mm_mean_fn<T>{y, ybar, M_});
    }

    /// Host convenience: {y, eps} for a D x N host matrix x.
    std::pair<matrix<T>, matrix<T>> perturb(const random::stream& s, const matrix<T>& x,
                                            std::uint64_t first = 0) const {
        matrix<T> y(M_ * x.rows(), x.cols()), eps(M_ * x.rows(), x.cols());
        perturb<backend::cpp>(s, view(x), view(y), view(eps), first);
        return {std::move(y), std::move(eps)};
    }

    /// Host convenience: the D x N mean of an (M D) x N host matrix y.
    matrix<T> mean(const matrix<T>& y) const {
        if (y.rows() % M_ != 0)
            hosm::detail::fail("noise::multimeasurement::mean", "dimension mismatch: argument 'y' has ",
                               y.rows(), " rows, not a multiple of M = ", M_);
        matrix<T> ybar(y.rows() / M_, y.cols());
        mean<backend::cpp>(view(y), view(ybar));
        return ybar;
    }

private:
    T sigma_;
    index_t M_;
};

}  // namespace hosm::noise
