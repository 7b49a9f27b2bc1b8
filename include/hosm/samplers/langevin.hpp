// hosm/samplers/langevin.hpp — the unadjusted Langevin algorithm (ULA).
//
// Maths (seed 000 Sec. 6.1, Eq. 19): with step size eps > 0 and z ~ N(0, I),
//
//     x_t = x_{t-1} + (eps / 2) s1(x_{t-1}) + sqrt(eps) z_t,
//
// the Euler–Maruyama step of the Langevin diffusion dx = (1/2) grad log p(x) dt
// + dW over a time eps. (Seed 001 writes the same chain as
// x + eps' grad log p + sqrt(2 eps') eta, i.e. eps' = eps / 2.) ULA is biased
// for every eps > 0: on N(0, s^2) in 1-d it is x' = a x + sqrt(eps) z with
// a = 1 - eps / (2 s^2), whose stationary variance is eps / (1 - a^2) > s^2;
// it diverges for eps >= 4 / lambda_max(-s2). mala.hpp removes the bias.
//
// Random numbers: z_t of chain j is stream.normal(key(t, j), k), k = 0..D-1,
// with key(t, j) = (t << 32) | (first_index + j) (see chains.hpp), so the
// chains are identical for every batching, bitwise on cpp and omp. On host
// back ends the update runs 16 chains at a time (detail/langevin_host.hpp:
// the same Philox bits, Box–Muller with Eigen's SIMD log / cos / sin, so z
// equals stream.normal to a few ulp; device back ends use ula_fn).
//
// API (T float or double, B a back end)
//   samplers::langevin<T, B> ula(eps, random::stream{seed, id});
//   ula.step(src, chains)       one step of all chains; src a concepts::ScoreSource
//                               <Src, T, B> (e.g. a hosm::targets class), chains a
//                               samplers::chains<T, B>
//   ula.step_size(), ula.stream()
//   samplers::run(ula, src, chains, steps[, trace, every])    (chains.hpp)
// Cost per step: one batched s1 evaluation, O(D N) besides.
//
// Errors (hosm::error): eps not finite or <= 0; src.dim() != chains.dim();
// a non-finite initial state; a chain whose new state (or score) is
// non-finite — named with its chain and step, the chains left at their last
// finite states (chains.hpp).
#pragma once
#include <cmath>
#include <utility>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/concepts/score_source.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/chains.hpp>
#include <hosm/samplers/detail/langevin_host.hpp>
#include <hosm/samplers/detail/langevin_kernels.hpp>

namespace hosm::samplers {

template <class T, concepts::Backend B = backend::cpp>
class langevin {
public:
    static constexpr const char* name = "samplers::langevin";
    using value_type = T;
    using backend_type = B;

    langevin(T eps, random::stream noise) : eps_(eps), noise_(noise) {
        hosm::detail::check_positive(name, "eps", eps);
    }

    T step_size() const { return eps_; }
    const random::stream& stream() const { return noise_; }

    template <class Src>
        requires concepts::ScoreSource<Src, T, B> && detail::SameMemory<Src, B>
    void step(const Src& src, chains<T, B>& c) {
        constexpr const char* where = "samplers::langevin::step";
        detail::check_source(where, src, c);
        c.require_finite(where);
        c.begin_step(where);
        detail::ensure_shape(g_, c.dim(), c.count());
        src.score(c.state(), g_.view());
        if constexpr (B::host_memory) {
            detail::ula_host<T>(c.state(), std::as_const(g_).view(), c.next(), c.status(), noise_,
                                c.keys(), eps_ / T(2), std::sqrt(eps_),
                                [](index_t n, auto f) { backend::for_each_index<B>(n, f); });
        } else {
            backend::for_each_index<B>(
                c.count(), detail::ula_fn<T>{c.state(), std::as_const(g_).view(), c.next(), c.status(),
                                             noise_, c.keys(), eps_ / T(2), std::sqrt(eps_)});
        }
        c.commit(where);
    }

private:
    T eps_;
    random::stream noise_;
    batch<T, B> g_;  // workspace: s1 at the current states
};

}  // namespace hosm::samplers
