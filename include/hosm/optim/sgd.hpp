// hosm/optim/sgd.hpp — stochastic gradient descent with optional heavy-ball
// momentum and L2 weight decay, on a flat parameter array.
//
// Maths (one step with gradient g_t = grad f(theta_t), learning rate eta,
// momentum mu in [0, 1), weight decay lambda >= 0):
//
//     d_t       = g_t + lambda theta_t                  (L2 decay, coupled)
//     u_t       = mu u_{t-1} + d_t,      u_0 = 0        (velocity)
//     theta_t+1 = theta_t - eta u_t
//
// With a constant eta this is Polyak's heavy-ball method,
//     theta_t+1 = theta_t - eta d_t + mu (theta_t - theta_t-1),
// in the convention of PyTorch's torch.optim.SGD (dampening 0, no Nesterov):
// the velocity accumulates gradients, not steps, so changing eta with a
// schedule rescales the whole velocity. mu = 0 is plain SGD (no state).
//
// API (params, grads: n contiguous values in B's memory)
//   optim::sgd<T, B> opt;                             lr 0.01, momentum 0, weight_decay 0
//   optim::sgd<T, B> opt({.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4});
//   opt.step(params, grads, n)        one update in place
//   opt.step(params_vec, grads_vec)   the same on two B vectors
//   opt.lr(), opt.set_lr(eta)         eta >= 0 (a schedule may reach 0)
//   opt.momentum(), opt.weight_decay(), opt.size() (0 before the first step),
//   opt.step_count(), opt.velocity() (B vector; empty when mu = 0)
//   opt.restore(step_count, velocity_host, n), opt.reset()
//
// Preconditions and errors (hosm::error naming the argument and value):
// lr > 0 at construction, momentum in [0, 1), weight_decay >= 0, all finite;
// n >= 1 and non-null pointers; n equal to the size of the first step's
// arrays (the state is sized then); with options::check_finite (default) a
// non-finite gradient entry is reported before anything is modified.
#pragma once
#include <cmath>
#include <cstddef>
#include <type_traits>

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

/// theta -= eta (g + lambda theta)      (no momentum)
template <class T>
struct sgd_plain_fn {
    T* p;
    const T* g;
    T lr, wd;
    HOSM_HOST_DEVICE void operator()(index_t i) const {
        const T d = g[i] + wd * p[i];
        p[i] = p[i] - lr * d;
    }
};

/// u = mu u + (g + lambda theta); theta -= eta u
template <class T>
struct sgd_momentum_fn {
    T* p;
    const T* g;
    T* u;
    T lr, mu, wd;
    HOSM_HOST_DEVICE void operator()(index_t i) const {
        const T d = g[i] + wd * p[i];
        const T ui = mu * u[i] + d;
        u[i] = ui;
        p[i] = p[i] - lr * ui;
    }
};

}  // namespace detail

template <class T, concepts::Backend B = backend::cpp>
class sgd {
    static_assert(std::is_floating_point_v<T>, "hosm: optim::sgd<T>: T must be a floating-point type");

public:
    using value_type = T;
    using backend_type = B;
    using vector_type = typename B::template vector<T>;

    struct options {
        T lr = T(0.01);
        T momentum = T(0);
        T weight_decay = T(0);
        bool check_finite = true;  // report non-finite gradients before updating
    };

    sgd() : sgd(options{}) {}
    explicit sgd(const options& o) : opt_(o) {
        constexpr const char* where = "optim::sgd";
        hosm::detail::check_positive(where, "lr", o.lr);
        hosm::detail::check_nonnegative(where, "momentum", o.momentum);
        if (!(o.momentum < T(1)))
            hosm::detail::fail(where, "argument 'momentum' must be in [0, 1), got ", o.momentum);
        hosm::detail::check_nonnegative(where, "weight_decay", o.weight_decay);
    }

    T lr() const { return opt_.lr; }
    /// eta >= 0 and finite (0 freezes the parameters, as at the end of a schedule).
    void set_lr(T lr) {
        hosm::detail::check_nonnegative("optim::sgd::set_lr", "lr", lr);
        opt_.lr = lr;
    }
    T momentum() const { return opt_.momentum; }
    T weight_decay() const { return opt_.weight_decay; }
    const options& settings() const { return opt_; }

    /// Number of parameters the state is built for (0 before the first step).
    index_t size() const { return n_; }
    index_t step_count() const { return t_; }
    /// The velocity u (empty when momentum = 0).
    const vector_type& velocity() const { return u_; }

    void step(T* params, const T* grads, index_t n) {
        constexpr const char* where = "optim::sgd::step";
        detail::check_flat(where, "params", params, n);
        detail::check_flat(where, "grads", grads, n);
        detail::check_state_size(where, n_, n);
        if (opt_.check_finite) detail::check_grads_finite<B>(where, grads, n);
        if (n_ == 0) {
            n_ = n;
            if (opt_.momentum > T(0)) {
                u_.resize(static_cast<std::size_t>(n));
                thrust::fill(u_.begin(), u_.end(), T(0));
            }
        }
        if (opt_.momentum > T(0))
            backend::for_each_index<B>(
                n, detail::sgd_momentum_fn<T>{params, grads, thrust::raw_pointer_cast(u_.data()),
                                              opt_.lr, opt_.momentum, opt_.weight_decay});
        else
            backend::for_each_index<B>(
                n, detail::sgd_plain_fn<T>{params, grads, opt_.lr, opt_.weight_decay});
        ++t_;
    }

    void step(vector_type& params, const vector_type& grads) {
        hosm::detail::check_size("optim::sgd::step", "grads", static_cast<index_t>(grads.size()),
                                 static_cast<index_t>(params.size()));
        step(thrust::raw_pointer_cast(params.data()), thrust::raw_pointer_cast(grads.data()),
             static_cast<index_t>(params.size()));
    }

    /// Restores a saved state: step count and, when momentum > 0, the n host
    /// values of the velocity (ignored, may be null, when momentum = 0).
    void restore(index_t step_count, const T* velocity_host, index_t n) {
        constexpr const char* where = "optim::sgd::restore";
        hosm::detail::check_at_least(where, "step_count", step_count, 0);
        hosm::detail::check_at_least(where, "n", n, 1);
        if (opt_.momentum > T(0)) {
            detail::check_flat(where, "velocity_host", velocity_host, n);
            hosm::detail::check_all_finite(where, "velocity_host", velocity_host, n);
            detail::copy_from_host(u_, velocity_host, n);
        }
        n_ = n;
        t_ = step_count;
    }

    /// Forgets the state; the next step may have any size.
    void reset() {
        u_.clear();
        n_ = 0;
        t_ = 0;
    }

private:
    options opt_;
    vector_type u_;
    index_t n_ = 0;
    index_t t_ = 0;
};

}  // namespace hosm::optim
