// hosm/models/sigma_mlp_score.hpp — a noise-conditional MLP score model
// s1(x, sigma) for multi-scale training (NCSN; seed 001 "Noise Conditional Score
// Network", seed 004 "Fine-tuning sigma").
//
//   models::sigma_mlp_score<float> m({.dim = 2, .width = 128}, sigma_conditioning::log_sigma_input_output_scale,
//                                    random::stream{7, 0});
//   m.forward(x_tilde, sigma, s1);        // sigma: 1 x N, one level per sample
//   m.zero_gradients(); m.backward(g1);   // gradients() += dL/dtheta
//
// One network serves every noise level sigma_1 > ... > sigma_L: s1(x, sigma_i)
// approximates grad log q_{sigma_i}(x), trained with the weighted DSM losses
// (1/L) sum_i sigma_i^2 E||s1(x + sigma_i z, sigma_i) + z / sigma_i||^2 (seed
// 001; objectives::multiscale gives the loss and dL/ds1). The network f is a
// models::mlp (activation after every layer but the last, see mlp_layers.hpp)
// and sigma enters in one of three ways (models::sigma_conditioning):
//
//   log_sigma_input               s1(x, sigma) = f([x; log sigma]),   f: R^{D+1} -> R^D
//       sigma as an extra input. log sigma, not sigma, because the levels of a
//       geometric schedule (noise::schedule) are then equally spaced, and the
//       input stays O(1) over decades of sigma.
//   output_scale                  s1(x, sigma) = f(x) / sigma,        f: R^D -> R^D
//       NCSN v2 (Song & Ermon 2020, "Improved techniques for training score-based
//       generative models"): an unconditional network whose output is divided
//       by sigma, since ||grad log q_sigma|| ~ 1 / sigma. Then
//       sigma s1 + z = f(x) + z, so the sigma^2-weighted loss of every level
//       is O(1) in f.
//   log_sigma_input_output_scale  s1(x, sigma) = f([x; log sigma]) / sigma   (default)
//       both: the 1/sigma magnitude is built in and f can still change the
//       shape of the score with sigma (the exact score of N(mu, tau^2 I) is
//       -(x - mu) / (tau^2 + sigma^2), which neither form alone represents
//       for all sigma with a sigma-free f).
//
// Backward. With G = dL/ds1 (D x N) and u = [x; log sigma] (or u = x):
//   dL/df_j = G_j / sigma_j (output_scale) or G_j; dL/dtheta by the MLP's
//   backward; dL/dx_j = rows [0, D) of dL/du_j (the log-sigma row, d/d log sigma,
//   is dropped: sigma is not trained through).
//
// Configuration: models::mlp_score_config (dim, width, depth, activation,
// init; shared_trunk and rank do not apply and are ignored). The network's
// sizes are {D (+1), width x (depth - 1), D}.
//
// API (x, s1, g1, dx: D x N batch views; sigma: 1 x N; all in B's memory):
//   sigma_mlp_score<T, B> m(cfg, conditioning = log_sigma_input_output_scale, s = {})
//   m.dim(), m.input_dim() (D or D + 1), m.conditioning(), m.network() (models::mlp)
//   m.parameter_count(), m.parameters(), m.gradients(), m.zero_gradients()
//     (the network's flat vector, layout of mlp_layers)
//   m.forward(x, sigma, s1)        per-sample levels; caches for backward
//   m.forward(x, T sigma, s1)      one level for the whole batch
//   m.backward(g1, dx = {})        gradients() += dL/dtheta; dx = dL/dx if given
//   host: m.forward(X, sigma) -> s1 (hosm::matrix<T>)
//
// Errors (hosm::error naming the function and argument): dim, width, depth < 1;
// an unknown conditioning or activation; x, sigma, s1, g1, dx of the wrong
// shape; non-finite x or g1; a sigma that is not finite and > 0; backward
// without a forward of the same batch size.
#pragma once
#include <cmath>
#include <cstddef>
#include <vector>

#include <thrust/fill.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/models/detail/sigma_conditioning.hpp>
#include <hosm/models/detail/sigma_kernels.hpp>
#include <hosm/models/mlp.hpp>
#include <hosm/models/mlp_score_config.hpp>
#include <hosm/noise/detail/batch_checks.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::models {

template <class T, concepts::Backend B = backend::cpp>
class sigma_mlp_score {
public:
    using value_type = T;
    using backend_type = B;
    using vector_type = typename B::template vector<T>;
    using network_type = mlp<T, B>;

    explicit sigma_mlp_score(const mlp_score_config& cfg,
                             sigma_conditioning c = sigma_conditioning::log_sigma_input_output_scale,
                             const random::stream& s = {})
        : cond_(c), D_(cfg.dim), net_(sizes(cfg, c), cfg.activation, s, cfg.init) {}

    index_t dim() const { return D_; }
    index_t input_dim() const { return net_.input_dim(); }
    sigma_conditioning conditioning() const { return cond_; }
    network_type& network() { return net_; }
    const network_type& network() const { return net_; }

    index_t parameter_count() const { return net_.parameter_count(); }
    vector_type& parameters() { return net_.parameters(); }
    const vector_type& parameters() const { return net_.parameters(); }
    vector_type& gradients() { return net_.gradients(); }
    const vector_type& gradients() const { return net_.gradients(); }
    void zero_gradients() { net_.zero_gradients(); }

    /// s1_j = s1(x_j, sigma_j); sigma is 1 x N.
    void forward(batch_view<const T> x, batch_view<const T> sigma, batch_view<T> s1) {
        constexpr const char* where = "models::sigma_mlp_score::forward";
        check_x(where, x);
        noise::detail::check_shape(where, "sigma", sigma, 1, x.count);
        check_sigma(where, sigma.data, x.count);
        grow(sigma_, x.count);
        backend::for_each_index<B>(x.count, detail::sigma_copy_fn<T>{sigma.data, raw(sigma_), T(0)});
        run_forward(where, x, s1);
    }

    /// s1_j = s1(x_j, sigma) for every sample.
    void forward(batch_view<const T> x, T sigma, batch_view<T> s1) {
        constexpr const char* where = "models::sigma_mlp_score::forward";
        hosm::detail::check_positive(where, "sigma", sigma);
        check_x(where, x);
        grow(sigma_, x.count);
        backend::for_each_index<B>(x.count, detail::sigma_copy_fn<T>{nullptr, raw(sigma_), sigma});
        run_forward(where, x, s1);
    }

    /// gradients() += dL/dtheta for g1 = dL/ds1 of the last forward; dx = dL/dx if given.
    void backward(batch_view<const T> g1, batch_view<T> dx = {}) {
        constexpr const char* where = "models::sigma_mlp_score::backward";
        if (count_ < 0) hosm::detail::fail(where, "no forward pass is cached; call forward first");
        noise::detail::check_shape(where, "g1", g1, D_, count_);
        if (dx.data != nullptr) noise::detail::check_shape(where, "dx", dx, D_, count_);
        noise::detail::check_finite_batch<B>(where, "g1", g1);
        const index_t N = count_;
        batch_view<const T> dy = g1;
        if (scales_output(cond_)) {
            grow(dy_, D_ * N);
            backend::for_each_index<B>(N, detail::sigma_divide_fn<T>{g1.data, raw(sigma_), raw(dy_), D_});
            dy = {raw(dy_), D_, N};
        }
        if (!takes_log_sigma(cond_)) {
            net_.backward(dy, dx);
        } else if (dx.data == nullptr) {
            net_.backward(dy);
        } else {
            grow(du_, (D_ + 1) * N);
            net_.backward(dy, batch_view<T>{raw(du_), D_ + 1, N});
            backend::for_each_index<B>(N, detail::sigma_drop_last_fn<T>{raw(du_), dx.data, D_});
        }
    }

    /// Host convenience: s1 (D x N) at one level sigma.
    matrix<T> forward(const matrix<T>& x, T sigma) {
        static_assert(B::host_memory, "hosm: the host conveniences need a host back end");
        matrix<T> out(D_, x.cols());
        forward(view(x), sigma, view(out));
        return out;
    }

private:
    static std::vector<index_t> sizes(const mlp_score_config& cfg, sigma_conditioning c) {
        constexpr const char* where = "models::sigma_mlp_score";
        hosm::detail::check_at_least(where, "dim", cfg.dim, 1);
        hosm::detail::check_at_least(where, "width", cfg.width, 1);
        hosm::detail::check_at_least(where, "depth", cfg.depth, 1);
        (void)name(c);  // throws for a value outside the enum
        std::vector<index_t> s{cfg.dim + (takes_log_sigma(c) ? 1 : 0)};
        for (index_t l = 1; l < cfg.depth; ++l) s.push_back(cfg.width);
        s.push_back(cfg.dim);
        return s;
    }
    static T* raw(vector_type& v) { return thrust::raw_pointer_cast(v.data()); }
    static void grow(vector_type& v, index_t n) {
        if (static_cast<index_t>(v.size()) < n) v.resize(static_cast<std::size_t>(n));
    }

    void check_x(const char* where, batch_view<const T> x) const {
        if (x.dim != D_)
            hosm::detail::fail(where, "dimension mismatch: argument 'x' has ", x.dim,
                               " rows, expected ", D_);
        noise::detail::check_finite_batch<B>(where, "x", x);
    }
    void check_sigma(const char* where, const T* sigma, index_t N) const {
        const index_t bad = backend::transform_reduce_index<B>(N, detail::sigma_bad_fn<T>{sigma}, index_t(0));
        if (bad == 0) return;
        if constexpr (B::host_memory)
            for (index_t j = 0; j < N; ++j)
                if (!(sigma[j] > T(0)) || !std::isfinite(static_cast<double>(sigma[j])))
                    hosm::detail::fail(where, "argument 'sigma' must be finite and > 0, got ",
                                       sigma[j], " at sample ", j);
        hosm::detail::fail(where, "argument 'sigma' has ", bad, " entries that are not finite and > 0");
    }

    void run_forward(const char* where, batch_view<const T> x, batch_view<T> s1) {
        noise::detail::check_shape(where, "s1", s1, D_, x.count);
        const index_t N = x.count;
        count_ = -1;
        if (takes_log_sigma(cond_)) {
            grow(u_, (D_ + 1) * N);
            backend::for_each_index<B>(N, detail::sigma_concat_fn<T>{x.data, raw(sigma_), raw(u_), D_});
            net_.forward(batch_view<const T>{raw(u_), D_ + 1, N}, s1);
        } else {
            net_.forward(x, s1);
        }
        if (scales_output(cond_))
            backend::for_each_index<B>(N, detail::sigma_divide_fn<T>{s1.data, raw(sigma_), s1.data, D_});
        count_ = N;
    }

    sigma_conditioning cond_;
    index_t D_;
    network_type net_;
    vector_type sigma_, u_, dy_, du_;
    index_t count_ = -1;
};

}  // namespace hosm::models
