// hosm/diagnostics/mmd.hpp — squared maximum mean discrepancy between two
// sample sets, with the Gaussian RBF kernel.
//
// For laws P, Q and a characteristic kernel k (hosm/diagnostics/rbf_kernel.hpp:
// k(x, y) = exp(-|x - y|^2 / (2 h^2))),
//
//   MMD^2(P, Q) = E k(x, x') + E k(y, y') - 2 E k(x, y),   x, x' ~ P, y, y' ~ Q,
//
// is 0 iff P = Q. From samples x_1..x_m ~ P and y_1..y_n ~ Q (Gretton,
// Borgwardt, Rasch, Schölkopf & Smola 2012, "A kernel two-sample test", JMLR
// 13, Eq. 3 and Lemma 6):
//
//   U = 1/(m(m-1)) sum_{i != j} k(x_i, x_j) + 1/(n(n-1)) sum_{i != j} k(y_i, y_j)
//       - 2/(m n) sum_{i, j} k(x_i, y_j)                 (unbiased, can be < 0)
//   V = 1/m^2 sum_{i, j} k(x_i, x_j) + 1/n^2 sum_{i, j} k(y_i, y_j)
//       - 2/(m n) sum_{i, j} k(x_i, y_j)                 (biased, >= 0)
//
// Closed form used by the tests: for P = N(a, I_D), Q = N(b, I_D),
//   MMD^2 = 2 (h^2 / (h^2 + 2))^(D/2) (1 - exp(-|a - b|^2 / (2 (h^2 + 2)))).
//
// Median heuristic (Gretton et al. 2012, §8; Garreau, Jitkrittum & Kanagawa
// 2017, "Large sample analysis of the median heuristic"): h is the median of
// the Euclidean distances |z_a - z_b|, a < b, over the pooled sample
// z = (x_1..x_m, y_1..y_n) — over the P = min(m + n, max_points) points
// z_{floor(k (m + n) / P)}, k = 0..P-1, evenly spaced through the pool, so
// both sets are represented in proportion (all points when m + n <= max_points);
// for an even number of distances the median is the mean of the two middle
// ones. Work O(P^2 D), memory O(P^2).
//
// API (x, y: batch_views, D x m and D x n, in B's memory; any floating types)
//   mmd_estimate mmd_squared<B = backend::cpp>(x, y, bandwidth)
//   mmd_estimate mmd_squared<B = backend::cpp>(x, y)         median heuristic h
//   double median_heuristic<B = backend::cpp>(x, y, max_points = 1000)
// mmd_estimate holds {u_statistic, v_statistic, bandwidth} (the h used).
//
// Work O((m + n)^2 D), parallel over rows with backend::for_each_index<B>,
// each row summed in double, rows reduced with backend::reduce_sum<B>.
// Preconditions, checked (hosm::error names the argument and value):
// bandwidth finite and > 0; x.dim == y.dim >= 1; m >= 2 and n >= 2; every
// entry finite (named by sample and dimension); max_points >= 2; the median
// distance > 0 (all pooled points equal leaves the heuristic undefined).
#pragma once
#include <algorithm>
#include <cmath>
#include <type_traits>

#include <thrust/host_vector.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/diagnostics/detail/finite.hpp>
#include <hosm/diagnostics/rbf_kernel.hpp>

namespace hosm::diagnostics {

/// The two estimates of MMD^2 and the bandwidth they used.
struct mmd_estimate {
    double u_statistic = 0;  // unbiased
    double v_statistic = 0;  // biased, >= 0
    double bandwidth = 0;    // h of the RBF kernel
};

namespace detail {

/// Rows of the kernel matrix of the pooled sample. For i < m:
/// out[i] = sum_{j != i} k(x_i, x_j), out[m + i] = sum_j k(x_i, y_j); for
/// i = m + l: out[m + i] = sum_{j != l} k(y_l, y_j) (so out[2m + l]).
template <class UX, class UY>
struct mmd_row_fn {
    batch_view<UX> x;
    batch_view<UY> y;
    rbf_kernel<double> k;
    double* out;
    HOSM_HOST_DEVICE void operator()(index_t i) const {
        const index_t m = x.count, n = y.count, D = x.dim;
        if (i < m) {
            const auto* xi = x.col(i);
            double sxx = 0, sxy = 0;
            for (index_t j = 0; j < m; ++j)
                if (j != i) sxx += k(xi, x.col(j), D);
            for (index_t j = 0; j < n; ++j) sxy += k(xi, y.col(j), D);
            out[i] = sxx;
            out[m + i] = sxy;
        } else {
            const index_t l = i - m;
            const auto* yl = y.col(l);
            double syy = 0;
            for (index_t j = 0; j < n; ++j)
                if (j != l) syy += k(yl, y.col(j), D);
            out[2 * m + l] = syy;
        }
    }
};

/// Distances from selected point a to selected points b > a, written from
/// offset a (2P - a - 1) / 2; point k of the selection is pooled point
/// floor(k (m + n) / P).
template <class UX, class UY>
struct pairwise_distance_fn {
    batch_view<UX> x;
    batch_view<UY> y;
    index_t points;  // P
    double* out;
    HOSM_HOST_DEVICE double dist(index_t a, index_t b) const {
        const index_t total = x.count + y.count, D = x.dim;
        const index_t pa = a * total / points, pb = b * total / points;
        double r2 = 0;
        for (index_t i = 0; i < D; ++i) {
            const double va = pa < x.count ? static_cast<double>(x(i, pa))
                                           : static_cast<double>(y(i, pa - x.count));
            const double vb = pb < x.count ? static_cast<double>(x(i, pb))
                                           : static_cast<double>(y(i, pb - x.count));
            r2 += (va - vb) * (va - vb);
        }
        return std::sqrt(r2);
    }
    HOSM_HOST_DEVICE void operator()(index_t a) const {
        double* o = out + a * (2 * points - a - 1) / 2;
        for (index_t b = a + 1; b < points; ++b) o[b - a - 1] = dist(a, b);
    }
};

template <class UX, class UY>
void check_two_samples(const char* where, batch_view<UX> x, batch_view<UY> y) {
    static_assert(std::is_floating_point_v<std::remove_const_t<UX>> &&
                      std::is_floating_point_v<std::remove_const_t<UY>>,
                  "hosm: diagnostics::mmd needs floating-point samples");
    hosm::detail::check_at_least(where, "x.dim", x.dim, 1);
    hosm::detail::check_size(where, "y.dim", y.dim, x.dim);
    hosm::detail::check_at_least(where, "x.count (number of samples m)", x.count, 2);
    hosm::detail::check_at_least(where, "y.count (number of samples n)", y.count, 2);
}

}  // namespace detail

/// Median of the pairwise distances of (up to max_points of) the pooled sample.
template <concepts::Backend B = backend::cpp, class UX, class UY>
double median_heuristic(batch_view<UX> x, batch_view<UY> y, index_t max_points = 1000) {
    constexpr const char* where = "diagnostics::median_heuristic";
    detail::check_two_samples(where, x, y);
    hosm::detail::check_at_least(where, "max_points", max_points, 2);
    detail::check_batch_finite<B>(where, "x", x);
    detail::check_batch_finite<B>(where, "y", y);
    const index_t P = std::min(max_points, x.count + y.count);
    const index_t pairs = P * (P - 1) / 2;
    typename B::template vector<double> d(static_cast<std::size_t>(pairs));
    backend::for_each_index<B>(
        P, detail::pairwise_distance_fn<UX, UY>{x, y, P, thrust::raw_pointer_cast(d.data())});
    thrust::host_vector<double> h = d;
    const auto mid = h.begin() + pairs / 2;
    std::nth_element(h.begin(), mid, h.end());
    double med = *mid;
    if (pairs % 2 == 0) med = 0.5 * (med + *std::max_element(h.begin(), mid));
    if (!(med > 0.0))
        hosm::detail::fail(where, "the median pairwise distance is ", med,
                           ": the pooled samples are (mostly) identical, no bandwidth");
    return med;
}

/// Squared MMD with an RBF kernel of bandwidth h.
template <concepts::Backend B = backend::cpp, class UX, class UY>
mmd_estimate mmd_squared(batch_view<UX> x, batch_view<UY> y, double bandwidth) {
    constexpr const char* where = "diagnostics::mmd_squared";
    hosm::detail::check_positive(where, "bandwidth", bandwidth);
    detail::check_two_samples(where, x, y);
    detail::check_batch_finite<B>(where, "x", x);
    detail::check_batch_finite<B>(where, "y", y);
    const index_t m = x.count, n = y.count;
    typename B::template vector<double> rows(static_cast<std::size_t>(2 * m + n));
    double* r = thrust::raw_pointer_cast(rows.data());
    backend::for_each_index<B>(m + n,
                               detail::mmd_row_fn<UX, UY>{x, y, rbf_kernel<double>{bandwidth}, r});
    const double sxx = backend::reduce_sum<B>(r, m);       // off-diagonal, k(x,x) = 1 on it
    const double sxy = backend::reduce_sum<B>(r + m, m);
    const double syy = backend::reduce_sum<B>(r + 2 * m, n);
    const double md = static_cast<double>(m), nd = static_cast<double>(n);
    mmd_estimate e;
    e.bandwidth = bandwidth;
    e.u_statistic = sxx / (md * (md - 1.0)) + syy / (nd * (nd - 1.0)) - 2.0 * sxy / (md * nd);
    e.v_statistic = (sxx + md) / (md * md) + (syy + nd) / (nd * nd) - 2.0 * sxy / (md * nd);
    return e;
}

/// Squared MMD with the median-heuristic bandwidth (default max_points).
template <concepts::Backend B = backend::cpp, class UX, class UY>
mmd_estimate mmd_squared(batch_view<UX> x, batch_view<UY> y) {
    return mmd_squared<B>(x, y, median_heuristic<B>(x, y));
}

}  // namespace hosm::diagnostics
