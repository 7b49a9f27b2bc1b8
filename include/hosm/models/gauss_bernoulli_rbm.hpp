// hosm/models/gauss_bernoulli_rbm.hpp — the Gauss–Bernoulli restricted
// Boltzmann machine trained by score matching (seed 004, "Gauss-Bernoulli
// Boltzmann machine").
//
//   models::gauss_bernoulli_rbm<double> rbm(/*visible*/ 784, /*hidden*/ 30, random::stream{7, 0});
//   rbm.zero_gradients();
//   double L = rbm.score_matching_loss_and_gradient(v);   // gradients() += dL/dtheta
//   optimiser.step(rbm.parameters(), rbm.gradients());    // any flat-array optimiser
//   rbm.score(v, s1);                                     // grad_v log p(v), closed form
//
// Model (seed 004): D real visible units v, H binary hidden units h in {0,1}^H,
// parameters theta = (W, c, b) with W H x D, and the energy
//
//     E(v, h) = -h^T W v - c^T v - b^T h + 1/2 v^T v,   p(v, h) ∝ exp(-E(v, h))
//
// (unit visible variance, as in the seed). Summing out h (each h_i in {0, 1}
// independently given v) gives the marginal through the free energy F:
//
//     p(v) = exp(-F(v)) / Z,   F(v) = 1/2 ||v||^2 - c^T v - sum_i softplus(a_i),
//     a = W v + b,   softplus(t) = log(1 + e^t).
//
// Scores of the marginal, with rho = sigmoid(a) = E[h | v] and
// rho' = rho (1 - rho) (elementwise):
//
//     s(v)   = grad_v log p(v) = c - v + W^T rho,
//     Lap_v log p(v) = -D + sum_i rho'_i ||W_i||^2            (W_i the i-th row of W).
//
// Score-matching objective (seed 004 Eq. 1, the Hyvärinen score averaged over
// the batch v_1..v_N):
//
//     L(theta) = (1/N) sum_j l(v_j),   l(v) = 1/2 ||c - v + W^T rho||^2 + sum_i rho'_i ||W_i||^2 - D.
//
// The seed prints this as 1/2 ||W^T rho + C + V||^2 + ||diag(rho') W||^2: the
// sign of V there contradicts its own energy (+1/2 V^T V gives -V in the
// score), ||diag(rho') W||_F^2 = sum rho'_i^2 ||W_i||^2 squares rho' where the
// Laplacian has it once, and the constant -D is dropped; hosm implements the
// derivation above (checked against finite differences of log p).
//
// Parameter gradient (derived here; the seed leaves it as an exercise). With
// r = s(v), u = W r, w_i = ||W_i||^2 and rho'' = d rho'/da = rho' (1 - 2 rho):
//
//     delta = dl/da = u o rho' + w o rho''
//     dl/dc = r,      dl/db = delta,
//     dl/dW = rho r^T + delta v^T + 2 diag(rho') W
//
// (rho r^T from W^T rho in r, delta v^T through a = W v + b, 2 diag(rho') W from
// the ||W_i||^2 of the Laplacian term). Batched: a = W V, W^T rho, W r and the
// two outer-product sums are GEMMs over the whole batch (backend::gemm); the
// rest are per-sample / per-row HOSM_HOST_DEVICE functors.
//
// Parameter layout: ONE flat vector parameters() in B's memory, as models::mlp:
// W (H x D, column-major: W(i, k) at i + H k) at weight_offset() = 0, c (D) at
// visible_bias_offset() = H D, b (H) at hidden_bias_offset() = H D + D;
// parameter_count() = H D + D + H. gradients() has the same layout and
// score_matching_loss_and_gradient ADDS into it (zero_gradients() between
// steps), so any optimiser over flat arrays (hosm/optim) trains the RBM.
// Initialisation: W(i, k) = init_std * s.normal<T>(i + H k, 0), c = b = 0.
//
// API (v: D x N batches in B's memory; out as stated):
//   gauss_bernoulli_rbm<T, B> rbm(visible D, hidden H, stream s = {}, T init_std = 0.01)
//   rbm.dim() (= visible_dim() = D), rbm.hidden_dim() (H), rbm.parameter_count()
//   rbm.parameters(), rbm.gradients(), rbm.zero_gradients(), rbm.initialize(s, init_std)
//   rbm.free_energy(v, out 1 x N)          F(v)
//   rbm.log_density(v, out 1 x N)          -F(v) = log p(v) + log Z (unnormalised)
//   rbm.score(v, out D x N)                grad_v log p(v)
//   rbm.score_matching_loss(v)             L(theta)
//   rbm.score_matching_loss_and_gradient(v)   L(theta); gradients() += dL/dtheta
//   host conveniences: free_energy(V), log_density(V), score(V) on hosm::matrix<T>
// (dim(), score and log_density make it a ScoreSource / DensitySource for samplers.)
//
// Errors (hosm::error naming the function and argument): D, H < 1; init_std < 0
// or non-finite; v or out of the wrong shape; N < 1 for the losses; non-finite
// v; a non-finite loss (overflowing parameters).
#pragma once
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

#include <thrust/copy.h>
#include <thrust/fill.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/backend/gemm.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/models/detail/rbm_kernels.hpp>
#include <hosm/noise/detail/batch_checks.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::models {

template <class T, concepts::Backend B = backend::cpp>
class gauss_bernoulli_rbm {
public:
    using value_type = T;
    using backend_type = B;
    using vector_type = typename B::template vector<T>;

    gauss_bernoulli_rbm(index_t visible, index_t hidden, const random::stream& s = {},
                        T init_std = T(0.01))
        : D_(visible), H_(hidden) {
        constexpr const char* where = "models::gauss_bernoulli_rbm";
        hosm::detail::check_at_least(where, "visible", visible, 1);
        hosm::detail::check_at_least(where, "hidden", hidden, 1);
        params_.resize(static_cast<std::size_t>(parameter_count()));
        grads_.resize(static_cast<std::size_t>(parameter_count()));
        initialize(s, init_std);
        zero_gradients();
    }

    index_t dim() const { return D_; }
    index_t visible_dim() const { return D_; }
    index_t hidden_dim() const { return H_; }
    index_t parameter_count() const { return H_ * D_ + D_ + H_; }
    index_t weight_offset() const { return 0; }
    index_t visible_bias_offset() const { return H_ * D_; }
    index_t hidden_bias_offset() const { return H_ * D_ + D_; }

    vector_type& parameters() { return params_; }
    const vector_type& parameters() const { return params_; }
    vector_type& gradients() { return grads_; }
    const vector_type& gradients() const { return grads_; }
    void zero_gradients() { thrust::fill(grads_.begin(), grads_.end(), T(0)); }

    /// W(i, k) = init_std * s.normal(i + H k, 0); c = b = 0.
    void initialize(const random::stream& s, T init_std = T(0.01)) {
        hosm::detail::check_nonnegative("models::gauss_bernoulli_rbm::initialize", "init_std", init_std);
        std::vector<T> host(static_cast<std::size_t>(parameter_count()), T(0));
        for (index_t n = 0; n < H_ * D_; ++n)
            host[static_cast<std::size_t>(n)] = init_std * s.normal<T>(static_cast<std::uint64_t>(n), 0);
        thrust::copy(host.begin(), host.end(), params_.begin());
    }

    /// out_j = F(v_j) = 1/2 ||v_j||^2 - c^T v_j - sum_i softplus((W v_j + b)_i).
    void free_energy(batch_view<const T> v, batch_view<T> out) const {
        free_energy_impl("models::gauss_bernoulli_rbm::free_energy", v, out);
    }

    /// out_j = -F(v_j) = log p(v_j) + log Z.
    void log_density(batch_view<const T> v, batch_view<T> out) const {
        free_energy_impl("models::gauss_bernoulli_rbm::log_density", v, out);
        backend::for_each_index<B>(out.count, negate_fn{out.data});
    }

    /// out_j = grad_v log p(v_j) = c - v_j + W^T sigmoid(W v_j + b).
    void score(batch_view<const T> v, batch_view<T> out) const {
        constexpr const char* where = "models::gauss_bernoulli_rbm::score";
        check_v(where, v, 0);
        noise::detail::check_shape(where, "out", out, D_, v.count);
        const index_t N = v.count;
        if (N == 0) return;
        vector_type a(static_cast<std::size_t>(H_ * N)), rho(static_cast<std::size_t>(H_ * N));
        hidden(v, raw(a), raw(rho), nullptr);
        backend::gemm<B>(backend::transpose::yes, backend::transpose::no, D_, N, H_, T(1), W(), H_,
                         raw(rho), H_, T(0), out.data, D_);
        backend::for_each_index<B>(N, detail::rbm_score_fn<T>{v.data, c(), out.data, D_});
    }

    /// L = (1/N) sum_j [1/2 ||s(v_j)||^2 + Lap log p(v_j)].
    T score_matching_loss(batch_view<const T> v) const {
        return run_sm("models::gauss_bernoulli_rbm::score_matching_loss", v, nullptr);
    }

    /// L as above; gradients() += dL/dtheta (layout of parameters()).
    T score_matching_loss_and_gradient(batch_view<const T> v) {
        return run_sm("models::gauss_bernoulli_rbm::score_matching_loss_and_gradient", v,
                      thrust::raw_pointer_cast(grads_.data()));
    }

    // ---- host conveniences (host back ends; V is D x N) ----
    matrix<T> free_energy(const matrix<T>& v) const {
        matrix<T> out(1, v.cols());
        free_energy(host_view(v), view(out));
        return out;
    }
    matrix<T> log_density(const matrix<T>& v) const {
        matrix<T> out(1, v.cols());
        log_density(host_view(v), view(out));
        return out;
    }
    matrix<T> score(const matrix<T>& v) const {
        matrix<T> out(D_, v.cols());
        score(host_view(v), view(out));
        return out;
    }

private:
    struct negate_fn {
        T* p;
        HOSM_HOST_DEVICE void operator()(index_t i) const { p[i] = -p[i]; }
    };

    static T* raw(vector_type& x) { return thrust::raw_pointer_cast(x.data()); }
    static batch_view<const T> host_view(const matrix<T>& v) {
        static_assert(B::host_memory, "hosm: the host conveniences need a host back end");
        return view(v);
    }
    const T* W() const { return thrust::raw_pointer_cast(params_.data()); }
    const T* c() const { return W() + visible_bias_offset(); }
    const T* b() const { return W() + hidden_bias_offset(); }

    void check_v(const char* where, batch_view<const T> v, index_t min_count) const {
        if (v.dim != D_)
            hosm::detail::fail(where, "dimension mismatch: argument 'v' has ", v.dim,
                               " rows, expected the visible dimension ", D_);
        hosm::detail::check_at_least(where, "v.count", v.count, min_count);
        noise::detail::check_finite_batch<B>(where, "v", v);
    }

    /// a = W v + b (H x N); rho = sigmoid(a), drho = rho (1 - rho) when non-null.
    void hidden(batch_view<const T> v, T* a, T* rho, T* drho) const {
        const index_t N = v.count;
        backend::gemm<B>(backend::transpose::no, backend::transpose::no, H_, N, D_, T(1), W(), H_,
                         v.data, D_, T(0), a, H_);
        backend::for_each_index<B>(N, detail::rbm_hidden_fn<T>{a, b(), rho, drho, H_});
    }

    void free_energy_impl(const char* where, batch_view<const T> v, batch_view<T> out) const {
        check_v(where, v, 0);
        noise::detail::check_shape(where, "out", out, 1, v.count);
        const index_t N = v.count;
        if (N == 0) return;
        vector_type a(static_cast<std::size_t>(H_ * N));
        hidden(v, raw(a), nullptr, nullptr);
        backend::for_each_index<B>(N, detail::rbm_free_energy_fn<T>{v.data, raw(a), c(), out.data, D_, H_});
    }

    T run_sm(const char* where, batch_view<const T> v, T* g) const {
        check_v(where, v, 1);
        const index_t N = v.count, D = D_, H = H_;
        vector_type a(static_cast<std::size_t>(H * N)), rho(static_cast<std::size_t>(H * N)),
            drho(static_cast<std::size_t>(H * N)), r(static_cast<std::size_t>(D * N)),
            wn(static_cast<std::size_t>(H)), loss(static_cast<std::size_t>(N));
        hidden(v, raw(a), raw(rho), raw(drho));
        // r = W^T rho + c - v: the score
        backend::gemm<B>(backend::transpose::yes, backend::transpose::no, D, N, H, T(1), W(), H,
                         raw(rho), H, T(0), raw(r), D);
        backend::for_each_index<B>(N, detail::rbm_score_fn<T>{v.data, c(), raw(r), D});
        backend::for_each_index<B>(H, detail::rbm_row_norm_fn<T>{W(), raw(wn), H, D});
        backend::for_each_index<B>(N, detail::rbm_sm_fn<T>{raw(r), raw(drho), raw(wn), raw(loss), D, H});
        const T invN = T(1) / static_cast<T>(N);
        const T L = backend::reduce_sum<B>(raw(loss), N) * invN;
        if (!std::isfinite(static_cast<double>(L)))
            hosm::detail::fail(where, "the score-matching loss is not finite (", L,
                               "): the parameters overflow on the data");
        if (g == nullptr) return L;
        T* gW = g;
        T* gc = g + visible_bias_offset();
        T* gb = g + hidden_bias_offset();
        // delta = (W r) o rho' + w o rho' o (1 - 2 rho), into a
        backend::gemm<B>(backend::transpose::no, backend::transpose::no, H, N, D, T(1), W(), H,
                         raw(r), D, T(0), raw(a), H);
        backend::for_each_index<B>(N, detail::rbm_delta_fn<T>{raw(a), raw(rho), raw(drho), raw(wn), H});
        // dW += (rho R^T + delta V^T) / N + 2 diag(mean rho') W
        backend::gemm<B>(backend::transpose::no, backend::transpose::yes, H, D, N, invN, raw(rho), H,
                         raw(r), D, T(1), gW, H);
        backend::gemm<B>(backend::transpose::no, backend::transpose::yes, H, D, N, invN, raw(a), H,
                         v.data, D, T(1), gW, H);
        backend::for_each_index<B>(H, detail::rbm_row_sum_fn<T>{raw(drho), raw(wn), H, N, invN, false});
        backend::for_each_index<B>(H * D, detail::rbm_norm_grad_fn<T>{gW, W(), raw(wn), H});
        // dc += mean r, db += mean delta
        backend::for_each_index<B>(D, detail::rbm_row_sum_fn<T>{raw(r), gc, D, N, invN, true});
        backend::for_each_index<B>(H, detail::rbm_row_sum_fn<T>{raw(a), gb, H, N, invN, true});
        return L;
    }

    index_t D_, H_;
    vector_type params_, grads_;
};

}  // namespace hosm::models
