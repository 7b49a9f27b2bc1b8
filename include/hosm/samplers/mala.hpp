// hosm/samplers/mala.hpp — the Metropolis-adjusted Langevin algorithm (MALA).
//
// Maths (seed 004, "Annealed Score Matching and MALA"; Roberts & Tweedie 1996):
// the ULA step of seed 000 Eq. (19) is the proposal,
//
//     x' = x + (eps / 2) s1(x) + sqrt(eps) z,       q(x' | x) = N(x'; x + (eps/2) s1(x), eps I),
//
// accepted with probability min(1, a),
//
//     log a = log p(x') - log p(x) + log q(x | x') - log q(x' | x),
//     log q(x' | x) = -|z|^2 / 2,   log q(x | x') = -|x - x' - (eps/2) s1(x')|^2 / (2 eps)
//
// (the normalizing constants of q cancel; log p needs no normalization, so a
// DensitySource's log_density may be off by a constant). Otherwise the chain
// stays at x. The chain is reversible with respect to p for every eps > 0: on
// a Gaussian target it has no step-size bias, unlike ULA. A proposal where
// log p(x') = -inf (outside the support) is rejected.
//
// Random numbers (chain j, step t, key(t, j) = (t << 32) | (first_index + j),
// chains.hpp): the proposal's z_k = noise.normal(key, k) — the numbers
// samplers::langevin draws with the same stream, so MALA's proposal IS the ULA
// step — and the acceptance uniform u = accept.uniform(key, 0). `accept`
// defaults to the noise stream: its uniform draws come from Philox's uniform
// domain (counter bit 31), so they are keyed separately from, and independent
// of, the normal draws; pass a distinct stream to key them explicitly apart.
// Accept iff log u < log a.
//
// Cost per step: one s1 and one log p evaluation at the proposals. s1 and
// log p at the current states are cached from the previous step and reused
// while chains.token() is unchanged (they are recomputed after
// chains.mutable_state() / set_state(), or for other chains).
//
// API (T float or double, B a back end)
//   samplers::mala<T, B> m(eps, noise[, accept]);    random::stream noise, accept
//   m.step(src, chains)      src a concepts::DensitySource<Src, T, B>
//   m.acceptance_rate()      accepted / proposed over all chains and steps since
//                            construction or reset_statistics() (NaN before any step)
//   m.acceptance_rates()     per chain (host std::vector<double>)
//   m.last_accepted()        per chain, 1 if the last step accepted (host std::vector<int>)
//   m.proposals()            steps counted in the statistics
//   m.reset_statistics()     (also done automatically when the chain count changes)
//   m.step_size(), m.noise_stream(), m.accept_stream()
//
// Errors (hosm::error): eps not finite or <= 0; src.dim() != chains.dim(); a
// non-finite initial state; in a step, a non-finite s1 or log p (NaN, +inf,
// or -inf at the current state) or a non-finite proposal — named with chain
// and step, the chains left at their states before the step (chains.hpp).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <thrust/copy.h>
#include <thrust/fill.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/concepts/score_source.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/chains.hpp>
#include <hosm/samplers/detail/langevin_kernels.hpp>

namespace hosm::samplers {

namespace detail {

/// Proposal x' = x + (eps/2) g + sqrt(eps) z into `out`; half_z2[j] = |z|^2 / 2.
template <class T>
struct mala_propose_fn {
    batch_view<const T> x, g;
    const T* lp;
    batch_view<T> out;
    T* half_z2;
    int* status;
    random::stream s;
    draw_key key;
    T half_eps, sqrt_eps;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* xj = x.col(j);
        const T* gj = g.col(j);
        T* o = out.col(j);
        int st = 0;
        T q = T(0);
        for_each_normal<T>(s, key(j), x.dim, [&](index_t k, T z) {
            if (!is_finite(gj[k])) st |= nonfinite_score;
            o[k] = xj[k] + half_eps * gj[k] + sqrt_eps * z;
            q += z * z;
        });
        if (!is_finite(lp[j])) st |= nonfinite_density;
        half_z2[j] = q / T(2);
        if (st) status[j] |= st;
    }
};

/// Metropolis–Hastings: keeps x' in `prop` or copies x back; updates the cache.
template <class T>
struct mala_accept_fn {
    batch_view<const T> x;
    batch_view<T> prop;
    batch_view<T> g_cur;
    batch_view<const T> g_prop;
    T* lp_cur;
    const T* lp_prop;
    const T* half_z2;
    int* accepted;
    int* status;
    random::stream s;
    draw_key key;
    T half_eps, eps;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const index_t D = x.dim;
        const T* xj = x.col(j);
        T* pj = prop.col(j);
        const T lpp = lp_prop[j];
        bool accept = false;
        if (!is_finite(lpp) && !(lpp < T(0))) {  // NaN or +inf
            status[j] |= nonfinite_density;
        } else if (is_finite(lpp)) {  // -inf (outside the support): reject
            const T* gp = g_prop.col(j);
            T r = T(0);
            int st = 0;
            for (index_t k = 0; k < D; ++k) {
                if (!is_finite(gp[k])) st |= nonfinite_score;
                const T d = xj[k] - pj[k] - half_eps * gp[k];
                r += d * d;
            }
            if (st) {
                status[j] |= st;
            } else {
                const T log_a = lpp - lp_cur[j] - r / (T(2) * eps) + half_z2[j];
                const T u = s.uniform<T>(key(j), 0);
                accept = std::log(u) < log_a;
            }
        }
        accepted[j] = accept ? 1 : 0;
        if (accept) {
            T* gc = g_cur.col(j);
            const T* gp = g_prop.col(j);
            for (index_t k = 0; k < D; ++k) gc[k] = gp[k];
            lp_cur[j] = lpp;
        } else {
            for (index_t k = 0; k < D; ++k) pj[k] = xj[k];
        }
    }
};

struct mala_count_fn {
    const int* accepted;
    std::uint64_t* total;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        total[j] += static_cast<std::uint64_t>(accepted[j]);
    }
};

}  // namespace detail

template <class T, concepts::Backend B = backend::cpp>
class mala {
public:
    static constexpr const char* name = "samplers::mala";
    using value_type = T;
    using backend_type = B;

    mala(T eps, random::stream noise) : mala(eps, noise, noise) {}
    mala(T eps, random::stream noise, random::stream accept)
        : eps_(eps), noise_(noise), accept_(accept) {
        hosm::detail::check_positive(name, "eps", eps);
    }

    T step_size() const { return eps_; }
    const random::stream& noise_stream() const { return noise_; }
    const random::stream& accept_stream() const { return accept_; }

    template <class Src>
        requires concepts::DensitySource<Src, T, B> && detail::SameMemory<Src, B>
    void step(const Src& src, chains<T, B>& c) {
        constexpr const char* where = "samplers::mala::step";
        detail::check_source(where, src, c);
        c.require_finite(where);
        c.begin_step(where);
        const index_t D = c.dim(), N = c.count();
        if (static_cast<index_t>(total_.size()) != N) {
            reset_statistics();
            total_.assign(static_cast<std::size_t>(N), 0);
            last_.assign(static_cast<std::size_t>(N), 0);
        }
        if (g_cur_.dim() != D || g_cur_.count() != N || cache_token_ != c.token()) {
            detail::ensure_shape(g_cur_, D, N);
            detail::ensure_shape(g_prop_, D, N);
            detail::ensure_shape(lp_cur_, 1, N);
            detail::ensure_shape(lp_prop_, 1, N);
            detail::ensure_shape(half_z2_, 1, N);
            src.score(c.state(), g_cur_.view());
            src.log_density(c.state(), lp_cur_.view());
        }
        cache_token_ = 0;  // the cache is rewritten below; valid again only after commit
        const T half_eps = eps_ / T(2);
        backend::for_each_index<B>(
            N, detail::mala_propose_fn<T>{c.state(), std::as_const(g_cur_).view(),
                                          lp_cur_.view().data, c.next(), half_z2_.view().data,
                                          c.status(), noise_, c.keys(), half_eps, std::sqrt(eps_)});
        c.check_candidate(where);
        const batch_view<T> prop = c.next();
        src.score(batch_view<const T>(prop), g_prop_.view());
        src.log_density(batch_view<const T>(prop), lp_prop_.view());
        int* acc = thrust::raw_pointer_cast(last_.data());
        backend::for_each_index<B>(
            N, detail::mala_accept_fn<T>{c.state(), prop, g_cur_.view(),
                                         std::as_const(g_prop_).view(), lp_cur_.view().data,
                                         std::as_const(lp_prop_).view().data,
                                         std::as_const(half_z2_).view().data, acc, c.status(),
                                         accept_, c.keys(), half_eps, eps_});
        c.commit(where);
        cache_token_ = c.token();
        backend::for_each_index<B>(
            N, detail::mala_count_fn{acc, thrust::raw_pointer_cast(total_.data())});
        ++proposals_;
    }

    double acceptance_rate() const {
        if (proposals_ == 0 || total_.empty()) return std::numeric_limits<double>::quiet_NaN();
        const std::vector<std::uint64_t> t = host(total_);
        double s = 0;
        for (std::uint64_t v : t) s += static_cast<double>(v);
        return s / (static_cast<double>(proposals_) * static_cast<double>(t.size()));
    }
    std::vector<double> acceptance_rates() const {
        const std::vector<std::uint64_t> t = host(total_);
        std::vector<double> r(t.size(), std::numeric_limits<double>::quiet_NaN());
        if (proposals_ > 0)
            for (std::size_t j = 0; j < t.size(); ++j)
                r[j] = static_cast<double>(t[j]) / static_cast<double>(proposals_);
        return r;
    }
    std::vector<int> last_accepted() const { return host(last_); }
    std::uint64_t proposals() const { return proposals_; }
    void reset_statistics() {
        proposals_ = 0;
        thrust::fill(total_.begin(), total_.end(), std::uint64_t(0));
        thrust::fill(last_.begin(), last_.end(), 0);
    }

private:
    template <class V>
    static auto host(const V& v) {
        std::vector<typename V::value_type> h(v.size());
        thrust::copy(v.begin(), v.end(), h.begin());
        return h;
    }

    T eps_;
    random::stream noise_, accept_;
    batch<T, B> g_cur_, g_prop_, lp_cur_, lp_prop_, half_z2_;  // workspace and cache
    std::uint64_t cache_token_ = 0;
    typename B::template vector<std::uint64_t> total_;  // accepted proposals per chain
    typename B::template vector<int> last_;             // accepted in the last step
    std::uint64_t proposals_ = 0;
};

}  // namespace hosm::samplers
