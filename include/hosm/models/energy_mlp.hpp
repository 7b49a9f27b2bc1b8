// hosm/models/energy_mlp.hpp — an energy-based model: a scalar MLP energy E_theta(x).
//
//   models::energy_mlp<double> m(/*dim*/ 2, /*hidden*/ {64, 64}, activation::softplus,
//                                random::stream{7, 0});
//   m.energy(x, e);                      // e_j = E(x_j), 1 x N
//   m.score(x, s);                       // s_j = -grad_x E(x_j) = grad log p(x_j), D x N
//   m.forward(X, e); m.backward(c);      // gradients() += sum_j c_j dE(X_j)/dtheta
//   m.directional(x, w, e0, e1, e2);     // E, w^T grad E, w^T grad^2 E w, exact
//
// Model (seed 001 "energy-based models", seed 002 Sec. 1, seed 004 "energy models"):
//
//   p_theta(x) = exp(-E_theta(x)) / Z_theta,   log p_theta(x) = -E_theta(x) + const,
//   s1(x) = grad_x log p = -grad_x E,          s2(x) = grad_x^2 log p = -grad_x^2 E,
//
// with E_theta a models::mlp of sizes {D, w_1, ..., w_k, 1} (activation after every
// layer but the last; k = 0 hidden layers gives a linear energy). The partition
// function Z_theta is never needed: scores drop it, and the finite-difference
// objectives only use differences of energies (seed 002 Sec. 4).
//
// Parameters: the mlp's ONE flat vector (network().layers() gives the layout:
// W_l out x in column-major, then b_l, layer by layer); gradients() has the same
// layout and every backward pass ADDS into it (zero_gradients() between steps).
//
// Passes (x: D x N batch, e*, c*: 1 x N, all views in B's memory). Cost unit
// F = 2 N sum_l n_l n_{l+1} flops (one forward pass of the batch):
//
//   energy(x, e) const          e = E(x). Cost F.
//   log_density(x, out) const   out = -E(x) (log p up to the constant -log Z). Cost F.
//   score(x, out) const         out = -grad_x E(x) by back-propagation to the input:
//                               forward, then the reverse sweep with dL/dE = -1 that
//                               forms only the input adjoints da_l = W_l^T dz_l (no
//                               weight gradients). Cost 2 F, exact up to rounding.
//   hvp(x, w, out) const        out_j = grad_x^2 E(x_j) w_j (Hessian-vector product,
//                               reverse over forward: the gradient in x of
//                               w^T grad E, below). Cost ~4 F. The Jacobian of the
//                               score along w is -out.
//   hessian(x, H) const         H_j = s2(x_j) = -grad_x^2 E(x_j): hessian::full (D
//                               Hessian-vector products along e_1..e_D; cost ~4 D F)
//                               or hessian::diagonal (D second directional
//                               derivatives; cost ~3 D F). Exact.
//   directional(x, w, e0, e1, e2 = {}) const
//                               the Taylor coefficients of t -> E(x_j + t w_j):
//                                 e0_j = E(x_j),  e1_j = w_j^T grad E(x_j),
//                                 e2_j = w_j^T grad^2 E(x_j) w_j            (seed 002 Eq. 4)
//                               by forward-mode (Taylor-mode) propagation of second
//                               order: per layer z, z' = W a', z'' = W a'',
//                                 a = f(z), a' = f'(z) z', a'' = f''(z) z'^2 + f'(z) z''
//                               with a'_{-1} = w, a''_{-1} = 0. e0 may be a null view
//                               (not written); e2 null: first order only. Cost
//                               (1 + order) F. Exact (no finite differences).
//
//   forward(x, e)               e = E(x); caches the batch for backward (the mlp's
//                               own pass and workspace).
//   backward(c)                 gradients() += sum_j c_j dE(x_j)/dtheta for the last
//                               forward's batch. Any loss that is a weighted sum of
//                               energies at several points (the FD objectives of seed
//                               002: E at x, x + v, x - v) is one forward on the
//                               points stacked as columns and one backward with the
//                               weights. Cost F + 2 F.
//   directional_forward(x, w, e0, e1, e2 = {})
//                               as directional(), and caches the Taylor pass.
//   directional_backward(c0, c1, c2 = {})
//                               gradients() += sum_j [c0_j dE/dtheta + c1_j de1_j/dtheta
//                               + c2_j de2_j/dtheta] (reverse mode over the Taylor pass;
//                               null views count as 0; c2 only after a second-order
//                               forward). The adjoint of one hidden layer, per unit,
//                               with adjoints (A0, A1, A2) of (a, a', a''):
//                                 Z2 = A2 f',   Z1 = A1 f' + 2 A2 f'' z',
//                                 Z0 = A0 f' + A1 f'' z' + A2 (f''' z'^2 + f'' z''),
//                               then dW += [Z0 Z1 Z2] [a_{-} a'_{-} a''_{-}]^T,
//                               db += Z0 1, [A0 A1 A2]_{-} = W^T [Z0 Z1 Z2].
//                               This is what the exact (gradient-based) SM, SSM and
//                               SSM-VR objectives need: e.g. SSM's per-sample loss
//                               -e2 + e1^2 / 2 has gradient cotangents (0, e1, -1).
//                               Cost ~2 (1 + order) F after the forward.
//
// All layers of a pass are batched: the columns [primal | first | second order]
// of a layer are one (n_l x (1 + order) N) matrix, so each layer is one GEMM.
// f''' (the activation's third derivative, needed by the reverse of the second-order
// pass) is given below for every activation: identity 0; softplus s(1-s)(1-2s);
// elu 0 (x > 0), e^x (x <= 0); silu s(1-s)[(1-2s)(3 + x(1-2s)) - 2x s(1-s)];
// tanh (1 - t^2)(6 t^2 - 2). ELU is only C^1: its second-order results are those
// of the one-sided derivatives.
//
// const evaluation: energy, log_density, score, hvp, hessian and directional are
// const (so the model satisfies concepts::ScoreSource, DensitySource and
// HessianSource for hessian::full and hessian::diagonal) and use a private
// mutable workspace: they do not disturb the caches of forward and
// directional_forward, but one object must not be evaluated from two threads at
// once (copy the model per thread).
//
// Errors (hosm::error naming the function and argument): dim or a hidden width
// < 1; x, w, e*, c*, out of the wrong dimension or count; non-finite x, w or
// cotangents; backward passes without their forward, or c2 after a first-order
// forward.
#pragma once
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include <thrust/copy.h>
#include <thrust/fill.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/backend/gemm.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/models/activation.hpp>
#include <hosm/models/init_scheme.hpp>
#include <hosm/models/mlp.hpp>
#include <hosm/models/mlp_layers.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::models {

namespace detail {

// ---- third derivatives of the activations (the reverse of Taylor mode) ----

template <class T>
HOSM_HOST_DEVICE inline T third_derivative(activations::identity, T) { return T(0); }

template <class T>
HOSM_HOST_DEVICE inline T third_derivative(activations::softplus, T x) {
    // s (1 - s) (1 - 2 s) = e (+-(e - 1)) / (1 + e)^3 with e = exp(-|x|).
    const T e = std::exp(-std::fabs(x));
    const T d = T(1) + e;
    return e * (x >= T(0) ? e - T(1) : T(1) - e) / (d * d * d);
}

template <class T>
HOSM_HOST_DEVICE inline T third_derivative(activations::elu, T x) {
    return x > T(0) ? T(0) : std::exp(x);
}

template <class T>
HOSM_HOST_DEVICE inline T third_derivative(activations::silu, T x) {
    const T e = std::exp(-std::fabs(x));
    const T s = x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
    const T p = s * (T(1) - s), q = T(1) - T(2) * s;
    return p * (q * (T(3) + x * q) - T(2) * x * p);
}

template <class T>
HOSM_HOST_DEVICE inline T third_derivative(activations::tanh, T x) {
    const T t = std::tanh(x);
    return (T(1) - t * t) * (T(6) * t * t - T(2));
}

// ---- per-sample functors of the Taylor-mode passes ----------------------------
// A layer's stacked matrix has (1 + order) N columns: column j is sample j's
// primal value, N + j its first-order and 2N + j its second-order coefficient.

/// Columns j, N + j (, 2N + j) of the input stack: x_j, w_j (, 0).
template <class T>
struct jet_input_fn {
    const T* x;
    const T* w;
    T* xs;
    index_t D, N;
    int order;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        for (index_t i = 0; i < D; ++i) xs[j * D + i] = x[j * D + i];
        if (order >= 1)
            for (index_t i = 0; i < D; ++i) xs[(N + j) * D + i] = w[j * D + i];
        if (order >= 2)
            for (index_t i = 0; i < D; ++i) xs[(2 * N + j) * D + i] = T(0);
    }
};

/// Bias and activation of one hidden layer in Taylor mode (z is GEMM'd already).
template <class T, class A>
struct jet_activation_fn {
    T* z;
    T* a;
    const T* b;
    index_t rows, N;
    int order;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const index_t st = N * rows;
        T* zj = z + j * rows;
        T* aj = a + j * rows;
        for (index_t i = 0; i < rows; ++i) {
            const T v = zj[i] + b[i];
            zj[i] = v;
            aj[i] = A::value(v);
            if (order >= 1) {
                const T d1 = A::derivative(v);
                const T t1 = zj[st + i];
                aj[st + i] = d1 * t1;
                if (order >= 2) aj[2 * st + i] = A::second_derivative(v) * t1 * t1 + d1 * zj[2 * st + i];
            }
        }
    }
};

/// Adjoint of one hidden layer's activation in Taylor mode, in place: d holds
/// the adjoints (A0, A1, A2) of (a, a', a'') on entry, those of (z, z', z'') on exit.
template <class T, class A>
struct jet_adjoint_fn {
    T* d;
    const T* z;
    index_t rows, N;
    int order;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const index_t st = N * rows;
        T* dj = d + j * rows;
        const T* zj = z + j * rows;
        for (index_t i = 0; i < rows; ++i) {
            const T v = zj[i];
            const T f1 = A::derivative(v);
            if (order == 0) {
                dj[i] *= f1;
            } else if (order == 1) {
                const T f2 = A::second_derivative(v), t1 = zj[st + i];
                const T a0 = dj[i], a1 = dj[st + i];
                dj[i] = a0 * f1 + a1 * f2 * t1;
                dj[st + i] = a1 * f1;
            } else {
                const T f2 = A::second_derivative(v), f3 = third_derivative(A{}, v);
                const T t1 = zj[st + i], t2 = zj[2 * st + i];
                const T a0 = dj[i], a1 = dj[st + i], a2 = dj[2 * st + i];
                dj[i] = a0 * f1 + a1 * f2 * t1 + a2 * (f3 * t1 * t1 + f2 * t2);
                dj[st + i] = a1 * f1 + T(2) * a2 * f2 * t1;
                dj[2 * st + i] = a2 * f1;
            }
        }
    }
};

/// y[0..n) += b (the scalar output's bias on the primal columns).
template <class T>
struct energy_bias_fn {
    T* y;
    const T* b;
    HOSM_HOST_DEVICE void operator()(index_t j) const { y[j] += b[0]; }
};

/// out = -in (D x N).
template <class T>
struct energy_negate_fn {
    T* p;
    HOSM_HOST_DEVICE void operator()(index_t i) const { p[i] = -p[i]; }
};

/// Column q = j D + k of the repeated batch: x_j, and e_k as the direction.
template <class T>
struct energy_coordinates_fn {
    const T* x;
    T* xr;
    T* w;
    index_t D;
    HOSM_HOST_DEVICE void operator()(index_t q) const {
        const index_t j = q / D, k = q % D;
        for (index_t i = 0; i < D; ++i) {
            xr[q * D + i] = x[j * D + i];
            w[q * D + i] = i == k ? T(1) : T(0);
        }
    }
};

/// H_j(:, k) = -hv[:, j D + k] (s2 = -Hessian of E, column k from the HVP along e_k).
template <class T>
struct energy_hessian_fn {
    const T* hv;
    T* H;
    index_t D;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        for (index_t k = 0; k < D; ++k)
            for (index_t i = 0; i < D; ++i) H[j * D * D + k * D + i] = -hv[(j * D + k) * D + i];
    }
};

/// d_j(k) = -e2[j D + k].
template <class T>
struct energy_diagonal_fn {
    const T* e2;
    T* d;
    index_t D;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        for (index_t k = 0; k < D; ++k) d[j * D + k] = -e2[j * D + k];
    }
};

}  // namespace detail

template <class T, concepts::Backend B = backend::cpp>
class energy_mlp {
public:
    using value_type = T;
    using backend_type = B;
    using vector_type = typename B::template vector<T>;
    using network_type = mlp<T, B>;

    /// Workspace of a Taylor-mode pass (caches and scratch; grows, never shrinks).
    class jet_workspace {
    public:
        index_t count() const { return count_; }
        int order() const { return order_; }

    private:
        friend class energy_mlp;
        vector_type xs_, z_, a_, e_, c_, d0_, d1_, ones_;
        index_t count_ = -1;
        int order_ = 0;
    };

    /// E: R^dim -> R, an MLP of sizes {dim, hidden..., 1}.
    energy_mlp(index_t dim, const std::vector<index_t>& hidden, activation act = activation::softplus,
               const random::stream& s = {}, init_scheme scheme = init_scheme::pytorch)
        : net_(sizes_of(dim, hidden), act, s, scheme) {
        const auto& L = net_.layers();
        index_t off = 0;
        for (index_t l = 0; l + 1 < L.depth(); ++l) {
            hidden_offsets_.push_back(off);
            off += L.out(l);
            max_width_ = std::max(max_width_, L.out(l));
        }
        hidden_total_ = off;
        max_width_ = std::max(max_width_, dim);
    }

    // ------------------------------------------------------------- description

    index_t dim() const { return net_.input_dim(); }
    index_t parameter_count() const { return net_.parameter_count(); }
    activation act() const { return net_.act(); }
    const network_type& network() const { return net_; }
    network_type& network() { return net_; }

    vector_type& parameters() { return net_.parameters(); }
    const vector_type& parameters() const { return net_.parameters(); }
    vector_type& gradients() { return net_.gradients(); }
    const vector_type& gradients() const { return net_.gradients(); }
    void zero_gradients() { net_.zero_gradients(); }
    void initialize(const random::stream& s, init_scheme scheme = init_scheme::pytorch) {
        net_.initialize(s, scheme);
    }

    // ------------------------------------------------------- const evaluation

    void energy(batch_view<const T> x, batch_view<T> e) const {
        constexpr const char* where = "models::energy_mlp::energy";
        check_scalar_out(where, "e", e, x.count);
        jet_forward(where, x, nullptr, 0, eval_ws_);
        copy_block(eval_ws_, 0, e.data);
    }

    void log_density(batch_view<const T> x, batch_view<T> out) const {
        energy(x, out);
        backend::for_each_index<B>(out.count, detail::energy_negate_fn<T>{out.data});
    }

    void score(batch_view<const T> x, batch_view<T> out) const {
        constexpr const char* where = "models::energy_mlp::score";
        check_batch(where, "out", out, dim(), x.count);
        jet_forward(where, x, nullptr, 0, eval_ws_);
        fill_cotangent(eval_ws_, T(-1));
        jet_reverse(eval_ws_, nullptr, out.data);
    }

    void hvp(batch_view<const T> x, batch_view<const T> w, batch_view<T> out) const {
        constexpr const char* where = "models::energy_mlp::hvp";
        check_batch(where, "out", out, dim(), x.count);
        jet_forward(where, x, &w, 1, eval_ws_);
        fill_cotangent_block(eval_ws_, 1);
        jet_reverse(eval_ws_, nullptr, out.data);
    }

    void hessian(batch_view<const T> x, hessian::batch<hessian::full, T, B>& H) const {
        constexpr const char* where = "models::energy_mlp::hessian";
        check_x_dims(where, x);
        hosm::detail::check_size(where, "H.dim", H.dim(), dim());
        hosm::detail::check_size(where, "H.count", H.count(), x.count);
        const index_t D = dim(), N = x.count;
        if (N == 0) return;
        repeat_with_coordinates(x);
        const index_t M = D * N;
        detail::grow(hv_, D * M);
        const batch_view<const T> xr{raw(xrep_), D, M}, wr{raw(wrep_), D, M};
        hvp(xr, wr, batch_view<T>{raw(hv_), D, M});
        backend::for_each_index<B>(N, detail::energy_hessian_fn<T>{raw(hv_), H.data(), D});
    }

    void hessian(batch_view<const T> x, hessian::batch<hessian::diagonal, T, B>& H) const {
        constexpr const char* where = "models::energy_mlp::hessian";
        check_x_dims(where, x);
        hosm::detail::check_size(where, "H.dim", H.dim(), dim());
        hosm::detail::check_size(where, "H.count", H.count(), x.count);
        const index_t D = dim(), N = x.count;
        if (N == 0) return;
        repeat_with_coordinates(x);
        const index_t M = D * N;
        detail::grow(hv_, M);
        const batch_view<const T> xr{raw(xrep_), D, M}, wr{raw(wrep_), D, M};
        jet_forward(where, xr, &wr, 2, eval_ws_);
        copy_block(eval_ws_, 2, raw(hv_));
        backend::for_each_index<B>(N, detail::energy_diagonal_fn<T>{raw(hv_), H.data(), D});
    }

    void directional(batch_view<const T> x, batch_view<const T> w, batch_view<T> e0,
                     batch_view<T> e1, batch_view<T> e2 = {}) const {
        constexpr const char* where = "models::energy_mlp::directional";
        const int order = check_directional_outputs(where, x.count, e0, e1, e2);
        jet_forward(where, x, &w, order, eval_ws_);
        if (e0.data != nullptr) copy_block(eval_ws_, 0, e0.data);
        copy_block(eval_ws_, 1, e1.data);
        if (order == 2) copy_block(eval_ws_, 2, e2.data);
    }

    // ------------------------------------------------------------ training passes

    void forward(batch_view<const T> x, batch_view<T> e) {
        check_scalar_out("models::energy_mlp::forward", "e", e, x.count);
        net_.forward(x, e);
    }

    void backward(batch_view<const T> c) { net_.backward(c); }

    void directional_forward(batch_view<const T> x, batch_view<const T> w, batch_view<T> e0,
                             batch_view<T> e1, batch_view<T> e2 = {}) {
        constexpr const char* where = "models::energy_mlp::directional_forward";
        const int order = check_directional_outputs(where, x.count, e0, e1, e2);
        train_ws_.count_ = -1;
        jet_forward(where, x, &w, order, train_ws_);
        if (e0.data != nullptr) copy_block(train_ws_, 0, e0.data);
        copy_block(train_ws_, 1, e1.data);
        if (order == 2) copy_block(train_ws_, 2, e2.data);
    }

    void directional_backward(batch_view<const T> c0, batch_view<const T> c1,
                              batch_view<const T> c2 = {}) {
        constexpr const char* where = "models::energy_mlp::directional_backward";
        jet_workspace& ws = train_ws_;
        if (ws.count_ < 0)
            hosm::detail::fail(where, "no directional pass is cached; call directional_forward first");
        const index_t N = ws.count_;
        if (c2.data != nullptr && ws.order_ < 2)
            hosm::detail::fail(where, "argument 'c2' given after a first-order directional_forward "
                                      "(no second-order coefficients were computed)");
        const batch_view<const T>* cs[3] = {&c0, &c1, &c2};
        const char* names[3] = {"c0", "c1", "c2"};
        const index_t M = (1 + ws.order_) * N;
        detail::grow(ws.c_, M);
        for (int k = 0; k <= ws.order_; ++k) {
            const batch_view<const T>& c = *cs[k];
            T* dst = raw(ws.c_) + k * N;
            if (c.data == nullptr) {
                if (N > 0) thrust::fill(B::policy(), dst, dst + N, T(0));
                continue;
            }
            check_scalar_in(where, names[k], c, N);
            detail::check_finite_data<B>(where, names[k], c.data, c.size());
            if (N > 0) thrust::copy(B::policy(), c.data, c.data + N, dst);
        }
        jet_reverse(ws, raw(net_.gradients()), nullptr);
    }

private:
    static std::vector<index_t> sizes_of(index_t dim, const std::vector<index_t>& hidden) {
        constexpr const char* where = "models::energy_mlp";
        hosm::detail::check_at_least(where, "dim", dim, 1);
        for (std::size_t l = 0; l < hidden.size(); ++l)
            if (hidden[l] < 1)
                hosm::detail::fail(where, "argument 'hidden' has width ", hidden[l], " at position ", l,
                                   "; every hidden width must be >= 1");
        std::vector<index_t> s{dim};
        s.insert(s.end(), hidden.begin(), hidden.end());
        s.push_back(1);
        return s;
    }

    static T* raw(vector_type& v) { return thrust::raw_pointer_cast(v.data()); }
    const T* params() const { return thrust::raw_pointer_cast(net_.parameters().data()); }

    template <class U>
    static void check_batch(const char* where, const char* name, batch_view<U> v, index_t dim,
                            index_t count) {
        if (v.dim != dim || v.count != count)
            hosm::detail::fail(where, "dimension mismatch: argument '", name, "' is ", v.dim, " x ",
                               v.count, ", expected ", dim, " x ", count);
        if (v.data == nullptr && dim * count > 0)
            hosm::detail::fail(where, "argument '", name, "' is a null view");
    }
    static void check_scalar_out(const char* where, const char* name, batch_view<T> v, index_t N) {
        check_batch(where, name, v, 1, N);
    }
    static void check_scalar_in(const char* where, const char* name, batch_view<const T> v, index_t N) {
        check_batch(where, name, v, 1, N);
    }
    void check_x_dims(const char* where, batch_view<const T> x) const {
        hosm::detail::check_size(where, "x.dim", x.dim, dim());
        hosm::detail::check_at_least(where, "x.count", x.count, 0);
    }

    /// 1 or 2 (e2 given); checks the shapes of the outputs.
    static int check_directional_outputs(const char* where, index_t N, batch_view<T> e0,
                                         batch_view<T> e1, batch_view<T> e2) {
        if (e0.data != nullptr) check_scalar_out(where, "e0", e0, N);
        check_scalar_out(where, "e1", e1, N);
        if (e2.data == nullptr) return 1;
        check_scalar_out(where, "e2", e2, N);
        return 2;
    }

    /// out[0..N) = block k of the cached scalar outputs.
    static void copy_block(jet_workspace& ws, int k, T* out) {
        const index_t N = ws.count_;
        if (N <= 0) return;
        const T* e = raw(ws.e_) + k * N;
        thrust::copy(B::policy(), e, e + N, out);
    }

    /// Cotangent stack = value on the primal block (order-0 reverse).
    static void fill_cotangent(jet_workspace& ws, T value) {
        const index_t M = (1 + ws.order_) * ws.count_;
        detail::grow(ws.c_, M);
        if (M > 0) thrust::fill(B::policy(), ws.c_.begin(), ws.c_.begin() + M, T(0));
        if (ws.count_ > 0) thrust::fill(B::policy(), ws.c_.begin(), ws.c_.begin() + ws.count_, value);
    }
    /// Cotangent stack = 1 on block k, 0 elsewhere.
    static void fill_cotangent_block(jet_workspace& ws, int k) {
        const index_t N = ws.count_, M = (1 + ws.order_) * N;
        detail::grow(ws.c_, M);
        if (M > 0) thrust::fill(B::policy(), ws.c_.begin(), ws.c_.begin() + M, T(0));
        if (N > 0) thrust::fill(B::policy(), ws.c_.begin() + k * N, ws.c_.begin() + (k + 1) * N, T(1));
    }

    /// The batch x repeated D times (column j D + k = x_j) with directions e_k.
    void repeat_with_coordinates(batch_view<const T> x) const {
        const index_t D = dim(), M = D * x.count;
        detail::grow(xrep_, D * M);
        detail::grow(wrep_, D * M);
        backend::for_each_index<B>(M, detail::energy_coordinates_fn<T>{x.data, raw(xrep_), raw(wrep_), D});
    }

    /// Taylor-mode forward of the given order (0: plain forward; w ignored).
    void jet_forward(const char* where, batch_view<const T> x, const batch_view<const T>* w, int order,
                     jet_workspace& ws) const {
        using backend::transpose;
        const auto& lay = net_.layers();
        const index_t D = dim(), N = x.count;
        check_x_dims(where, x);
        detail::check_finite_data<B>(where, "x", x.data, x.size());
        if (order >= 1) {
            check_batch(where, "w", *w, D, N);
            detail::check_finite_data<B>(where, "w", w->data, w->size());
        }
        ws.count_ = -1;
        const index_t M = (1 + order) * N;
        detail::grow(ws.xs_, D * M);
        detail::grow(ws.z_, hidden_total_ * M);
        detail::grow(ws.a_, hidden_total_ * M);
        detail::grow(ws.e_, M);
        detail::grow(ws.d0_, max_width_ * M);
        detail::grow(ws.d1_, max_width_ * M);
        if (N > 0) {
            backend::for_each_index<B>(
                N, detail::jet_input_fn<T>{x.data, order >= 1 ? w->data : nullptr, raw(ws.xs_), D, N, order});
            const T* p = params();
            const T* prev = raw(ws.xs_);
            const index_t L = lay.depth();
            for (index_t l = 0; l + 1 < L; ++l) {
                T* z = raw(ws.z_) + hidden_offsets_[static_cast<std::size_t>(l)] * M;
                T* a = raw(ws.a_) + hidden_offsets_[static_cast<std::size_t>(l)] * M;
                backend::gemm<B>(transpose::no, transpose::no, lay.out(l), M, lay.in(l), T(1),
                                 p + lay.weight_offset(l), lay.out(l), prev, lay.in(l), T(0), z, lay.out(l));
                visit_activation(act(), [&](auto tag) {
                    backend::for_each_index<B>(N, detail::jet_activation_fn<T, decltype(tag)>{
                                                      z, a, p + lay.bias_offset(l), lay.out(l), N, order});
                });
                prev = a;
            }
            const index_t l = L - 1;
            backend::gemm<B>(transpose::no, transpose::no, index_t(1), M, lay.in(l), T(1),
                             p + lay.weight_offset(l), index_t(1), prev, lay.in(l), T(0), raw(ws.e_), index_t(1));
            backend::for_each_index<B>(N, detail::energy_bias_fn<T>{raw(ws.e_), p + lay.bias_offset(l)});
        }
        ws.order_ = order;
        ws.count_ = N;
    }

    /// Reverse sweep over the cached Taylor pass with the cotangent stack ws.c_
    /// (1 x M): adds dtheta into grads (if not null) and writes the primal block
    /// of the input adjoint, D x N, into dx (if not null).
    void jet_reverse(jet_workspace& ws, T* grads, T* dx) const {
        using backend::transpose;
        const auto& lay = net_.layers();
        const index_t N = ws.count_, order = ws.order_, M = (1 + order) * N, L = lay.depth();
        if (N <= 0) return;
        const T* p = params();
        const T* C = raw(ws.c_);
        auto input_of = [&](index_t l) -> const T* {  // stacked input of layer l
            return l == 0 ? raw(ws.xs_) : raw(ws.a_) + hidden_offsets_[static_cast<std::size_t>(l - 1)] * M;
        };
        T* cur = raw(ws.d0_);
        T* nxt = raw(ws.d1_);
        const T* ones = ones_of(ws, N);
        {
            const index_t l = L - 1, i = lay.in(l);
            if (grads != nullptr) {
                backend::gemm<B>(transpose::no, transpose::yes, index_t(1), i, M, T(1), C, index_t(1),
                                 input_of(l), i, T(1), grads + lay.weight_offset(l), index_t(1));
                backend::gemm<B>(transpose::no, transpose::no, index_t(1), index_t(1), N, T(1), C,
                                 index_t(1), ones, N, T(1), grads + lay.bias_offset(l), index_t(1));
            }
            if (l == 0) {
                if (dx != nullptr)
                    backend::gemm<B>(transpose::yes, transpose::no, i, N, index_t(1), T(1),
                                     p + lay.weight_offset(l), index_t(1), C, index_t(1), T(0), dx, i);
                return;
            }
            backend::gemm<B>(transpose::yes, transpose::no, i, M, index_t(1), T(1), p + lay.weight_offset(l),
                             index_t(1), C, index_t(1), T(0), cur, i);
        }
        for (index_t l = L - 2; l >= 0; --l) {
            const index_t o = lay.out(l), i = lay.in(l);
            const T* z = raw(ws.z_) + hidden_offsets_[static_cast<std::size_t>(l)] * M;
            visit_activation(act(), [&](auto tag) {
                backend::for_each_index<B>(
                    N, detail::jet_adjoint_fn<T, decltype(tag)>{cur, z, o, N, static_cast<int>(order)});
            });
            if (grads != nullptr) {
                backend::gemm<B>(transpose::no, transpose::yes, o, i, M, T(1), cur, o, input_of(l), i, T(1),
                                 grads + lay.weight_offset(l), o);
                backend::gemm<B>(transpose::no, transpose::no, o, index_t(1), N, T(1), cur, o, ones, N, T(1),
                                 grads + lay.bias_offset(l), o);
            }
            if (l > 0) {
                backend::gemm<B>(transpose::yes, transpose::no, i, M, o, T(1), p + lay.weight_offset(l), o, cur,
                                 o, T(0), nxt, i);
                std::swap(cur, nxt);
            } else if (dx != nullptr) {
                backend::gemm<B>(transpose::yes, transpose::no, i, N, o, T(1), p + lay.weight_offset(l), o, cur,
                                 o, T(0), dx, i);
            }
        }
    }

    static const T* ones_of(jet_workspace& ws, index_t N) {
        if (static_cast<index_t>(ws.ones_.size()) < N) {
            ws.ones_.resize(static_cast<std::size_t>(N));
            thrust::fill(ws.ones_.begin(), ws.ones_.end(), T(1));
        }
        return raw(ws.ones_);
    }

    network_type net_;
    std::vector<index_t> hidden_offsets_;  // per-unit row offsets of z_l, a_l in the caches
    index_t hidden_total_ = 0, max_width_ = 0;
    jet_workspace train_ws_;
    mutable jet_workspace eval_ws_;
    mutable vector_type xrep_, wrep_, hv_;
};

}  // namespace hosm::models
