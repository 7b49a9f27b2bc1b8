// hosm/diagnostics/trace_view.hpp — the layout of a run of MCMC chains.
//
// A trace holds C chains, each of T steps, of D-dimensional states. It is one
// contiguous host array of T * C * D numbers of shape (T, C, D), row-major:
//
//   draw (step t, chain c, dimension d)  =  data[t * C * D + c * D + d].
//
// Step t is therefore a D x C batch (one column per chain) — exactly what a
// sampler produces when it advances C chains by one step — and the whole trace
// is a D x (T * C) batch whose column t * C + c is the state of chain c after
// step t. Recording a run is appending each step's batch to one buffer; a
// trace of i.i.d. draws is random::fill_normal on a D x (T * C) batch.
//
//   trace_view<T>{data, steps, chains, dim}
//   tr(t, c, d)        the draw above
//   tr.step(t)         batch_view of step t (D x C)
//   tr.as_batch()      batch_view of the whole trace (D x (T * C))
//
// The ESS and R-hat functions of this folder read traces on the host: `data`
// points at host memory (copy a device batch to the host first).
// detail::check_trace validates a trace for them: dim >= 1, chains and steps
// at least the function's minimum, and every draw finite — a chain that turned
// non-finite is reported with its chain, step and dimension (the earliest step
// first), never averaged away.
#pragma once
#include <cmath>
#include <type_traits>

#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>

namespace hosm::diagnostics {

/// Non-owning view of C chains x T steps x D dimensions, laid out as
/// data[(t * chains + c) * dim + d].
template <class T>
struct trace_view {
    T* data = nullptr;
    index_t steps = 0;   // T: draws per chain
    index_t chains = 0;  // C: number of chains
    index_t dim = 0;     // D: dimension of a state

    HOSM_HOST_DEVICE T& operator()(index_t t, index_t c, index_t d) const {
        return data[(t * chains + c) * dim + d];
    }
    /// The D x C batch of all chains' states after step t.
    HOSM_HOST_DEVICE batch_view<T> step(index_t t) const {
        return {data + t * chains * dim, dim, chains};
    }
    /// The whole trace as a D x (T * C) batch; column t * C + c.
    HOSM_HOST_DEVICE batch_view<T> as_batch() const { return {data, dim, steps * chains}; }
    HOSM_HOST_DEVICE index_t size() const { return steps * chains * dim; }

    /// A view with const elements; implicit, as for batch_view.
    HOSM_HOST_DEVICE operator trace_view<const T>() const
        requires(!std::is_const_v<T>)
    {
        return {data, steps, chains, dim};
    }
};

namespace detail {

/// Validates a host trace for a diagnostic `where`: dim >= 1, chains >=
/// min_chains, steps >= min_steps, and all draws finite. The first non-finite
/// draw in memory order (earliest step, then lowest chain, then dimension) is
/// named with its chain, step, dimension and value.
template <class U>
void check_trace(const char* where, trace_view<U> tr, index_t min_chains, index_t min_steps) {
    hosm::detail::check_at_least(where, "dim", tr.dim, 1);
    hosm::detail::check_at_least(where, "chains", tr.chains, min_chains);
    hosm::detail::check_at_least(where, "steps", tr.steps, min_steps);
    if (tr.data == nullptr) hosm::detail::fail(where, "argument 'trace' has a null data pointer");
    for (index_t t = 0; t < tr.steps; ++t)
        for (index_t c = 0; c < tr.chains; ++c)
            for (index_t d = 0; d < tr.dim; ++d) {
                const double v = static_cast<double>(tr(t, c, d));
                if (!std::isfinite(v))
                    hosm::detail::fail(where, "non-finite draw ", v, " in chain ", c, " at step ",
                                       t, ", dimension ", d, " (chains = ", tr.chains,
                                       ", steps = ", tr.steps, ", dim = ", tr.dim, ")");
            }
}

}  // namespace detail
}  // namespace hosm::diagnostics
