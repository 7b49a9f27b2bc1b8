// hosm/diagnostics/ksd.hpp — squared kernel Stein discrepancy of a sample.
//
// The kernel Stein discrepancy measures how far a sample {x_i} ~ q is from a
// target p using only the target's score s = grad log p at the samples (no
// normalizing constant, no samples of p): with the Stein kernel u_p of a
// kernel k (hosm/diagnostics/imq_kernel.hpp),
//
//   KSD^2(q, p) = E_{x, y ~ q} u_p(x, y),
//
// which is 0 iff q = p for the IMQ kernel with beta in (-1, 0) (Liu, Lee &
// Jordan 2016, ICML; Chwialkowski, Strathmann & Gretton 2016, ICML; Gorham &
// Mackey 2017, ICML, Theorem 8). From N samples with u_ij = u_p(x_i, x_j):
//
//   V-statistic  V = 1/N^2       sum_{i, j}  u_ij   (>= 0; biased up by
//                                                    (1/N) E u_p(x, x))
//   U-statistic  U = 1/(N(N-1))  sum_{i != j} u_ij  (unbiased; can be < 0)
//
// and, for judging U against 0, its standard error when q = p: then
// E_y u_p(x, y) = 0 for every x, the U-statistic is degenerate and
// Var U = 2 E[u_p(x, y)^2] / (N(N-1)) exactly (Serfling 1980, §5.2.1, with
// zeta_1 = 0), estimated by
//
//   null_std_error = sqrt(2 / (N(N-1)) * 1/(N(N-1)) sum_{i != j} u_ij^2).
//
// API
//   ksd_estimate ksd_squared<B = backend::cpp>(x, scores, kernel = imq_kernel<double>{})
//     x       batch_view (D x N) of the samples, in B's memory
//     scores  batch_view (D x N) of s(x_i) = grad log p(x_i) (the caller
//             computes them from the target), in B's memory
//     kernel  imq_kernel<double>{c, beta}; default c = 1, beta = -1/2
//   returns {v_statistic, u_statistic, null_std_error}.
//
// Work O(N^2 D), parallel over the rows i with backend::for_each_index<B>
// (each row sums its N terms in double; the N row sums are reduced with
// backend::reduce_sum<B>); memory O(N).
// Preconditions, checked (hosm::error names the argument and value):
// dim >= 1, N >= 2, scores of the same shape as x, every entry of x and scores
// finite (the first bad one named by sample and dimension), c > 0 and
// beta in (-1, 0).
#pragma once
#include <cmath>
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/diagnostics/detail/finite.hpp>
#include <hosm/diagnostics/imq_kernel.hpp>

namespace hosm::diagnostics {

/// The two estimates of KSD^2 and the null standard error of the U-statistic.
struct ksd_estimate {
    double v_statistic = 0;     // 1/N^2 sum_{i,j} u_ij
    double u_statistic = 0;     // 1/(N(N-1)) sum_{i!=j} u_ij
    double null_std_error = 0;  // sqrt(2 mean_{i!=j} u_ij^2 / (N(N-1)))
};

namespace detail {

/// Row i of the Stein-kernel matrix: out[i] = sum_{j != i} u_ij,
/// out[N + i] = u_ii, out[2N + i] = sum_{j != i} u_ij^2.
template <class UX, class US>
struct ksd_row_fn {
    batch_view<UX> x;
    batch_view<US> s;
    imq_kernel<double> k;
    double* out;
    HOSM_HOST_DEVICE void operator()(index_t i) const {
        const index_t N = x.count, D = x.dim;
        const auto* xi = x.col(i);
        const auto* si = s.col(i);
        double sum = 0, sum_sq = 0;
        for (index_t j = 0; j < N; ++j) {
            if (j == i) continue;
            const double u = k.stein(xi, x.col(j), si, s.col(j), D);
            sum += u;
            sum_sq += u * u;
        }
        out[i] = sum;
        out[N + i] = k.stein(xi, xi, si, si, D);
        out[2 * N + i] = sum_sq;
    }
};

}  // namespace detail

template <concepts::Backend B = backend::cpp, class UX, class US>
ksd_estimate ksd_squared(batch_view<UX> x, batch_view<US> scores,
                         imq_kernel<double> kernel = imq_kernel<double>{}) {
    constexpr const char* where = "diagnostics::ksd_squared";
    static_assert(std::is_floating_point_v<std::remove_const_t<UX>> &&
                      std::is_floating_point_v<std::remove_const_t<US>>,
                  "hosm: diagnostics::ksd_squared needs floating-point samples and scores");
    check_imq(where, kernel);
    hosm::detail::check_at_least(where, "x.dim", x.dim, 1);
    hosm::detail::check_at_least(where, "x.count (number of samples N)", x.count, 2);
    hosm::detail::check_size(where, "scores.dim", scores.dim, x.dim);
    hosm::detail::check_size(where, "scores.count", scores.count, x.count);
    detail::check_batch_finite<B>(where, "x", x);
    detail::check_batch_finite<B>(where, "scores", scores);

    const index_t N = x.count;
    typename B::template vector<double> rows(static_cast<std::size_t>(3 * N));
    double* r = thrust::raw_pointer_cast(rows.data());
    backend::for_each_index<B>(N, detail::ksd_row_fn<UX, US>{x, scores, kernel, r});
    const double off = backend::reduce_sum<B>(r, N);
    const double diag = backend::reduce_sum<B>(r + N, N);
    const double off_sq = backend::reduce_sum<B>(r + 2 * N, N);

    const double n = static_cast<double>(N);
    const double pairs = n * (n - 1.0);
    ksd_estimate e;
    e.v_statistic = (off + diag) / (n * n);
    e.u_statistic = off / pairs;
    e.null_std_error = std::sqrt(2.0 * (off_sq / pairs) / pairs);
    return e;
}

}  // namespace hosm::diagnostics
