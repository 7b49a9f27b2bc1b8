// hosm/diagnostics/ess.hpp — effective sample size across chains.
//
// The effective sample size of a scalar quantity estimated from MCMC draws is
// the number of independent draws with the same Monte Carlo variance of the
// mean: ESS = S / tau for S draws with integrated autocorrelation time
//   tau = 1 + 2 sum_{k >= 1} rho_k.
// hosm follows modern practice (Vehtari, Gelman, Simpson, Carpenter, Bürkner
// 2021, "Rank-normalization, folding, and localization: an improved R-hat for
// assessing convergence of MCMC", Bayesian Analysis 16(2); the computation of
// Stan and of the R package posterior):
//
//  * chains are split in halves (a trend inside a chain then shows up as
//    disagreement between halves), the middle draw dropped for odd T, giving
//    2C chains of N = floor(T/2) draws (S = 2 C N draws in all);
//  * the autocorrelation combines chains through the within-chain variance W
//    and the pooled variance estimate var+ (Vehtari et al. Eq. 10, BDA3 §11.5),
//      rho_k = 1 - (W - mean_m gamma_{m,k}) / var+,
//    with chain autocovariances gamma_{m,k} from Eigen's FFT;
//  * the sum is truncated by Geyer's (1992) initial positive sequence and made
//    monotone by his initial monotone sequence; tau keeps Stan's antithetic
//    correction and is bounded below by 1/log10(S)
//    (formulas in hosm/diagnostics/detail/chains.hpp).
//
// Which draws enter (Vehtari et al. §4):
//   ess_basic(tr)   the draws themselves ("basic" / classic split ESS): ESS of
//                   the mean; assumes finite variance.
//   ess_bulk(tr)    rank-normalized draws z = Phi^{-1}((r - 3/8)/(S + 1/4)),
//                   r the pooled rank: robust to heavy tails, the ESS to report
//                   for location (Vehtari et al. Eq. 14).
//   ess_tail(tr)    min over q in {0.05, 0.95} of the ESS of the indicators
//                   I(x <= Q_q), Q_q the pooled type-7 quantile: the ESS of
//                   the 5% and 95% quantiles (Vehtari et al. §4.3).
//   ess(tr, kind)   one of the three by ess_kind.
//   min_ess(tr, kind)  the smallest ESS over the D dimensions — the figure the
//                   seed reports in its Table 3 (seed 000, §6.2: "the smallest
//                   effective sample size (ESS) of all the dimensions").
//
// Each per-dimension function returns hosm::vector<double> of length D. For
// i.i.d. draws ESS is about S (it can exceed S slightly for antithetic chains);
// for an AR(1) chain x_t = phi x_{t-1} + e_t it is about S (1 - phi)/(1 + phi).
//
// Layout and memory: a host trace_view (hosm/diagnostics/trace_view.hpp),
// draws of any floating type, computed in double. Work: O(D C T log T).
// Preconditions, checked (hosm::error names the argument and value): dim >= 1,
// chains >= 1, steps >= 8 (so a split chain has at least 4 draws), every draw
// finite (a non-finite draw is reported with its chain, step and dimension).
// A dimension whose retained draws are all equal has no defined ESS and
// raises hosm::error naming that dimension.
#pragma once
#include <algorithm>

#include <Eigen/Dense>

#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>
#include <hosm/diagnostics/detail/chains.hpp>
#include <hosm/diagnostics/trace_view.hpp>

namespace hosm::diagnostics {

/// Which draws an ESS is computed from (see the header comment).
enum class ess_kind { bulk, basic, tail };

/// Smallest number of steps per chain the ESS functions accept.
inline constexpr index_t ess_min_steps = 8;

namespace detail {

inline const char* ess_name(ess_kind kind) {
    switch (kind) {
        case ess_kind::bulk: return "diagnostics::ess_bulk";
        case ess_kind::basic: return "diagnostics::ess_basic";
        case ess_kind::tail: return "diagnostics::ess_tail";
    }
    return "diagnostics::ess";
}

/// ESS of one dimension's split draws x by kind.
inline double ess_of_split(const Eigen::MatrixXd& x, ess_kind kind, const char* where, index_t d) {
    switch (kind) {
        case ess_kind::basic: return ess_of_chains(x, where, d);
        case ess_kind::bulk: return ess_of_chains(rank_normalize(x), where, d);
        case ess_kind::tail: {
            double best = 0;
            bool first = true;
            for (int percent : {5, 95}) {
                const double q = percent / 100.0;
                const double Q = quantile(x, q);
                const Eigen::MatrixXd ind = (x.array() <= Q).cast<double>().matrix();
                if (ind.minCoeff() == ind.maxCoeff())
                    hosm::detail::fail(where, "the indicator of the ", percent,
                                       "% quantile is constant over the draws of dimension ", d,
                                       " (too many tied draws): the tail-ESS is undefined");
                const double e = ess_of_chains(ind, where, d);
                best = first ? e : std::min(best, e);
                first = false;
            }
            return best;
        }
    }
    return 0.0;
}

}  // namespace detail

/// ESS of every dimension of a host trace, from the draws selected by `kind`.
template <class U>
vector<double> ess(trace_view<U> trace, ess_kind kind = ess_kind::bulk) {
    const char* where = detail::ess_name(kind);
    detail::check_trace(where, trace, 1, ess_min_steps);
    vector<double> out(trace.dim);
    for (index_t d = 0; d < trace.dim; ++d)
        out(d) = detail::ess_of_split(detail::split_draws(trace, d), kind, where, d);
    return out;
}

/// Bulk-ESS per dimension: split chains, rank-normalized draws.
template <class U>
vector<double> ess_bulk(trace_view<U> trace) {
    return ess(trace, ess_kind::bulk);
}

/// Basic (classic split) ESS per dimension: split chains, raw draws.
template <class U>
vector<double> ess_basic(trace_view<U> trace) {
    return ess(trace, ess_kind::basic);
}

/// Tail-ESS per dimension: min of the ESS of the 5% and 95% quantiles.
template <class U>
vector<double> ess_tail(trace_view<U> trace) {
    return ess(trace, ess_kind::tail);
}

/// The smallest ESS over the dimensions.
template <class U>
double min_ess(trace_view<U> trace, ess_kind kind = ess_kind::bulk) {
    return ess(trace, kind).minCoeff();
}

}  // namespace hosm::diagnostics
