// hosm/optim/adam.hpp — Adam (Kingma & Ba, 2015) with bias correction and
// optional decoupled weight decay (AdamW, Loshchilov & Hutter, 2019), on a
// flat parameter array.
//
// Maths (step t = 1, 2, ... with gradient g_t, learning rate eta, decay rates
// beta1, beta2 in [0, 1), eps > 0, decoupled weight decay lambda >= 0;
// m_0 = v_0 = 0; all operations per entry):
//
//     m_t       = beta1 m_t-1 + (1 - beta1) g_t
//     v_t       = beta2 v_t-1 + (1 - beta2) g_t^2
//     mhat_t    = m_t / (1 - beta1^t),    vhat_t = v_t / (1 - beta2^t)
//     theta_t   = theta_t-1 (1 - eta lambda) - eta mhat_t / (sqrt(vhat_t) + eps)
//
// lambda = 0 is Adam; lambda > 0 is AdamW (the decay is not part of the
// gradient, so it is not rescaled by 1 / sqrt(vhat)). The kernel evaluates the
// last line as theta (1 - eta lambda) - a m_t / (sqrt(v_t) c + eps), with
// a = eta / (1 - beta1^t) and c = 1 / sqrt(1 - beta2^t) computed on the host in
// double and passed as T (PyTorch's arrangement): one square root and one
// division per entry instead of a square root and three divisions, equal in
// exact arithmetic and within a few rounding errors of the form above.
// For a constant gradient g, mhat_t = g and vhat_t = g^2 exactly, so every
// step moves theta by -eta g / (|g| + eps), about -eta sign(g).
//
// API (params, grads: n contiguous values in B's memory)
//   optim::adam<T, B> opt;                            lr 1e-3, betas (0.9, 0.999), eps 1e-8
//   optim::adam<T, B> opt({.lr = 1e-2, .weight_decay = 1e-4});   AdamW
//   opt.step(params, grads, n)        one update in place (state sized by the first)
//   opt.step(params_vec, grads_vec)   the same on two B vectors
//   opt.lr(), opt.set_lr(eta)         eta >= 0 (a schedule may reach 0)
//   opt.beta1(), beta2(), eps(), weight_decay(), settings()
//   opt.size() (0 before the first step), opt.step_count() (t)
//   opt.first_moment(), opt.second_moment()   m, v as B vectors (for checkpoints)
//   opt.restore(t, m_host, v_host, n), opt.reset()
//
// On host back ends (cpp, omp) the update runs as Eigen array expressions on
// fixed chunks of 16 entries (vectorised, the same instructions for every
// entry: results do not depend on alignment or threads), in blocks of 4096
// entries spread over B's threads, with adam_fn's order of operations.
//
// Preconditions and errors (hosm::error naming the argument and value):
// lr > 0 at construction, beta1 and beta2 in [0, 1), eps > 0, weight_decay
// >= 0, all finite; n >= 1 and non-null pointers; n equal to the size of the
// first step's arrays; with options::check_finite (default) a non-finite
// gradient entry is reported before anything is modified; a restored v must
// be >= 0.
#pragma once
#include <cmath>
#include <cstddef>
#include <type_traits>

#include <Eigen/Core>
#include <thrust/fill.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/optim/detail/flat.hpp>

namespace hosm::optim {

namespace detail {

template <class T>
struct adam_fn {
    T* p;
    const T* g;
    T* m;
    T* v;
    T beta1, beta2;
    T step;       // lr / (1 - beta1^t)
    T rbc2;       // 1 / sqrt(1 - beta2^t)
    T eps;
    T keep;       // 1 - lr * weight_decay
    bool decay;   // weight_decay > 0
    HOSM_HOST_DEVICE void operator()(index_t i) const {
        const T gi = g[i];
        const T mi = beta1 * m[i] + (T(1) - beta1) * gi;
        const T vi = beta2 * v[i] + (T(1) - beta2) * (gi * gi);
        m[i] = mi;
        v[i] = vi;
        const T pi = decay ? p[i] * keep : p[i];
        p[i] = pi - step * mi / (std::sqrt(vi) * rbc2 + eps);
    }
};

/// Host back ends: the same update on [i0, i0 + len) as Eigen array
/// expressions on fixed chunks of 16 entries (SIMD whatever the optimisation
/// level or the alignment; the tail is zero-padded, so every entry goes
/// through the same instructions), in adam_fn's order of operations. sqrt,
/// division, + and * are correctly rounded, so each entry gets adam_fn's value
/// up to the compiler's contraction of a * b + c in adam_fn.
template <class T>
inline void adam_host_block(const adam_fn<T>& f, index_t i0, index_t len) {
    constexpr index_t C = 16;
    using A = Eigen::Array<T, C, 1>;
    auto update = [&](A& p, A& m, A& v, const A& g) {
        m = f.beta1 * m + (T(1) - f.beta1) * g;
        v = f.beta2 * v + (T(1) - f.beta2) * g.square();
        const A q = f.decay ? A(p * f.keep) : p;
        p = q - f.step * m / (v.sqrt() * f.rbc2 + f.eps);
    };
    index_t i = i0;
    for (; i + C <= i0 + len; i += C) {
        A p = Eigen::Map<const A>(f.p + i), m = Eigen::Map<const A>(f.m + i),
          v = Eigen::Map<const A>(f.v + i);
        const A g = Eigen::Map<const A>(f.g + i);
        update(p, m, v, g);
        Eigen::Map<A> mp(f.p + i), mm(f.m + i), mv(f.v + i);
        mp = p;
        mm = m;
        mv = v;
    }
    const index_t r = i0 + len - i;
    if (r > 0) {
        A p = A::Zero(), m = A::Zero(), v = A::Zero(), g = A::Zero();
        for (index_t k = 0; k < r; ++k) {
            p(k) = f.p[i + k];
            m(k) = f.m[i + k];
            v(k) = f.v[i + k];
            g(k) = f.g[i + k];
        }
        update(p, m, v, g);
        for (index_t k = 0; k < r; ++k) {
            f.p[i + k] = p(k);
            f.m[i + k] = m(k);
            f.v[i + k] = v(k);
        }
    }
}

}  // namespace detail

template <class T, concepts::Backend B = backend::cpp>
class adam {
    static_assert(std::is_floating_point_v<T>, "hosm: optim::adam<T>: T must be a floating-point type");

public:
    using value_type = T;
    using backend_type = B;
    using vector_type = typename B::template vector<T>;

    struct options {
        T lr = T(1e-3);
        T beta1 = T(0.9);
        T beta2 = T(0.999);
        T eps = T(1e-8);
        T weight_decay = T(0);     // decoupled (AdamW); 0 is Adam
        bool check_finite = true;  // report non-finite gradients before updating
    };

    adam() : adam(options{}) {}
    explicit adam(const options& o) : opt_(o) {
        constexpr const char* where = "optim::adam";
        hosm::detail::check_positive(where, "lr", o.lr);
        check_beta(where, "beta1", o.beta1);
        check_beta(where, "beta2", o.beta2);
        hosm::detail::check_positive(where, "eps", o.eps);
        hosm::detail::check_nonnegative(where, "weight_decay", o.weight_decay);
    }

    T lr() const { return opt_.lr; }
    /// eta >= 0 and finite (0 freezes the parameters, as at the end of a schedule).
    void set_lr(T lr) {
        hosm::detail::check_nonnegative("optim::adam::set_lr", "lr", lr);
        opt_.lr = lr;
    }
    T beta1() const { return opt_.beta1; }
    T beta2() const { return opt_.beta2; }
    T eps() const { return opt_.eps; }
    T weight_decay() const { return opt_.weight_decay; }
    const options& settings() const { return opt_; }

    /// Number of parameters the state is built for (0 before the first step).
    index_t size() const { return n_; }
    /// t, the number of steps taken (the exponent of the bias corrections).
    index_t step_count() const { return t_; }
    const vector_type& first_moment() const { return m_; }
    const vector_type& second_moment() const { return v_; }

    void step(T* params, const T* grads, index_t n) {
        constexpr const char* where = "optim::adam::step";
        detail::check_flat(where, "params", params, n);
        detail::check_flat(where, "grads", grads, n);
        detail::check_state_size(where, n_, n);
        if (opt_.check_finite) detail::check_grads_finite<B>(where, grads, n);
        if (n_ == 0) {
            m_.resize(static_cast<std::size_t>(n));
            v_.resize(static_cast<std::size_t>(n));
            thrust::fill(m_.begin(), m_.end(), T(0));
            thrust::fill(v_.begin(), v_.end(), T(0));
            n_ = n;
        }
        const index_t t = t_ + 1;
        const double bc1 = 1.0 - std::pow(static_cast<double>(opt_.beta1), static_cast<double>(t));
        const double bc2 = 1.0 - std::pow(static_cast<double>(opt_.beta2), static_cast<double>(t));
        const double step = static_cast<double>(opt_.lr) / bc1;
        const double rbc2 = 1.0 / std::sqrt(bc2);
        const T keep = T(1) - opt_.lr * opt_.weight_decay;
        const detail::adam_fn<T> f{params, grads, thrust::raw_pointer_cast(m_.data()),
                                   thrust::raw_pointer_cast(v_.data()), opt_.beta1, opt_.beta2,
                                   static_cast<T>(step), static_cast<T>(rbc2), opt_.eps,
                                   keep, opt_.weight_decay > T(0)};
        if constexpr (B::host_memory) {
            // blocks of 4096 entries, spread over B's threads
            constexpr index_t blk = 4096;
            backend::for_each_index<B>((n + blk - 1) / blk, [=](index_t b) {
                const index_t i0 = b * blk;
                detail::adam_host_block(f, i0, n - i0 < blk ? n - i0 : blk);
            });
        } else {
            backend::for_each_index<B>(n, f);
        }
        t_ = t;
    }

    void step(vector_type& params, const vector_type& grads) {
        hosm::detail::check_size("optim::adam::step", "grads", static_cast<index_t>(grads.size()),
                                 static_cast<index_t>(params.size()));
        step(thrust::raw_pointer_cast(params.data()), thrust::raw_pointer_cast(grads.data()),
             static_cast<index_t>(params.size()));
    }

    /// Restores a saved state: the step count t and the n host values of m and v.
    void restore(index_t step_count, const T* m_host, const T* v_host, index_t n) {
        constexpr const char* where = "optim::adam::restore";
        hosm::detail::check_at_least(where, "step_count", step_count, 0);
        detail::check_flat(where, "m_host", m_host, n);
        detail::check_flat(where, "v_host", v_host, n);
        hosm::detail::check_all_finite(where, "m_host", m_host, n);
        hosm::detail::check_all_finite(where, "v_host", v_host, n);
        for (index_t i = 0; i < n; ++i)
            if (v_host[i] < T(0))
                hosm::detail::fail(where, "argument 'v_host' has a negative entry ", v_host[i],
                                   " at index ", i, " (a second moment is >= 0)");
        detail::copy_from_host(m_, m_host, n);
        detail::copy_from_host(v_, v_host, n);
        n_ = n;
        t_ = step_count;
    }

    /// Forgets the state; the next step may have any size.
    void reset() {
        m_.clear();
        v_.clear();
        n_ = 0;
        t_ = 0;
    }

private:
    static void check_beta(const char* where, const char* name, T b) {
        if (!(b >= T(0) && b < T(1)))
            hosm::detail::fail(where, "argument '", name, "' must be in [0, 1), got ", b);
    }

    options opt_;
    vector_type m_, v_;
    index_t n_ = 0;
    index_t t_ = 0;
};

}  // namespace hosm::optim
