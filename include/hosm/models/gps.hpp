// hosm/models/gps.hpp — the GPS parametrization of the score of a (sigma, M)
// M-density around a network nu on R^D (seed 003, Sec. 3, Eq. 5-10).
//
//   models::mlp<float> net({D, 256, 256, D});
//   models::gps<models::mlp<float>&> m(net, noise::multimeasurement<float>{1.0f, 16});
//   m.forward(y, g);                       // g = grad_y log p(y) in R^{M D}, Eq. 8
//   m.forward_nu(y);                       // ybar and nu(ybar) only (for the loss)
//   objectives::loss_and_gradient(obj, m.nu(), x, m.ybar(), g_nu);   // gps_denoising.hpp
//   m.backward_nu(g_nu);                   // net.gradients() += dL/dtheta
//
// Maths. Measurements y = (y_1, ..., y_M), y_m = x + sigma eps_m (noise::
// multimeasurement), with mean ybar = M^{-1} sum_m y_m and
// sigma_eff = sigma / sqrt(M). Seed 003 shows (Eq. 4-5) that the M-density's
// energy f = -log p is, for ANY p_X,
//
//     f(y) = (mean_m ||y_m||^2 - ||ybar||^2) / (2 sigma_eff^2) + phi(ybar),
//     phi(ybar) = -log q(ybar) + const,   q = p_X * N(0, sigma_eff^2 I),
//
// so its score g = -grad f is fixed up to one function nu = grad phi on R^D
// (Eq. 6); the GPS parametrization (Definition 1, Eq. 8) puts a network there:
//
//     sigma^2 g_m(y; theta) = (ybar - y_m) - sigma_eff^2 nu_theta(ybar),
//  i.e.        g_m(y; theta) = (ybar - y_m) / sigma^2 - nu_theta(ybar) / M,
//
// and the Bayes estimator of x (Eq. 10, from Eq. 2 + Eq. 8)
//
//     xhat_theta(y) = ybar - sigma_eff^2 nu_theta(ybar),
//
// which depends on y only through ybar. g is permutation equivariant in the
// measurements (Proposition 1). At the optimum nu = -grad log q, so g is the
// exact M-density score of targets::m_density when the network is the exact
// score of q = target.smoothed(sigma_eff) (with the sign of gps_nu::score).
//
// Sign convention of the network (models::gps_nu, see detail/gps_nu.hpp):
// potential_gradient (default): the network output IS seed 003's nu;
// score: the network outputs s = -nu (a score model of q at sigma_eff). nu()
// and backward_nu() always speak seed 003's nu, whichever the convention.
//
// Backward. With G = dL/dg ((M D) x N): dL/dnu_j = -(1/M) sum_m G_{m, j}
// (the (ybar - y_m) part has no parameters), handed to the network's backward
// (negated for gps_nu::score). backward_nu(g_nu) takes dL/dnu directly (the
// GPS denoising loss is a function of nu; see objectives/gps_denoising.hpp).
// The network's input gradient is not propagated to y.
//
// The network. Nu is any nu model on R^D -> R^D with value_type and
// backend_type, called as detail/gps_nu.hpp says (forward_s1/backward_s1,
// forward(x, sigma_eff, out)/backward for noise-conditional models, or
// forward(x, out)/backward). gps<Nu> owns a copy of the network;
// gps<Nu&> wraps one without owning it (e.g. to share one network between
// (sigma, M) models of a universality class, Proposition 2). backward uses the
// network's cache of its last forward: do not run the network on other inputs
// between gps's forward and backward.
//
// API (y, g, G: (M D) x N; ybar, nu, g_nu, xhat: D x N; all in B's memory):
//   gps<Nu> m(nu_model, noise::multimeasurement<T>{sigma, M}, gps_nu conv = potential_gradient)
//   gps<Nu> m(nu_model, sigma, M, conv)
//   m.dim() (M D), m.base_dim() (D), m.measurements(), m.sigma(), m.sigma_eff(),
//   m.noise(), m.convention(), m.nu_model()
//   m.forward(y, g)          the M-density score, Eq. 8; caches ybar, nu
//   m.forward_nu(y)          ybar and nu(ybar) only; caches them
//   m.denoise(y, xhat)       Eq. 10 (runs forward_nu)
//   m.ybar(), m.nu()         the cached D x N batches (seed 003's nu)
//   m.backward(G)            network gradients += dL/dtheta from G = dL/dg
//   m.backward_nu(g_nu)      network gradients += dL/dtheta from g_nu = dL/dnu
//   m.parameters(), m.gradients(), m.zero_gradients()   the network's (when it has them)
//   host: m.score(Y) -> (M D) x N, m.denoise(Y) -> D x N  (hosm::matrix<T>)
//
// Errors (hosm::error naming the function and argument): sigma <= 0 or
// non-finite, M < 1 (from noise::multimeasurement); a network whose reported
// dimension is not D; an unknown convention; y, g, G, g_nu, xhat of the wrong
// shape; non-finite y, G or g_nu; backward before a forward of the same batch.
#pragma once
#include <cstddef>
#include <type_traits>
#include <utility>

#include <thrust/copy.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/models/detail/gps_kernels.hpp>
#include <hosm/models/detail/gps_nu.hpp>
#include <hosm/noise/detail/batch_checks.hpp>
#include <hosm/noise/multimeasurement.hpp>

namespace hosm::models {

template <class Nu>
class gps {
public:
    using nu_type = std::remove_cvref_t<Nu>;
    using value_type = typename nu_type::value_type;
    using backend_type = typename nu_type::backend_type;
    using T = value_type;
    using B = backend_type;
    using vector_type = typename B::template vector<T>;

    static_assert(concepts::Backend<B>, "hosm::models::gps: Nu::backend_type must be a back end");
    static_assert(detail::gps_nu_model<nu_type, T>,
                  "hosm::models::gps: Nu is not a nu model: needs forward_s1(x, out) and "
                  "backward_s1(g), or forward(x, sigma, out) and backward(g), or forward(x, out) "
                  "and backward(g) (see hosm/models/detail/gps_nu.hpp)");

    gps(Nu nu, const noise::multimeasurement<T>& mm, gps_nu convention = gps_nu::potential_gradient)
        : nu_(static_cast<Nu&&>(nu)), mm_(mm), conv_(convention) {
        (void)name(convention);  // throws for a value outside the enum
        index_t D = -1;
        if constexpr (requires(const nu_type& n) { n.dim(); })
            D = static_cast<index_t>(nu_.dim());
        else if constexpr (requires(const nu_type& n) { n.output_dim(); })
            D = static_cast<index_t>(nu_.output_dim());
        if (D >= 0) detail::gps_nu_check_dim<T>("models::gps", nu_, D);
        D_ = D;
    }
    gps(Nu nu, T sigma, index_t M, gps_nu convention = gps_nu::potential_gradient)
        : gps(static_cast<Nu&&>(nu), noise::multimeasurement<T>(sigma, M), convention) {}

    /// M D, the dimension of the M-density (-1 times M if the network has no dim()).
    index_t dim() const { return mm_.measurements() * base_dim(); }
    /// D (from the network; or from the last forward if the network reports none).
    index_t base_dim() const { return D_; }
    index_t measurements() const { return mm_.measurements(); }
    T sigma() const { return mm_.sigma(); }
    T sigma_eff() const { return mm_.sigma_eff(); }
    const noise::multimeasurement<T>& noise() const { return mm_; }
    gps_nu convention() const { return conv_; }
    nu_type& nu_model() { return nu_; }
    const nu_type& nu_model() const { return nu_; }

    decltype(auto) parameters() requires requires(nu_type& n) { n.parameters(); } { return nu_.parameters(); }
    decltype(auto) parameters() const requires requires(const nu_type& n) { n.parameters(); } {
        return nu_.parameters();
    }
    decltype(auto) gradients() requires requires(nu_type& n) { n.gradients(); } { return nu_.gradients(); }
    decltype(auto) gradients() const requires requires(const nu_type& n) { n.gradients(); } {
        return nu_.gradients();
    }
    void zero_gradients() requires requires(nu_type& n) { n.zero_gradients(); } { nu_.zero_gradients(); }

    /// ybar = mean of the measurements and nu = nu(ybar) (seed 003's sign), cached.
    void forward_nu(batch_view<const T> y) { run_nu("models::gps::forward_nu", y); }

    /// g = the GPS score of the M-density (Eq. 8): g_m = (ybar - y_m) / sigma^2 - nu(ybar) / M.
    void forward(batch_view<const T> y, batch_view<T> g) {
        constexpr const char* where = "models::gps::forward";
        const index_t N = run_nu(where, y);
        noise::detail::check_shape(where, "g", g, dim(), N);
        backend::for_each_index<B>(N, detail::gps_score_fn<T>{y.data, raw(ybar_), raw(nu_out_), g.data, D_,
                                                              measurements(), T(1) / mm_.variance()});
    }

    /// xhat = ybar - sigma_eff^2 nu(ybar) (Eq. 10).
    void denoise(batch_view<const T> y, batch_view<T> xhat) {
        constexpr const char* where = "models::gps::denoise";
        const index_t N = run_nu(where, y);
        noise::detail::check_shape(where, "xhat", xhat, D_, N);
        const T se = sigma_eff();
        backend::for_each_index<B>(D_ * N, detail::gps_denoise_fn<T>{raw(ybar_), raw(nu_out_), xhat.data, se * se});
    }

    /// The cached ybar and nu (seed 003's sign) of the last forward (D x N).
    batch_view<const T> ybar() const { return {craw(ybar_), D_, count_ < 0 ? 0 : count_}; }
    batch_view<const T> nu() const { return {craw(nu_out_), D_, count_ < 0 ? 0 : count_}; }

    /// Network gradients += dL/dtheta with G = dL/dg of the last forward.
    void backward(batch_view<const T> G) {
        constexpr const char* where = "models::gps::backward";
        check_cached(where);
        noise::detail::check_shape(where, "G", G, dim(), count_);
        noise::detail::check_finite_batch<B>(where, "G", G);
        const T s = conv_ == gps_nu::score ? T(1) : T(-1);
        grow(gnu_, D_ * count_);
        backend::for_each_index<B>(count_, detail::gps_sum_measurements_fn<T>{
                                               G.data, raw(gnu_), D_, measurements(),
                                               s / static_cast<T>(measurements())});
        detail::gps_nu_backward<T>(nu_, batch_view<const T>{raw(gnu_), D_, count_});
    }

    /// Network gradients += dL/dtheta with g_nu = dL/dnu (seed 003's nu) of the last forward.
    void backward_nu(batch_view<const T> g_nu) {
        constexpr const char* where = "models::gps::backward_nu";
        check_cached(where);
        noise::detail::check_shape(where, "g_nu", g_nu, D_, count_);
        noise::detail::check_finite_batch<B>(where, "g_nu", g_nu);
        if (conv_ == gps_nu::potential_gradient) {
            detail::gps_nu_backward<T>(nu_, g_nu);
            return;
        }
        grow(gnu_, D_ * count_);
        backend::for_each_index<B>(D_ * count_, detail::gps_scale_fn<T>{g_nu.data, raw(gnu_), T(-1)});
        detail::gps_nu_backward<T>(nu_, batch_view<const T>{raw(gnu_), D_, count_});
    }

    // ---- host conveniences (host back ends) ----
    matrix<T> score(const matrix<T>& y) {
        static_assert(B::host_memory, "hosm: the host conveniences need a host back end");
        matrix<T> g(y.rows(), y.cols());
        forward(view(y), view(g));
        return g;
    }
    matrix<T> denoise(const matrix<T>& y) {
        static_assert(B::host_memory, "hosm: the host conveniences need a host back end");
        if (y.rows() % measurements() != 0)
            hosm::detail::fail("models::gps::denoise", "dimension mismatch: argument 'y' has ", y.rows(),
                               " rows, not a multiple of M = ", measurements());
        matrix<T> xhat(y.rows() / measurements(), y.cols());
        denoise(view(y), view(xhat));
        return xhat;
    }

private:
    static T* raw(vector_type& v) { return thrust::raw_pointer_cast(v.data()); }
    static const T* craw(const vector_type& v) { return thrust::raw_pointer_cast(v.data()); }
    static void grow(vector_type& v, index_t n) {
        if (static_cast<index_t>(v.size()) < n) v.resize(static_cast<std::size_t>(n));
    }
    void check_cached(const char* where) const {
        if (count_ < 0) hosm::detail::fail(where, "no forward pass is cached; call forward or forward_nu first");
    }

    /// Checks y, computes ybar and nu (seed 003's sign); returns N.
    index_t run_nu(const char* where, batch_view<const T> y) {
        const index_t M = measurements();
        if (D_ < 0) {  // a network without dim(): take D from y
            if (y.dim % M != 0 || y.dim == 0)
                hosm::detail::fail(where, "dimension mismatch: argument 'y' has ", y.dim,
                                   " rows, not a positive multiple of M = ", M);
            D_ = y.dim / M;
        }
        noise::detail::check_shape(where, "y", y, M * D_, y.count);
        const index_t N = y.count;
        count_ = -1;
        grow(ybar_, D_ * N);
        grow(nu_out_, D_ * N);
        mm_.template mean<B>(y, batch_view<T>{raw(ybar_), D_, N});  // checks y is finite
        detail::gps_nu_forward<T>(nu_, batch_view<const T>{raw(ybar_), D_, N}, sigma_eff(),
                                  batch_view<T>{raw(nu_out_), D_, N});
        if (conv_ == gps_nu::score)
            backend::for_each_index<B>(D_ * N, detail::gps_scale_fn<T>{raw(nu_out_), raw(nu_out_), T(-1)});
        count_ = N;
        return N;
    }

    Nu nu_;
    noise::multimeasurement<T> mm_;
    gps_nu conv_;
    index_t D_ = -1;
    vector_type ybar_, nu_out_, gnu_;
    index_t count_ = -1;
};

}  // namespace hosm::models
