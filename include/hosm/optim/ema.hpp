// hosm/optim/ema.hpp — exponential moving average of a flat parameter array
// (Polyak-Ruppert style averaging with exponential forgetting).
//
// Maths (decay rho in [0, 1), parameters theta_k after update k = 1, 2, ...):
//
//     a_1 = theta_1,
//     a_k = rho a_k-1 + (1 - rho) theta_k,      k >= 2,
//
// so a_k = rho^(k-1) theta_1 + (1 - rho) sum_{j=2..k} rho^(k-j) theta_j, an
// average over roughly the last 1 / (1 - rho) updates. The first update
// copies (as TensorFlow's ExponentialMovingAverage), so there is no bias
// towards zero to correct. rho = 0 tracks theta exactly.
//
// API (params, out: n contiguous values in B's memory)
//   optim::ema<T, B> avg(0.999);
//   avg.update(params, n) / avg.update(params_vec)    one averaging step
//   avg.copy_to(out, n) / avg.copy_to(out_vec)        out = a (e.g. to evaluate
//                                                     or save the averaged model)
//   avg.decay(), avg.size() (0 before the first update), avg.count() (k),
//   avg.average() (a as a B vector), avg.restore(k, a_host, n), avg.reset()
//
// Errors (hosm::error naming the argument and value): decay outside [0, 1)
// or non-finite; n < 1 or null pointers; n different from the size of the
// first update; copy_to before any update.
#pragma once
#include <cstddef>
#include <type_traits>

#include <thrust/copy.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/optim/detail/flat.hpp>

namespace hosm::optim {

namespace detail {

/// a = rho a + (1 - rho) theta
template <class T>
struct ema_fn {
    T* a;
    const T* p;
    T rho;
    HOSM_HOST_DEVICE void operator()(index_t i) const { a[i] = rho * a[i] + (T(1) - rho) * p[i]; }
};

/// dst = src
template <class T>
struct copy_fn {
    T* dst;
    const T* src;
    HOSM_HOST_DEVICE void operator()(index_t i) const { dst[i] = src[i]; }
};

}  // namespace detail

template <class T, concepts::Backend B = backend::cpp>
class ema {
    static_assert(std::is_floating_point_v<T>, "hosm: optim::ema<T>: T must be a floating-point type");

public:
    using value_type = T;
    using backend_type = B;
    using vector_type = typename B::template vector<T>;

    explicit ema(T decay) : rho_(decay) {
        if (!(decay >= T(0) && decay < T(1)))
            hosm::detail::fail("optim::ema", "argument 'decay' must be in [0, 1), got ", decay);
    }

    T decay() const { return rho_; }
    index_t size() const { return n_; }
    /// Number of updates so far (k).
    index_t count() const { return k_; }
    const vector_type& average() const { return a_; }

    void update(const T* params, index_t n) {
        constexpr const char* where = "optim::ema::update";
        detail::check_flat(where, "params", params, n);
        detail::check_state_size(where, n_, n);
        if (k_ == 0) {
            a_.resize(static_cast<std::size_t>(n));
            backend::for_each_index<B>(n, detail::copy_fn<T>{thrust::raw_pointer_cast(a_.data()), params});
            n_ = n;
        } else {
            backend::for_each_index<B>(n, detail::ema_fn<T>{thrust::raw_pointer_cast(a_.data()), params, rho_});
        }
        ++k_;
    }
    void update(const vector_type& params) {
        update(thrust::raw_pointer_cast(params.data()), static_cast<index_t>(params.size()));
    }

    /// out = the average (n values in B's memory).
    void copy_to(T* out, index_t n) const {
        constexpr const char* where = "optim::ema::copy_to";
        if (k_ == 0) hosm::detail::fail(where, "no average yet: call update() first");
        detail::check_flat(where, "out", out, n);
        hosm::detail::check_size(where, "n", n, n_);
        backend::for_each_index<B>(n, detail::copy_fn<T>{out, thrust::raw_pointer_cast(a_.data())});
    }
    void copy_to(vector_type& out) const {
        if (k_ == 0) hosm::detail::fail("optim::ema::copy_to", "no average yet: call update() first");
        out.resize(static_cast<std::size_t>(n_));
        copy_to(thrust::raw_pointer_cast(out.data()), n_);
    }

    /// Restores a saved average after `count` >= 1 updates from n host values.
    void restore(index_t count, const T* average_host, index_t n) {
        constexpr const char* where = "optim::ema::restore";
        hosm::detail::check_at_least(where, "count", count, 1);
        detail::check_flat(where, "average_host", average_host, n);
        hosm::detail::check_all_finite(where, "average_host", average_host, n);
        detail::copy_from_host(a_, average_host, n);
        n_ = n;
        k_ = count;
    }

    void reset() {
        a_.clear();
        n_ = 0;
        k_ = 0;
    }

private:
    T rho_;
    vector_type a_;
    index_t n_ = 0;
    index_t k_ = 0;
};

}  // namespace hosm::optim
