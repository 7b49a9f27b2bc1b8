// hosm/models/detail/expfam_polynomial_statistics.hpp — coordinate-wise
// polynomial sufficient statistics, for models::exponential_family.
//
// Maths. With degree n >= 1 and a Gaussian base measure of precision c >= 0,
//
//     p(x) ∝ exp( sum_i sum_{k=1..n} theta_{i,k} x_i^k  -  c/2 ||x||^2 ),
//
// i.e. K = D n statistics T_{(i,k)}(x) = x_i^k stored at index i n + (k - 1), and
// a(x) = -c ||x||^2 / 2. Derivatives:
//
//     dT_{(i,k)}/dx_l = k x_i^{k-1} delta_il,   Laplacian k (k - 1) x_i^{k-2}
//     grad a = -c x,                            Laplacian of a = -c D
//
// The density is normalisable only for some theta (e.g. an even top degree
// with a negative leading coefficient, or c > 0 and n <= 2); score matching does
// not need the normaliser and the estimator is defined either way. n = 2, c = 0
// is the Gaussian with a diagonal precision: theta_{i,2} = -P_ii / 2,
// theta_{i,1} = P_ii mu_i.
//
// API
//   models::polynomial_statistics<T> s{D, degree, base_precision = 0};
//   s.dim(), s.size() (D degree), s.degree(), s.base_precision();
//   value / derivatives / base (see expfam_statistics.hpp)
// Errors (hosm::error): D < 1, degree < 1, base_precision < 0 or non-finite.
#pragma once
#include <hosm/config.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>

namespace hosm::models {

template <class T>
struct polynomial_statistics {
    using value_type = T;

    index_t D = 1;
    index_t n = 1;
    T c = T(0);

    polynomial_statistics() = default;
    polynomial_statistics(index_t dim, index_t degree, T base_precision = T(0))
        : D(dim), n(degree), c(base_precision) {
        constexpr const char* where = "models::polynomial_statistics";
        hosm::detail::check_at_least(where, "dim", dim, 1);
        hosm::detail::check_at_least(where, "degree", degree, 1);
        hosm::detail::check_nonnegative(where, "base_precision", base_precision);
    }

    HOSM_HOST_DEVICE index_t dim() const { return D; }
    HOSM_HOST_DEVICE index_t size() const { return D * n; }
    HOSM_HOST_DEVICE index_t degree() const { return n; }
    HOSM_HOST_DEVICE T base_precision() const { return c; }

    HOSM_HOST_DEVICE void value(const T* x, T* t) const {
        for (index_t i = 0; i < D; ++i) {
            T p = T(1);
            for (index_t k = 1; k <= n; ++k) {
                p *= x[i];
                t[i * n + k - 1] = p;
            }
        }
    }

    HOSM_HOST_DEVICE void derivatives(const T* x, T* grad, T* lap) const {
        const index_t K = size();
        for (index_t m = 0; m < K * D; ++m) grad[m] = T(0);
        for (index_t i = 0; i < D; ++i) {
            T p1 = T(1), p2 = T(0);  // x^{k-1}, x^{k-2} (x^{-1} only multiplies k-1 = 0)
            for (index_t k = 1; k <= n; ++k) {
                const index_t idx = i * n + k - 1;
                const T kk = static_cast<T>(k);
                grad[idx + K * i] = kk * p1;
                lap[idx] = kk * (kk - T(1)) * p2;
                p2 = p1;
                p1 *= x[i];
            }
        }
    }

    HOSM_HOST_DEVICE T base(const T* x, T* grad_a, T* lap_a) const {
        T q = T(0);
        for (index_t i = 0; i < D; ++i) {
            q += x[i] * x[i];
            grad_a[i] = -c * x[i];
        }
        *lap_a = -c * static_cast<T>(D);
        return -c * q / T(2);
    }
};

}  // namespace hosm::models
