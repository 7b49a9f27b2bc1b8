// hosm/samplers/chains.hpp — the state of N Markov chains, and `run`.
//
// samplers::chains<T, B> owns the states of N chains of dimension D as a D x N
// batch in back end B's memory (column j = chain j), a step counter shared by
// all chains, and per-chain flags. Every sampler of this folder advances a
// chains object by one step with `sampler.step(source, chains)`; `run` repeats
// that and can record a host trace.
//
// Random keys (what makes results independent of the back end, the number of
// threads and of how chains are batched): in step t (t = chains.step() before
// the step; steps count from 0) the random numbers of chain j are drawn from a
// random::stream at the sample index
//
//     key(t, j) = (t << 32) | (first_index + j),
//
// draw k = 0, 1, ... (stream.normal(key, k), stream.uniform(key, k)).
// first_index (default 0) numbers the chains globally, so a run split over
// several chains objects (first_index 0, N1, N1 + N2, ...) draws the same
// numbers as one big run. Hence first_index + N <= 2^32 and t < 2^32 (checked).
//
// Non-finite states are reported, never hidden. A sampler computes the new
// states into the candidate buffer next() (and may mark chains in status());
// commit(where) then checks every candidate column:
//   * all finite and no status bit set: the candidate becomes the state and
//     step() increases by one;
//   * otherwise the chains are NOT advanced (every chain keeps its last finite
//     state, step() is unchanged), the status bits are OR-ed into flags() of
//     the failed chains, and hosm::error is thrown, e.g.
//       hosm: samplers::langevin::step: chain 2 failed in step 7 (1 of 5
//       chains): non-finite state (entry 0 = -inf); ...
//     naming the lowest failed chain, its step, the reason and the first
//     non-finite entry. Catch it to inspect flags() / state().
// check_candidate(where) is the same check without committing (MALA calls it
// before it evaluates the source at its proposals).
//
// API (T float or double, B a back end; D >= 1, N >= 1)
//   chains<T, B> c(D, N, first_index = 0)      all states 0
//   chains<T, B> c(x0, first_index = 0)        x0: hosm::matrix<T> D x N (host) or
//                                              a hosm::batch<T, B>; checked finite
//   c.dim(), c.count(), c.step(), c.first_index()
//   c.state()            batch_view<const T> (D x N, B's memory)
//   c.mutable_state()    batch_view<T>: write states directly (they are checked
//                        for finiteness before the next step: require_finite)
//   c.set_state(x0)      host matrix D x N, checked finite; step() is kept
//   c.to_eigen()         host copy D x N
//   c.flags()            host std::vector<int>, OR of chain_flag bits per chain
//   c.flagged()          number of chains with a flag; c.clear_flags()
//   c.token()            changes whenever the states may have changed (each
//                        commit, mutable_state, set_state, copy): samplers use
//                        it to keep per-chain caches valid (MALA)
//   for samplers: c.next() (candidate D x N), c.status() (int per chain, B's
//   memory), c.begin_step(), c.keys() (draw_key functor), c.require_finite(where),
//   c.check_candidate(where), c.commit(where)
//
//   run(sampler, source, c, steps)
//   run(sampler, source, c, steps, trace, every = 1) -> diagnostics::trace_view<const T>
//       advances c by `steps` steps; with `trace` (a host std::vector<T>), the
//       state after every `every`-th step of this call is APPENDED as one
//       D x N slice, so the trace is laid out as diagnostics/trace_view.hpp
//       says, trace[t * N * D + c * D + d]; the returned view covers the whole
//       vector (earlier runs included). If a step fails, the error propagates
//       and the trace holds every slice recorded before it.
//
// Errors (hosm::error): D < 1, N < 1, first_index + N > 2^32, x0 non-finite
// (naming chain and dimension), more than 2^32 steps, a failed step (above),
// steps < 0 or every < 1 in run, a trace whose size is not a multiple of
// D * N.
#pragma once
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <thrust/copy.h>
#include <thrust/fill.h>
#include <thrust/device_ptr.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/diagnostics/trace_view.hpp>

namespace hosm::samplers {

/// Per-chain flag bits (chains::flags(), chains::status()).
enum chain_flag : int {
    nonfinite_state = 1,     // the new state has a NaN or an infinity
    nonfinite_score = 2,     // s1 returned a non-finite entry
    nonfinite_hessian = 4,   // s2 returned a non-finite entry
    nonfinite_density = 8,   // log p was NaN or +inf (or -inf at the current state)
    numerical_failure = 16,  // an eigensolver did not converge, or s2 is not symmetric
};

/// key(j) = (step << 32) | (first + j): the random::stream sample index of
/// chain j in the current step (see the header).
struct draw_key {
    std::uint64_t step = 0;
    std::uint64_t first = 0;
    HOSM_HOST_DEVICE std::uint64_t operator()(index_t j) const {
        return (step << 32) | (first + static_cast<std::uint64_t>(j));
    }
};

namespace detail {

inline std::uint64_t next_token() {
    static std::atomic<std::uint64_t> counter{1};
    return counter.fetch_add(1, std::memory_order_relaxed);
}

/// status[j] |= nonfinite_state if column j of x has a non-finite entry.
template <class T>
struct mark_nonfinite_fn {
    batch_view<const T> x;
    int* status;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* c = x.col(j);
        for (index_t i = 0; i < x.dim; ++i) {
            const T v = c[i];
            if (!(v - v == T(0))) {  // NaN or +-inf
                status[j] |= nonfinite_state;
                return;
            }
        }
    }
};

/// mark_nonfinite_fn and nonzero_fn in one pass: marks chain j and returns 1
/// if its status is then non-zero (the mark is an OR, so a repeated call is
/// harmless).
template <class T>
struct mark_and_count_fn {
    batch_view<const T> x;
    int* status;
    HOSM_HOST_DEVICE index_t operator()(index_t j) const {
        mark_nonfinite_fn<T>{x, status}(j);
        return status[j] != 0 ? 1 : 0;
    }
};

struct nonzero_fn {
    const int* p;
    HOSM_HOST_DEVICE index_t operator()(index_t j) const { return p[j] != 0 ? 1 : 0; }
};

struct or_into_fn {
    const int* from;
    int* into;
    HOSM_HOST_DEVICE void operator()(index_t j) const { into[j] |= from[j]; }
};

inline std::string describe_flags(int f) {
    std::string s;
    auto add = [&s](const char* what) {
        if (!s.empty()) s += ", ";
        s += what;
    };
    if (f & nonfinite_state) add("non-finite state");
    if (f & nonfinite_score) add("non-finite score s1");
    if (f & nonfinite_hessian) add("non-finite Hessian s2");
    if (f & nonfinite_density) add("non-finite log density");
    if (f & numerical_failure) add("numerical failure (eigensolver / asymmetric s2)");
    if (s.empty()) s = "unknown failure";
    return s;
}

}  // namespace detail

template <class T, concepts::Backend B = backend::cpp>
class chains {
public:
    using value_type = T;
    using backend_type = B;

    chains(index_t dim, index_t count, std::uint64_t first_index = 0)
        : x_(checked_dim(dim), checked_count(count, first_index)),
          next_(dim, count),
          first_(first_index) {
        init_flags();
        verified_ = true;
    }

    explicit chains(const matrix<T>& x0, std::uint64_t first_index = 0)
        : chains(static_cast<index_t>(x0.rows()), static_cast<index_t>(x0.cols()), first_index) {
        set_state(x0);
    }

    explicit chains(batch<T, B> x0, std::uint64_t first_index = 0)
        : chains(x0.dim(), x0.count(), first_index) {
        x_ = std::move(x0);
        verified_ = false;
        require_finite("samplers::chains");
    }

    chains(const chains& o)
        : x_(o.x_), next_(o.next_), flags_(o.flags_), status_(o.status_), first_(o.first_),
          step_(o.step_), verified_(o.verified_), status_clean_(o.status_clean_), token_(detail::next_token()) {}
    chains(chains&& o) noexcept = default;
    chains& operator=(const chains& o) {
        if (this != &o) {
            chains tmp(o);
            *this = std::move(tmp);
        }
        return *this;
    }
    chains& operator=(chains&& o) noexcept = default;

    index_t dim() const { return x_.dim(); }
    index_t count() const { return x_.count(); }
    /// Steps taken so far (the number of successful commits).
    std::uint64_t step() const { return step_; }
    std::uint64_t first_index() const { return first_; }
    std::uint64_t token() const { return token_; }

    batch_view<const T> state() const { return x_.view(); }
    /// Writable states; they are re-checked for finiteness before the next step.
    batch_view<T> mutable_state() {
        verified_ = false;
        token_ = detail::next_token();
        return x_.view();
    }
    /// Copies host states (D x N) in; throws on a non-finite entry. step() is kept.
    void set_state(const matrix<T>& x0) {
        constexpr const char* where = "samplers::chains::set_state";
        hosm::detail::check_size(where, "x0.rows", static_cast<index_t>(x0.rows()), dim());
        hosm::detail::check_size(where, "x0.cols", static_cast<index_t>(x0.cols()), count());
        for (index_t j = 0; j < count(); ++j)
            for (index_t i = 0; i < dim(); ++i)
                if (!std::isfinite(static_cast<double>(x0(i, j))))
                    hosm::detail::fail(where, "argument 'x0' has a non-finite entry ", x0(i, j),
                                       " in chain ", j, ", dimension ", i);
        thrust::copy(x0.data(), x0.data() + x0.size(), x_.storage().begin());
        verified_ = true;
        token_ = detail::next_token();
    }
    matrix<T> to_eigen() const { return x_.to_eigen(); }

    /// Host copy of the per-chain flags (OR of chain_flag bits).
    std::vector<int> flags() const {
        std::vector<int> f(static_cast<std::size_t>(count()));
        thrust::copy(flags_.begin(), flags_.end(), f.begin());
        return f;
    }
    index_t flagged() const {
        return backend::transform_reduce_index<B>(count(), detail::nonzero_fn{ptr(flags_)},
                                                  index_t(0));
    }
    void clear_flags() { thrust::fill(flags_.begin(), flags_.end(), 0); }

    // ---- for samplers ---------------------------------------------------------

    /// The candidate buffer (D x N) a sampler writes the new states into.
    batch_view<T> next() { return next_.view(); }
    /// Per-chain status bits of the step in progress (int per chain, B's memory).
    int* status() {
        status_clean_ = false;
        return ptr(status_);
    }
    /// The random keys of the current step (see the header).
    draw_key keys() const { return {step_, first_}; }

    /// Starts a step: checks the step counter and clears status().
    void begin_step(const char* where) {
        if (step_ >= (std::uint64_t(1) << 32))
            hosm::detail::fail(where, "the chains have taken 2^32 steps, the limit of the "
                                      "random keys (step << 32 | chain)");
        // status() is all zero after a passed check (or a failed one, which
        // clears it), so only a step that ended some other way (an exception
        // in the score) leaves anything to clear: one parallel pass fewer.
        if (!status_clean_) thrust::fill(status_.begin(), status_.end(), 0);
        status_clean_ = false;
    }

    /// Throws hosm::error (naming chain and dimension) if a state written
    /// through mutable_state() / the batch constructor is non-finite.
    void require_finite(const char* where) {
        if (verified_) return;
        const matrix<T> x = x_.to_eigen();
        for (index_t j = 0; j < count(); ++j)
            for (index_t i = 0; i < dim(); ++i)
                if (!std::isfinite(static_cast<double>(x(i, j))))
                    hosm::detail::fail(where, "the state of chain ", j, " is non-finite before step ",
                                       step_, ": entry ", i, " = ", x(i, j));
        verified_ = true;
    }

    /// Checks the candidate and status(); on failure flags the chains and throws.
    void check_candidate(const char* where) { check(where); }

    /// Checks the candidate; on success it becomes the state and step() += 1.
    void commit(const char* where) {
        check(where);
        x_.storage().swap(next_.storage());
        ++step_;
        verified_ = true;
        token_ = detail::next_token();
    }

private:
    static index_t checked_dim(index_t dim) {
        hosm::detail::check_at_least("samplers::chains", "dim", dim, 1);
        return dim;
    }
    static index_t checked_count(index_t count, std::uint64_t first) {
        hosm::detail::check_at_least("samplers::chains", "count", count, 1);
        if (first > (std::uint64_t(1) << 32) ||
            static_cast<std::uint64_t>(count) > (std::uint64_t(1) << 32) - first)
            hosm::detail::fail("samplers::chains", "first_index + count = ", first, " + ", count,
                               " exceeds 2^32, the limit of the random keys (step << 32 | chain)");
        return count;
    }
    template <class V>
    static auto ptr(V& v) {
        return thrust::raw_pointer_cast(v.data());
    }
    void init_flags() {
        flags_.assign(static_cast<std::size_t>(count()), 0);
        status_.assign(static_cast<std::size_t>(count()), 0);
    }

    void check(const char* where) {
        const index_t N = count();
        const index_t bad = backend::transform_reduce_index<B>(
            N, detail::mark_and_count_fn<T>{next_.view(), ptr(status_)}, index_t(0));
        if (bad == 0) {
            status_clean_ = true;
            return;
        }
        backend::for_each_index<B>(N, detail::or_into_fn{ptr(status_), ptr(flags_)});
        std::vector<int> st(static_cast<std::size_t>(N));
        thrust::copy(status_.begin(), status_.end(), st.begin());
        thrust::fill(status_.begin(), status_.end(), 0);
        status_clean_ = true;
        const index_t j = static_cast<index_t>(
            std::find_if(st.begin(), st.end(), [](int s) { return s != 0; }) - st.begin());
        std::string entry;
        {
            const matrix<T> cand = next_.to_eigen();
            for (index_t i = 0; i < dim(); ++i)
                if (!std::isfinite(static_cast<double>(cand(i, j)))) {
                    entry = hosm::detail::concat(" (entry ", i, " = ", cand(i, j), ")");
                    break;
                }
        }
        std::string global;
        if (first_ != 0) global = hosm::detail::concat(" (global index ", first_ + j, ")");
        hosm::detail::fail(where, "chain ", j, global, " failed in step ", step_, " (", bad, " of ",
                           N, " chains): ", detail::describe_flags(st[static_cast<std::size_t>(j)]),
                           entry,
                           "; the chains were not advanced (each keeps its state before this "
                           "step) and flags() records the failed chains");
    }

    batch<T, B> x_, next_;
    typename B::template vector<int> flags_, status_;
    std::uint64_t first_ = 0;
    std::uint64_t step_ = 0;
    bool verified_ = false;
    bool status_clean_ = true;  // status_ is known to be all zero
    std::uint64_t token_ = detail::next_token();
};

/// Advances `c` by `steps` steps of `sampler` with scores from `source`.
template <class S, class Src, class T, class B>
    requires requires(S& s, const Src& src, chains<T, B>& c) { s.step(src, c); }
void run(S& sampler, const Src& source, chains<T, B>& c, index_t steps) {
    hosm::detail::check_at_least("samplers::run", "steps", steps, 0);
    for (index_t i = 0; i < steps; ++i) sampler.step(source, c);
}

/// As above, appending the state after every `every`-th step to the host
/// trace (layout of diagnostics::trace_view); returns a view of the whole trace.
template <class S, class Src, class T, class B>
    requires requires(S& s, const Src& src, chains<T, B>& c) { s.step(src, c); }
diagnostics::trace_view<const T> run(S& sampler, const Src& source, chains<T, B>& c,
                                     index_t steps, std::vector<T>& trace, index_t every = 1) {
    constexpr const char* where = "samplers::run";
    hosm::detail::check_at_least(where, "steps", steps, 0);
    hosm::detail::check_at_least(where, "every", every, 1);
    const std::size_t slice = static_cast<std::size_t>(c.dim() * c.count());
    if (trace.size() % slice != 0)
        hosm::detail::fail(where, "argument 'trace' holds ", trace.size(),
                           " numbers, not a multiple of dim * count = ", slice,
                           " (a trace of other chains?)");
    trace.reserve(trace.size() + slice * static_cast<std::size_t>(steps / every));
    for (index_t i = 1; i <= steps; ++i) {
        sampler.step(source, c);
        if (i % every == 0) {
            const std::size_t at = trace.size();
            trace.resize(at + slice);
            const batch_view<const T> x = c.state();
            if constexpr (B::host_memory) {
                std::copy(x.data, x.data + slice, trace.data() + at);
            } else {
                thrust::copy(thrust::device_pointer_cast(x.data),
                             thrust::device_pointer_cast(x.data) + slice, trace.data() + at);
            }
        }
    }
    return {trace.data(), static_cast<index_t>(trace.size() / slice), c.count(), c.dim()};
}

}  // namespace hosm::samplers
