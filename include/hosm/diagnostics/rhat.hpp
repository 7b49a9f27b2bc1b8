// hosm/diagnostics/rhat.hpp — split R-hat and rank-normalized split R-hat.
//
// R-hat compares the variance of all draws with the variance within chains:
// chains that have not mixed (stuck in different modes, still drifting from
// their starting points) make it exceed 1. With M chains of N draws, chain
// means xbar_m and within-chain sample variances s_m^2 (divisor N - 1)
// (Gelman & Rubin 1992; Gelman et al., BDA3 §11.4; Vehtari et al. 2021 Eq. 3-4):
//
//   W    = (1/M) sum_m s_m^2
//   B/N  = 1/(M - 1) sum_m (xbar_m - xbar)^2
//   var+ = (N - 1)/N W + B/N
//   R    = sqrt(var+ / W).
//
// Every R-hat here is *split*: each of the C chains is cut in two halves (the
// middle draw dropped for odd T), so M = 2C and N = floor(T/2); a trend inside
// one chain then raises R-hat too.
//
//   rhat_basic(tr)  split R-hat of the draws themselves (the classic one).
//   rhat(tr)        rank-normalized split R-hat of Vehtari, Gelman, Simpson,
//                   Carpenter, Bürkner (2021), "Rank-normalization, folding,
//                   and localization: an improved R-hat", Bayesian Analysis
//                   16(2): R = max(R_bulk, R_tail), where R_bulk is the split
//                   R-hat of the rank-normalized draws
//                   z = Phi^{-1}((r - 3/8)/(S + 1/4)) (r the pooled rank of a
//                   draw among S = M N, ties averaged) and R_tail the same for
//                   the folded draws |x - median(x)| (it detects chains that
//                   agree in location but differ in scale). Vehtari et al.
//                   recommend using draws only when R < 1.01.
//                   (If the folded draws are all equal while the draws are
//                   not — two values symmetric about the median — R_tail is
//                   undefined and R = R_bulk.)
//   max_rhat(tr)    the largest rhat over the dimensions.
//
// Each per-dimension function returns hosm::vector<double> of length D; a
// value is +infinity when every split chain is constant but they differ
// (W = 0 < B/N).
//
// Layout and memory: a host trace_view (hosm/diagnostics/trace_view.hpp),
// draws of any floating type, computed in double. Work: O(D C T log(C T)).
// Preconditions, checked (hosm::error names the argument and value):
// chains >= 2, steps >= 4, dim >= 1, every draw finite (a non-finite draw is
// named by chain, step and dimension). A dimension whose retained draws are
// all equal has no defined R-hat and raises hosm::error naming it.
#pragma once
#include <algorithm>
#include <cmath>

#include <Eigen/Dense>

#include <hosm/core/eigen.hpp>
#include <hosm/core/types.hpp>
#include <hosm/diagnostics/detail/chains.hpp>
#include <hosm/diagnostics/trace_view.hpp>

namespace hosm::diagnostics {

/// Smallest numbers of chains and of steps per chain R-hat accepts.
inline constexpr index_t rhat_min_chains = 2;
inline constexpr index_t rhat_min_steps = 4;

/// Split R-hat of every dimension of a host trace, on the raw draws.
template <class U>
vector<double> rhat_basic(trace_view<U> trace) {
    constexpr const char* where = "diagnostics::rhat_basic";
    detail::check_trace(where, trace, rhat_min_chains, rhat_min_steps);
    vector<double> out(trace.dim);
    for (index_t d = 0; d < trace.dim; ++d)
        out(d) = detail::rhat_of_chains(detail::split_draws(trace, d), where, d);
    return out;
}

/// Rank-normalized split R-hat, max(bulk, tail), of every dimension.
template <class U>
vector<double> rhat(trace_view<U> trace) {
    constexpr const char* where = "diagnostics::rhat";
    detail::check_trace(where, trace, rhat_min_chains, rhat_min_steps);
    vector<double> out(trace.dim);
    for (index_t d = 0; d < trace.dim; ++d) {
        const Eigen::MatrixXd x = detail::split_draws(trace, d);
        const double bulk = detail::rhat_of_chains(detail::rank_normalize(x), where, d);
        // Folded draws can all be equal while the draws are not (two values
        // symmetric about the median): the tail term is then left out.
        const double tail = detail::rhat_or_nan(detail::rank_normalize(detail::fold(x)));
        out(d) = std::isnan(tail) ? bulk : std::max(bulk, tail);
    }
    return out;
}

/// The largest rank-normalized split R-hat over the dimensions.
template <class U>
double max_rhat(trace_view<U> trace) {
    return rhat(trace).maxCoeff();
}

}  // namespace hosm::diagnostics
