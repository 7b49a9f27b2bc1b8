// hosm/objectives/multiscale.hpp — multi-scale denoising score matching for a
// noise-conditional score model s1(x~, sigma) (NCSN), seed 001 ("Noise
// Conditional Score Network"), with the weighting lambda(sigma) = sigma^2.
//
// Maths. Noise levels sigma_0, ..., sigma_{L-1} (e.g. noise::schedule, a
// geometric sequence). Seed 001 combines the DSM losses of all levels,
//
//     (1/L) sum_i lambda(sigma_i) E || s1(x + sigma_i z, sigma_i) + z/sigma_i ||^2 ,
//
// and takes lambda(sigma) = sigma^2 so that every level contributes O(1):
// lambda(sigma) ||s1 + z/sigma||^2 = ||sigma s1 + z||^2. It is estimated with a
// uniformly drawn level i_j per sample. hosm keeps the 1/2 of seed 000 Eq. (3)
// (as objectives::dsm does; a one-level schedule gives sigma^2 L_DSM) and the
// batch mean:
//
//     L = (1/N) sum_j (1/2) || sigma_j s1_j + z_j ||^2,    sigma_j = sigma_{i_j},
//     dL/ds1_j = (sigma_j / N) (sigma_j s1_j + z_j),
//
// with s1_j = s1(x_j + sigma_j z_j, sigma_j), the model at sample j's own level.
// For each level the minimiser is the score of q_{sigma_i}, as for DSM.
//
// API (s1, z, x, x_tilde: D x N batch views; level: a 1 x N view of level
// indices in [0, L), index_t; all in B's memory):
//
//   objectives::multiscale<T, B> obj{schedule};        // noise::schedule<T>
//   objectives::multiscale<T, B> obj{std::vector<T>{...}};  // any positive levels
//   obj.levels() (L), obj.sigma(i) (host)
//   obj.perturb(x, z, level, x_tilde)        x_tilde_j = x_j + sigma_{level_j} z_j
//                                            (x_tilde may be x; it must not overlap z)
//   T loss(obj, s1, z, level)                       (B deduced from obj, or loss<B>(...))
//   T loss_and_gradient(obj, s1, z, level, g1)      g1 = dL/ds1
//
// Errors (hosm::error naming the function and argument): a level sigma not
// finite and > 0, L < 1; D < 1 or N < 1; views not D x N (level not 1 x N);
// a level index outside [0, L); g1 overlapping s1 or z; non-finite x or z;
// a non-finite loss.
#pragma once
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

#include <thrust/copy.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/noise/schedule.hpp>
#include <hosm/objectives/detail/checks.hpp>

namespace hosm::objectives {

namespace detail {

/// 1 for a level index outside [0, L).
struct level_out_of_range {
    const index_t* level;
    index_t L;
    HOSM_HOST_DEVICE index_t operator()(index_t j) const {
        const index_t i = level[j];
        return (i < 0 || i >= L) ? index_t(1) : index_t(0);
    }
};

template <class T>
struct multiscale_fn {
    batch_view<const T> s1, z;
    const index_t* level;
    const T* sigmas;
    batch_view<T> g1;
    T scale;
    bool grad;
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const T sigma = sigmas[level[j]];
        const T *s = s1.col(j), *zj = z.col(j);
        T l = T(0);
        for (index_t i = 0; i < s1.dim; ++i) {
            const T r = sigma * s[i] + zj[i];
            l += r * r;
            if (grad) g1.col(j)[i] = scale * sigma * r;
        }
        return l / T(2);
    }
};

template <class T>
struct multiscale_perturb_fn {
    batch_view<const T> x, z;
    const index_t* level;
    const T* sigmas;
    batch_view<T> out;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T sigma = sigmas[level[j]];
        const T *xj = x.col(j), *zj = z.col(j);
        T* o = out.col(j);
        for (index_t i = 0; i < x.dim; ++i) o[i] = xj[i] + sigma * zj[i];
    }
};

}  // namespace detail

/// Multi-scale DSM (NCSN, lambda(sigma) = sigma^2) over a table of noise levels
/// kept in B's memory.
template <class T, concepts::Backend B = backend::cpp>
class multiscale {
public:
    using value_type = T;
    using backend_type = B;

    explicit multiscale(const noise::schedule<T>& s) {
        std::vector<T> v(static_cast<std::size_t>(s.size()));
        for (index_t i = 0; i < s.size(); ++i) v[static_cast<std::size_t>(i)] = s[i];
        init(v);
    }
    explicit multiscale(const std::vector<T>& sigmas) { init(sigmas); }

    index_t levels() const { return static_cast<index_t>(host_.size()); }
    T sigma(index_t i) const {
        if (i < 0 || i >= levels())
            hosm::detail::fail("objectives::multiscale::sigma", "level index ", i,
                               " is outside [0, ", levels(), ")");
        return host_[static_cast<std::size_t>(i)];
    }
    /// The levels in B's memory (sigma_i at index i).
    const T* sigmas_data() const { return thrust::raw_pointer_cast(dev_.data()); }

    /// x_tilde_j = x_j + sigma_{level_j} z_j.
    void perturb(std::type_identity_t<batch_view<const T>> x,
                 std::type_identity_t<batch_view<const T>> z, batch_view<const index_t> level,
                 std::type_identity_t<batch_view<T>> x_tilde) const {
        constexpr const char* where = "objectives::multiscale::perturb";
        const index_t D = x.dim, N = x.count;
        hosm::detail::check_at_least(where, "x.dim", D, 1);
        detail::check_view<T>(where, "z", z, D, N);
        detail::check_view<T>(where, "x_tilde", x_tilde, D, N);
        detail::check_disjoint<T>(where, {{"z", z}}, {{"x_tilde", x_tilde}});  // x_tilde may be x
        check_levels(where, level, N);
        detail::check_finite<B>(where, "x", x);
        detail::check_finite<B>(where, "z", z);
        backend::for_each_index<B>(
            N, detail::multiscale_perturb_fn<T>{x, z, level.data, sigmas_data(), x_tilde});
    }

    /// Checks level (1 x N, every index in [0, L)).
    void check_levels(const char* where, batch_view<const index_t> level, index_t N) const {
        detail::check_view<index_t>(where, "level", level, 1, N);
        const index_t bad = backend::transform_reduce_index<B>(
            N, detail::level_out_of_range{level.data, levels()}, index_t(0));
        if (bad == 0) return;
        if constexpr (B::host_memory)
            for (index_t j = 0; j < N; ++j)
                if (level.data[j] < 0 || level.data[j] >= levels())
                    hosm::detail::fail(where, "argument 'level' has entry ", level.data[j],
                                       " at sample ", j, " outside [0, ", levels(), ")");
        hosm::detail::fail(where, "argument 'level' has ", bad, " entries outside [0, ", levels(),
                           ")");
    }

private:
    void init(const std::vector<T>& v) {
        constexpr const char* where = "objectives::multiscale";
        hosm::detail::check_at_least(where, "number of levels", static_cast<index_t>(v.size()), 1);
        for (std::size_t i = 0; i < v.size(); ++i)
            if (!(v[i] > T(0)) || !std::isfinite(static_cast<double>(v[i])))
                hosm::detail::fail(where, "argument 'sigma[", i, "]' must be finite and > 0, got ",
                                   v[i]);
        host_ = v;
        dev_.assign(v.begin(), v.end());
    }
    std::vector<T> host_;
    typename B::template vector<T> dev_;
};

namespace detail {
template <class T, concepts::Backend B>
T run_multiscale(const char* where, const multiscale<T, B>& obj, batch_view<const T> s1,
                 batch_view<const T> z, batch_view<const index_t> level, batch_view<T> g1,
                 bool grad) {
    const index_t D = s1.dim, N = s1.count;
    check_sizes(where, D, N);
    check_view<T>(where, "s1", s1, D, N);
    check_view<T>(where, "z", z, D, N);
    if (grad) {
        check_view<T>(where, "g1", g1, D, N);
        check_disjoint<T>(where, {{"s1", s1}, {"z", z}}, {{"g1", g1}});
    }
    obj.check_levels(where, level, N);
    check_finite<B>(where, "z", z);
    const T loss = mean_of_samples<B, T>(N, multiscale_fn<T>{s1, z, level.data, obj.sigmas_data(),
                                                             g1, T(1) / static_cast<T>(N), grad});
    return finish(where, loss, [&] { check_finite<B>(where, "s1", s1); });
}
}  // namespace detail

/// L = (1/N) sum_j (1/2) ||sigma_j s1_j + z_j||^2, sigma_j = sigma_{level_j}.
template <concepts::Backend B, class T>
T loss(const multiscale<T, B>& obj, std::type_identity_t<batch_view<const T>> s1,
       std::type_identity_t<batch_view<const T>> z, batch_view<const index_t> level) {
    return detail::run_multiscale<T, B>("objectives::loss(multiscale)", obj, s1, z, level, {},
                                        false);
}

/// L as in loss(); g1_j = dL/ds1_j = sigma_j (sigma_j s1_j + z_j) / N.
template <concepts::Backend B, class T>
T loss_and_gradient(const multiscale<T, B>& obj, std::type_identity_t<batch_view<const T>> s1,
                    std::type_identity_t<batch_view<const T>> z, batch_view<const index_t> level,
                    std::type_identity_t<batch_view<T>> g1) {
    return detail::run_multiscale<T, B>("objectives::loss_and_gradient(multiscale)", obj, s1, z,
                                        level, g1, true);
}

}  // namespace hosm::objectives
