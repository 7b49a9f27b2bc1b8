// hosm/samplers/ozaki.hpp — Langevin dynamics with Ozaki discretization:
// a step preconditioned by the second-order score s2 (seed 000 Sec. 6.1, Eq. 20;
// Ozaki 1992, Stramer & Tweedie 1999 [28] of seed 000).
//
// Maths. hosm's Langevin convention is seed 000 Eq. (19),
//     x' = x + (eps/2) s1(x) + sqrt(eps) z,
// the Euler step over time eps of the diffusion dX = (1/2) s1(X) dt + dW.
// Ozaki linearizes the drift at the current state x, s1(X) ~ g + H (X - x)
// with g = s1(x), H = s2(x), and solves the linear SDE exactly over time eps:
// for Y = X - x, dY = (1/2)(g + H Y) dt + dW, Y(0) = 0, so
//     E Y(eps)   = int_0^eps e^{(eps-s) H/2} g/2 ds = (e^{eps H/2} - I) H^{-1} g,
//     Cov Y(eps) = int_0^eps e^{s H} ds            = (e^{eps H} - I) H^{-1}.
// The step is therefore
//
//     x' = x + M s1(x) + Sigma^{1/2} z,    M     = (e^{eps H/2} - I) H^{-1},
//                                          Sigma = (e^{eps H}   - I) H^{-1},
//
// with M -> (eps/2) I and Sigma -> eps I as H -> 0: Eq. (19) exactly. For a
// Gaussian target N(mu, C), P = C^{-1}, the linearization is exact (s1 =
// -P (x - mu), s2 = -P), and the step is the exact transition over time eps of
// the OU process dX = -(1/2) P (X - mu) dt + dW:
//     x' - mu = e^{-eps P/2} (x - mu) + N(0, (I - e^{-eps P}) C),
// which leaves N(mu, C) invariant for EVERY eps > 0 (ULA diverges for
// eps >= 4 / lambda_max(P)).
//
// Discrepancy with the seed. Seed 000 Eq. (20) prints
// M = (e^{eps s2} - I) s2^{-1} and Sigma = (e^{2 eps s2} - I) s2^{-1}: these are
// the formulas above with eps replaced by 2 eps, i.e. the exact transition of
// dX = s1 dt + sqrt(2) dW over time eps (the convention of seed 001's
// x + eps grad log p + sqrt(2 eps) eta), and they tend to eps I and 2 eps I as
// s2 -> 0, not to Eq. (19)'s eps/2 and eps. hosm uses the Eq. (19)-consistent
// form above, so ozaki(eps) reduces to langevin(eps); the seed's Eq. (20) at
// step eps is hosm's ozaki at step 2 eps.
//
// Matrix functions: with H = Q Lambda Q^T (symmetric), M = Q m(Lambda) Q^T and
// Sigma^{1/2} = Q sqrt(v(Lambda)) Q^T (the symmetric root: the law of x' is the
// same for any root, this one does not depend on eigenvector signs or order),
//     m(l) = (e^{eps l/2} - 1)/l = (eps/2) phi(eps l/2),
//     v(l) = (e^{eps l} - 1)/l   = eps phi(eps l),     phi(u) = expm1(u)/u,
// evaluated without cancellation or 0/0 near l = 0 (series for |u| < 1e-4,
// detail/ozaki_coefficients.hpp).
//
// Positive curvature. Where s2 has an eigenvalue l > 0 (a non-log-concave
// region) the linearized flow is repulsive: m and v grow like e^{eps l}/l and
// overflow. Each eigenvalue is first mapped to l_hat <= 0 by the policy
//   ozaki_curvature::clamp (default)   l_hat = min(l, -lambda_floor)
//   ozaki_curvature::absolute          l_hat = -max(|l|, lambda_floor)
// (lambda_floor >= 0, default 0). With clamp and floor 0 such directions get
// exactly the ULA step; absolute damps them like directions of curvature -|l|
// (as saddle-free Newton methods do). Either way 0 < m <= eps/2 and
// 0 < v <= eps: an Ozaki step is never larger than the ULA step of the same
// eps, and log-concave targets (l <= -lambda_floor everywhere) are untouched.
//
// Structures S (the Hessian structure the source is asked for):
//   hessian::diagonal     s2 replaced by its diagonal, the seed's practice
//                         (Sec. 6.1): elementwise, O(D) per chain, a
//                         HOSM_HOST_DEVICE kernel — every back end. Exact for
//                         targets with diagonal s2.
//   hessian::full         per-chain symmetric eigendecomposition of the D x D
//                         s2 by Eigen's SelfAdjointEigenSolver (s2 checked
//                         symmetric to sqrt(eps_T) relative), O(D^3) per chain.
//                         Eigen is host code: on a device back end (cuda)
//                         the step is staged through the host (below).
//   hessian::low_rank<R>  s2 = diag(alpha) + B B^T: M g and Sigma^{1/2} z by the
//                         Lanczos process with products H u = alpha o u + B (B^T u)
//                         (O(D R), D x D is never formed), full
//                         reorthogonalization, j Krylov steps costing
//                         O(j D (R + j)) (detail/ozaki_lanczos.hpp). Exact to
//                         rounding when the Krylov space becomes invariant — in
//                         at most R + 1 steps when alpha is constant, e.g.
//                         targets::gaussian's low-rank form — or at j = D
//                         (krylov_max = 0 means D, the default); otherwise it
//                         stops when |y_j - y_{j-1}| <= krylov_tol |y_j|. A-priori
//                         bound for the drift (policy inactive):
//                         |M g - y_j| <= 2 eps |g| rho^j e^rho / j!,
//                         rho = eps (l_max - l_min) / 8. Host code (Eigen
//                         maps, host-side statistics): staged on a device.
//                         krylov_iterations() / krylov_unconverged() report the
//                         last step.
//
// Device back ends (cuda). The diagonal step is a device kernel, with no host
// transfer besides the chains' commit check. The full and low-rank steps run
// their per-chain work on the host: s1 and s2 are still evaluated by the
// source on the device, then x, s1 and s2 are copied to the host, the chains
// are stepped there (sequentially, backend::cpp, the same code and the same
// Philox keys as on a host back end), and the candidate states and status
// bits are copied back before commit. That is 4 (full: x, s1, H, status) or 5
// (low rank: x, s1, alpha, B, status) device-to-host copies, O(D^2 N) or
// O(D R N) numbers, and 2 host-to-device copies per step: a deliberate round
// trip until a batched device eigensolver (cuSOLVER syevjBatched) or a device
// Lanczos replaces it.
//
// Random numbers: z of chain j in step t is stream.normal(key(t, j), k),
// key = (t << 32) | (first_index + j) (chains.hpp) — the numbers of
// samplers::langevin with the same stream, so with s2 = 0 the diagonal Ozaki
// step equals the ULA step bit for bit.
//
// API (T float or double, B a back end)
//   samplers::ozaki<S, T, B> oz(eps, random::stream{seed, id}, ozaki_options<T>{...});
//   ozaki_options<T>: curvature (clamp), lambda_floor (0), rank (0: for
//     low_rank<dynamic>, the batch rank; 0 takes src.low_rank_rank()),
//     krylov_max (0 = D), krylov_tol (0.01 sqrt(eps_T))
//   oz.step(src, chains)     src a concepts::HessianSource<Src, T, B, S>
//   oz.step_size(), oz.stream(), oz.options()
//   oz.krylov_iterations(), oz.krylov_unconverged()     (low_rank; 0 otherwise)
// Cost per step: one batched s1 and one s2 evaluation, plus the above.
//
// Errors (hosm::error): eps not finite or <= 0; lambda_floor < 0 or not
// finite; krylov_max < 0; krylov_tol < 0 or not finite; rank < 0;
// low_rank<dynamic> without a rank; src.dim() != chains.dim(); a non-finite
// initial state; in a step, a non-finite s1 or s2, an asymmetric full s2, an
// eigensolver failure, or a non-finite new state — named with chain and step,
// the chains left at their states before the step (chains.hpp).
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <thrust/copy.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/concepts/score_source.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/chains.hpp>
#include <hosm/samplers/detail/langevin_kernels.hpp>
#include <hosm/samplers/detail/ozaki_coefficients.hpp>
#include <hosm/samplers/detail/ozaki_lanczos.hpp>

namespace hosm::samplers {

/// How eigenvalues l > -lambda_floor of s2 are treated (see the header).
enum class ozaki_curvature { clamp, absolute };

template <class T>
struct ozaki_options {
    ozaki_curvature curvature = ozaki_curvature::clamp;
    T lambda_floor = T(0);
    index_t rank = 0;        // low_rank<dynamic> only: 0 = src.low_rank_rank()
    index_t krylov_max = 0;  // low_rank only: Krylov dimension cap, 0 = D (exact)
    T krylov_tol = T(0.01) * std::sqrt(std::numeric_limits<T>::epsilon());  // low_rank only
};

namespace detail {

/// Diagonal structure: elementwise Ozaki step (every back end).
template <class T>
struct ozaki_diagonal_fn {
    batch_view<const T> x, g;
    const T* h;
    batch_view<T> out;
    int* status;
    random::stream s;
    draw_key key;
    ozaki_coefficients<T> co;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* xj = x.col(j);
        const T* gj = g.col(j);
        const T* hj = h + j * x.dim;
        T* o = out.col(j);
        int st = 0;
        for_each_normal<T>(s, key(j), x.dim, [&](index_t k, T z) {
            if (!is_finite(gj[k])) st |= nonfinite_score;
            if (!is_finite(hj[k])) st |= nonfinite_hessian;
            const T l = co.effective(hj[k]);
            o[k] = xj[k] + co.drift(l) * gj[k] + co.noise_sd(l) * z;
        });
        if (st) status[j] |= st;
    }
};

template <class T>
using ozaki_vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <class T>
using ozaki_mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

template <class T>
ozaki_vec<T> ozaki_normals(const random::stream& s, std::uint64_t key, index_t D) {
    ozaki_vec<T> z(D);
    for_each_normal<T>(s, key, D, [&](index_t k, T v) { z(k) = v; });
    return z;
}

template <class T>
bool all_finite(const T* p, index_t n) {
    for (index_t i = 0; i < n; ++i)
        if (!is_finite(p[i])) return false;
    return true;
}

/// Full structure: per-chain eigendecomposition (host only, Eigen).
template <class T>
struct ozaki_full_fn {
    batch_view<const T> x, g;
    const T* H;
    batch_view<T> out;
    int* status;
    random::stream s;
    draw_key key;
    ozaki_coefficients<T> co;
    void operator()(index_t j) const {
        const index_t D = x.dim;
        const T* hj = H + j * D * D;
        Eigen::Map<ozaki_vec<T>> o(out.col(j), D);
        Eigen::Map<const ozaki_vec<T>> xj(x.col(j), D), gj(g.col(j), D);
        o = xj;  // overwritten below; a failed chain is reported by the status bits
        int st = 0;
        if (!all_finite(g.col(j), D)) st |= nonfinite_score;
        if (!all_finite(hj, D * D)) st |= nonfinite_hessian;
        if (st) {
            status[j] |= st;
            return;
        }
        Eigen::Map<const ozaki_mat<T>> Hj(hj, D, D);
        const T scale = Hj.cwiseAbs().maxCoeff();
        const T tol = std::sqrt(std::numeric_limits<T>::epsilon()) * scale;
        for (index_t c = 0; c < D; ++c)
            for (index_t r = c + 1; r < D; ++r)
                if (std::abs(Hj(r, c) - Hj(c, r)) > tol) {
                    status[j] |= numerical_failure;
                    return;
                }
        Eigen::SelfAdjointEigenSolver<ozaki_mat<T>> es(Hj);
        if (es.info() != Eigen::Success) {
            status[j] |= numerical_failure;
            return;
        }
        const ozaki_mat<T>& Q = es.eigenvectors();
        ozaki_vec<T> a = Q.transpose() * gj;
        ozaki_vec<T> b = Q.transpose() * ozaki_normals<T>(s, key(j), D);
        for (index_t i = 0; i < D; ++i) {
            const T l = co.effective(es.eigenvalues()(i));
            a(i) = co.drift(l) * a(i) + co.noise_sd(l) * b(i);
        }
        o.noalias() += Q * a;
    }
};

/// Low-rank structure: Lanczos products (host only, Eigen).
template <class T>
struct ozaki_low_rank_fn {
    batch_view<const T> x, g;
    const T* alpha;
    const T* Bm;
    index_t rank;
    batch_view<T> out;
    int* status;
    int* iterations;
    int* unconverged;
    random::stream s;
    draw_key key;
    ozaki_coefficients<T> co;
    index_t kmax;
    T tol;
    void operator()(index_t j) const {
        const index_t D = x.dim, R = rank;
        const T* aj = alpha + j * D;
        const T* bj = Bm + j * D * R;
        Eigen::Map<ozaki_vec<T>> o(out.col(j), D);
        o = Eigen::Map<const ozaki_vec<T>>(x.col(j), D);
        iterations[j] = 0;
        unconverged[j] = 0;
        int st = 0;
        if (!all_finite(g.col(j), D)) st |= nonfinite_score;
        if (!all_finite(aj, D) || !all_finite(bj, D * R)) st |= nonfinite_hessian;
        if (st) {
            status[j] |= st;
            return;
        }
        Eigen::Map<const ozaki_vec<T>> a(aj, D);
        Eigen::Map<const ozaki_mat<T>> Bj(bj, D, R);
        ozaki_vec<T> p(R);
        auto Hv = [&](const T* u, T* w) {
            Eigen::Map<const ozaki_vec<T>> uu(u, D);
            Eigen::Map<ozaki_vec<T>> ww(w, D);
            p.noalias() = Bj.transpose() * uu;
            ww = a.cwiseProduct(uu);
            ww.noalias() += Bj * p;
        };
        const T norm_bound = a.cwiseAbs().maxCoeff() + Bj.squaredNorm();
        const ozaki_coefficients<T> c = co;
        auto f_drift = [c](T l) { return c.drift(c.effective(l)); };
        auto f_noise = [c](T l) { return c.noise_sd(c.effective(l)); };
        ozaki_vec<T> yg(D), yz(D);
        const ozaki_vec<T> z = ozaki_normals<T>(s, key(j), D);
        const lanczos_result r1 = lanczos_apply<T>(D, Hv, g.col(j), f_drift, kmax, tol, norm_bound, yg.data());
        const lanczos_result r2 = lanczos_apply<T>(D, Hv, z.data(), f_noise, kmax, tol, norm_bound, yz.data());
        iterations[j] = static_cast<int>(std::max(r1.iterations, r2.iterations));
        unconverged[j] = (r1.converged ? 0 : 1) + (r2.converged ? 0 : 1);
        o += yg + yz;
    }
};

}  // namespace detail

template <class S, class T, concepts::Backend B = backend::cpp>
class ozaki {
    static constexpr bool is_diagonal = std::is_same_v<S, hessian::diagonal>;
    static constexpr bool is_full = std::is_same_v<S, hessian::full>;
    static constexpr bool is_low_rank = hessian::is_low_rank_v<S>;
    static_assert(is_diagonal || is_full || is_low_rank,
                  "hosm: samplers::ozaki<S, T, B>: S must be hessian::diagonal, hessian::full "
                  "or hessian::low_rank<R>");

public:
    static constexpr const char* name = "samplers::ozaki";
    using value_type = T;
    using backend_type = B;
    using structure = S;

    ozaki(T eps, random::stream noise, ozaki_options<T> options = {})
        : eps_(eps), noise_(noise), opt_(options) {
        hosm::detail::check_positive(name, "eps", eps);
        hosm::detail::check_nonnegative(name, "options.lambda_floor", options.lambda_floor);
        hosm::detail::check_at_least(name, "options.krylov_max", options.krylov_max, 0);
        hosm::detail::check_nonnegative(name, "options.krylov_tol", options.krylov_tol);
        hosm::detail::check_at_least(name, "options.rank", options.rank, 0);
    }

    T step_size() const { return eps_; }
    const random::stream& stream() const { return noise_; }
    const ozaki_options<T>& options() const { return opt_; }
    /// Largest Krylov dimension used in the last step (low_rank; 0 otherwise).
    index_t krylov_iterations() const { return krylov_iterations_; }
    /// Products of the last step that stopped at krylov_max before meeting
    /// krylov_tol (low_rank; 0 otherwise, and always 0 with krylov_max = 0).
    index_t krylov_unconverged() const { return krylov_unconverged_; }

    template <class Src>
        requires concepts::HessianSource<Src, T, B, S> && detail::SameMemory<Src, B>
    void step(const Src& src, chains<T, B>& c) {
        constexpr const char* where = "samplers::ozaki::step";
        detail::check_source(where, src, c);
        c.require_finite(where);
        c.begin_step(where);
        const index_t D = c.dim(), N = c.count();
        detail::ensure_shape(g_, D, N);
        ensure_hessian(src, D, N);
        src.score(c.state(), g_.view());
        src.hessian(c.state(), *H_);
        const detail::ozaki_coefficients<T> co{eps_, opt_.lambda_floor,
                                               opt_.curvature == ozaki_curvature::absolute};
        const batch_view<const T> x = c.state(), g = std::as_const(g_).view();
        if constexpr (is_diagonal) {
            backend::for_each_index<B>(N, detail::ozaki_diagonal_fn<T>{x, g, H_->data(), c.next(),
                                                                      c.status(), noise_,
                                                                      c.keys(), co});
        } else if constexpr (B::host_memory) {
            structured_step<B>(x, g, hessian_arrays(), c.next(), c.status(), c.keys(), co);
        } else {
            staged_step(x, g, c, co);
        }
        c.commit(where);
    }

private:
    /// s2's arrays: H (full), or alpha and B (low rank; H unused).
    struct arrays {
        const T* H = nullptr;
        const T* alpha = nullptr;
        const T* Bm = nullptr;
    };
    arrays hessian_arrays() const {
        if constexpr (is_full) return {H_->data(), nullptr, nullptr};
        else return {nullptr, H_->alpha_data(), H_->B_data()};
    }

    /// The full or low-rank per-chain work on back end E (host memory).
    template <concepts::Backend E>
    void structured_step(batch_view<const T> x, batch_view<const T> g, arrays h, batch_view<T> out,
                         int* status, draw_key keys, const detail::ozaki_coefficients<T>& co) {
        const index_t N = x.count;
        if constexpr (is_full) {
            backend::for_each_index<E>(
                N, detail::ozaki_full_fn<T>{x, g, h.H, out, status, noise_, keys, co});
        } else {
            iters_.assign(static_cast<std::size_t>(N), 0);
            unconv_.assign(static_cast<std::size_t>(N), 0);
            backend::for_each_index<E>(
                N, detail::ozaki_low_rank_fn<T>{x, g, h.alpha, h.Bm, H_->rank(), out, status,
                                                thrust::raw_pointer_cast(iters_.data()),
                                                thrust::raw_pointer_cast(unconv_.data()), noise_,
                                                keys, co, opt_.krylov_max, opt_.krylov_tol});
            krylov_iterations_ = *std::max_element(iters_.begin(), iters_.end());
            krylov_unconverged_ = 0;
            for (int u : unconv_) krylov_unconverged_ += u;
        }
    }

    /// The full or low-rank step of a device back end, staged through host
    /// memory (see the header): copy x, s1, s2 and the status bits out, step
    /// on backend::cpp, copy the candidates and status bits back.
    void staged_step(batch_view<const T> x, batch_view<const T> g, chains<T, B>& c,
                     const detail::ozaki_coefficients<T>& co) {
        const index_t D = x.dim, N = x.count;
        const auto out_of = [](const auto* p, index_t n, auto& host) {
            host.resize(static_cast<std::size_t>(n));
            thrust::copy(thrust::device_pointer_cast(p), thrust::device_pointer_cast(p) + n,
                         host.begin());
        };
        out_of(x.data, D * N, hx_);
        out_of(g.data, D * N, hg_);
        arrays h;
        if constexpr (is_full) {
            out_of(H_->data(), D * D * N, hH_);
            h.H = hH_.data();
        } else {
            out_of(H_->alpha_data(), D * N, hH_);
            out_of(H_->B_data(), D * H_->rank() * N, hB_);
            h.alpha = hH_.data();
            h.Bm = hB_.data();
        }
        out_of(c.status(), N, hstatus_);
        hnext_.resize(static_cast<std::size_t>(D * N));
        structured_step<backend::cpp>({hx_.data(), D, N}, {hg_.data(), D, N}, h,
                                      {hnext_.data(), D, N}, hstatus_.data(), c.keys(), co);
        const batch_view<T> next = c.next();
        thrust::copy(hnext_.begin(), hnext_.end(), thrust::device_pointer_cast(next.data));
        thrust::copy(hstatus_.begin(), hstatus_.end(), thrust::device_pointer_cast(c.status()));
    }

    template <class Src>
    void ensure_hessian(const Src& src, index_t D, index_t N) {
        if constexpr (dynamic_rank()) {
            index_t r = opt_.rank;
            if (r == 0) {
                if constexpr (requires { src.low_rank_rank(); }) {
                    r = static_cast<index_t>(src.low_rank_rank());
                } else {
                    hosm::detail::fail("samplers::ozaki::step",
                                       "hessian::low_rank<dynamic> needs a rank: set "
                                       "options.rank (the source has no low_rank_rank())");
                }
            }
            if (!H_ || H_->dim() != D || H_->count() != N || H_->rank() != r) H_.emplace(D, N, r);
        } else {
            if (!H_ || H_->dim() != D || H_->count() != N) H_.emplace(D, N);
        }
    }

    static constexpr bool dynamic_rank() {
        if constexpr (is_low_rank) return S::rank == hosm::dynamic;
        else return false;
    }

    T eps_;
    random::stream noise_;
    ozaki_options<T> opt_;
    batch<T, B> g_;
    std::optional<hessian::batch<S, T, B>> H_;
    std::vector<int> iters_, unconv_;  // low_rank statistics (host memory: host-only path)
    std::vector<T> hx_, hg_, hH_, hB_, hnext_;  // host staging of a device back end
    std::vector<int> hstatus_;
    index_t krylov_iterations_ = 0, krylov_unconverged_ = 0;
};

}  // namespace hosm::samplers
