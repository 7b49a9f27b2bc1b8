// hosm/noise/gaussian.hpp — the isotropic Gaussian noise kernel q_sigma(x~ | x).
//
// Maths (seed 000, Sec. 2): q_sigma(x~ | x) = N(x~; x, sigma^2 I), drawn as
//
//     x~ = x + sigma z,   z ~ N(0, I_D).
//
// The noisy density is q_sigma(x~) = E_{x ~ p}[q_sigma(x~ | x)]; the smoothed
// targets of hosm/targets/ give its exact scores where a closed form exists.
//
// API
//   noise::gaussian<T> g{sigma};         sigma > 0 and finite, else hosm::error
//   g.sigma(), g.variance()              sigma, sigma^2
//   g.perturb<B>(s, x, x_tilde, z, first)
//       z(k, j) = s.normal<T>(first + j, k), exactly the numbers of
//       random::fill_normal<B>(s, z, first) (column j is sample index first + j,
//       so a sample's noise does not depend on the batch it is drawn in), and
//       x_tilde = x + sigma z. x, x_tilde, z are D x N batches in B's memory;
//       x_tilde may be x (in place); z must not overlap x or x_tilde.
//   g.perturb(s, x, first) -> {x_tilde, z}   host overload on hosm::matrix<T>
//
// Errors (hosm::error): sigma <= 0 or non-finite; batches of different shapes;
// a non-finite entry in x.
#pragma once
#include <cstdint>
#include <utility>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/noise/detail/batch_checks.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::noise {

namespace detail {

/// out = x + sigma z, per entry (x and out may alias).
template <class T>
struct add_scaled_fn {
    const T* x;
    const T* z;
    T* out;
    T sigma;
    HOSM_HOST_DEVICE void operator()(index_t i) const { out[i] = x[i] + sigma * z[i]; }
};

}  // namespace detail

template <class T>
class gaussian {
public:
    using value_type = T;

    explicit gaussian(T sigma) : sigma_(sigma) {
        hosm::detail::check_positive("noise::gaussian", "sigma", sigma);
    }

    T sigma() const { return sigma_; }
    T variance() const { return sigma_ * sigma_; }

    /// x_tilde = x + sigma z with z(k, j) = s.normal<T>(first + j, k).
    template <concepts::Backend B>
    void perturb(const random::stream& s, batch_view<const T> x, batch_view<T> x_tilde,
                 batch_view<T> z, std::uint64_t first = 0) const {
        constexpr const char* where = "noise::gaussian::perturb";
        detail::check_shape(where, "x", x, x.dim, x.count);
        detail::check_shape(where, "x_tilde", x_tilde, x.dim, x.count);
        detail::check_shape(where, "z", z, x.dim, x.count);
        detail::check_finite_batch<B>(where, "x", x);
        random::fill_normal<B>(s, z, first);
        backend::for_each_index<B>(x.size(),
                                   detail::add_scaled_fn<T>{x.data, z.data, x_tilde.data, sigma_});
    }

    /// Host convenience: returns {x_tilde, z} for a D x N host matrix x.
    std::pair<matrix<T>, matrix<T>> perturb(const random::stream& s, const matrix<T>& x,
                                            std::uint64_t first = 0) const {
        matrix<T> xt(x.rows(), x.cols()), z(x.rows(), x.cols());
        perturb<backend::cpp>(s, view(x), view(xt), view(z), first);
        return {std::move(xt), std::move(z)};
    }

private:
    T sigma_;
};

}  // namespace hosm::noise
