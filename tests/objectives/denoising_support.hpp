// Shared helpers of the denoising-objective tests (dsm, dsm_vr, d2sm, d2sm_vr,
// joint, multiscale, kth_order): reproducible random data (std::mt19937_64),
// structured s2 batches filled from the host, dense views of them, central
// finite differences over raw host arrays, and the Gaussian
// oracle (q_sigma of N(mu, Sigma) is N(mu, Sigma + sigma^2 I): s1 and s2 exact).
// The tests run on the host back ends (cpp, omp), whose memory is host memory.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <hosm/core/eigen.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>

namespace objtest {

using hosm::index_t;
using hosm::matrix;
using hosm::vector;
using hosm::hessian::diagonal;
using hosm::hessian::full;
using hosm::hessian::low_rank;

using rng_t = std::mt19937_64;

inline matrix<double> randn(index_t rows, index_t cols, rng_t& g, double scale = 1.0) {
    std::normal_distribution<double> n(0.0, 1.0);
    matrix<double> m(rows, cols);
    for (index_t k = 0; k < m.size(); ++k) m.data()[k] = scale * n(g);
    return m;
}

/// Rank used for low_rank<dynamic> in the tests.
inline constexpr index_t dynamic_rank = 2;

template <class S>
index_t rank_for(index_t /*D*/) {
    if constexpr (hosm::hessian::is_low_rank_v<S>)
        return S::rank == hosm::dynamic ? dynamic_rank : S::rank;
    else
        return 0;
}

template <class S, class B>
hosm::hessian::batch<S, double, B> make_s2(index_t D, index_t N) {
    if constexpr (std::is_same_v<S, low_rank<hosm::dynamic>>)
        return hosm::hessian::batch<S, double, B>(D, N, dynamic_rank);
    else
        return hosm::hessian::batch<S, double, B>(D, N);
}

/// Fills H with random entries of size ~scale (full: symmetric).
template <class S, class B>
void fill_random(hosm::hessian::batch<S, double, B>& H, rng_t& g, double scale = 1.0) {
    const index_t D = H.dim(), N = H.count();
    if constexpr (std::is_same_v<S, full>) {
        for (index_t j = 0; j < N; ++j) {
            matrix<double> h = randn(D, D, g, scale);
            H.set_sample(j, (h + h.transpose()) / 2.0);
        }
    } else if constexpr (std::is_same_v<S, diagonal>) {
        H.set_diagonals(randn(D, N, g, scale));
    } else {
        for (index_t j = 0; j < N; ++j) {
            vector<double> a = randn(D, 1, g, scale);
            H.set_sample(j, a, randn(D, H.rank(), g, std::sqrt(scale)));
        }
    }
}

/// The raw arrays of a host-memory hessian::batch: (pointer, size, name).
struct array_ref {
    double* p;
    index_t n;
    std::string name;
};
template <class S, class B>
std::vector<array_ref> arrays(hosm::hessian::batch<S, double, B>& H, const std::string& prefix) {
    const index_t D = H.dim(), N = H.count();
    if constexpr (std::is_same_v<S, full>)
        return {{H.data(), D * D * N, prefix + ".h"}};
    else if constexpr (std::is_same_v<S, diagonal>)
        return {{H.data(), D * N, prefix + ".d"}};
    else
        return {{H.alpha_data(), D * N, prefix + ".alpha"},
                {H.B_data(), D * H.rank() * N, prefix + ".B"}};
}

/// Central differences of f() in every entry of p[0..n) against the analytic
/// gradient g[0..n). Tolerance (double, h = 1e-6): the FD error is
/// ~ h^2 |f'''| / 6 (truncation, ~1e-11 here) + eps |f| / h (rounding, ~1e-9 for
/// |f| <= 1e2), so |fd - g| <= rtol * max(|g_k|, 1e-2 * max_k |g_k|) with
/// rtol = 1e-6 (relative to the entry, or to 1% of the largest entry for
/// entries near 0).
template <class F>
void fd_check(F f, double* p, index_t n, const double* g, const std::string& name, double h = 1e-6,
              double rtol = 1e-6) {
    double gmax = 0.0;
    for (index_t k = 0; k < n; ++k) gmax = std::max(gmax, std::abs(g[k]));
    for (index_t k = 0; k < n; ++k) {
        const double keep = p[k];
        p[k] = keep + h;
        const double fp = f();
        p[k] = keep - h;
        const double fm = f();
        p[k] = keep;
        const double fd = (fp - fm) / (2 * h);
        const double tol = rtol * std::max(std::abs(g[k]), 1e-2 * gmax);
        INFO(name, "[", k, "]: analytic ", g[k], ", central difference ", fd);
        CHECK(std::abs(fd - g[k]) <= tol);
    }
}

/// A Gaussian target N(mu, Sigma) and its noisy scores at level sigma:
/// q_sigma = N(mu, Sigma + sigma^2 I), s1(y) = -P (y - mu), s2 = -P,
/// P = (Sigma + sigma^2 I)^{-1}.
struct gaussian_case {
    vector<double> mu;
    matrix<double> Sigma, L, P;
    double sigma;
    gaussian_case(vector<double> mu_, matrix<double> Sigma_, double sigma_)
        : mu(std::move(mu_)), Sigma(std::move(Sigma_)), sigma(sigma_) {
        L = Sigma.llt().matrixL();
        const index_t D = mu.size();
        P = (Sigma + sigma * sigma * matrix<double>::Identity(D, D)).inverse();
    }
    index_t dim() const { return mu.size(); }
    /// N samples x ~ N(mu, Sigma), as columns.
    matrix<double> sample(index_t N, rng_t& g) const {
        matrix<double> x = L * randn(dim(), N, g);
        x.colwise() += mu;
        return x;
    }
    matrix<double> s1(const matrix<double>& y) const {
        matrix<double> c = y;
        c.colwise() -= mu;
        return -P * c;
    }
};

/// Mean and standard error of the columns' entries: per row r, over columns.
struct mean_se {
    vector<double> mean, se;
};
inline mean_se row_mean_se(const matrix<double>& v) {
    const double n = static_cast<double>(v.cols());
    mean_se r;
    r.mean = v.rowwise().mean();
    matrix<double> c = v;
    c.colwise() -= r.mean;
    r.se = (c.array().square().rowwise().sum() / (n - 1)).sqrt() / std::sqrt(n);
    return r;
}

}  // namespace objtest
