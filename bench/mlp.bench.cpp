// bench/mlp.bench.cpp — the MLP score model and its training steps, float32,
// one thread, backend::cpp.
//
// Architecture (seed 000, Sec. 4.4): "3-layer MLP" D -> 256 -> 256 -> out with
// softplus, s1 and s2 as separate networks (models::mlp_score defaults).
//
//   s1_forward/D/N            forward_s1: the s1 network
//   s2_direct/<S>/D/N         forward: both heads, s2 straight into its structure
//                             (diag; lowrank20, lowrank50, lowrank200: diag(alpha) + B B^T)
//   jacobian_s1/D/N           the exact input Jacobian of s1 (forward-mode
//                             tangents), the "autodiff" baseline of seed 000 Table 2
//   train_dsm/D/N             one Adam step of DSM (Eq. 3) on a D -> 256 -> 256 -> D mlp
//   train_joint_diag/D/N      one Adam step of joint D2SM, diagonal s2 (Eq. 16-17)
//   train_joint_lowrank20/D/N one Adam step of joint D2SM, low-rank R = 20 (Eq. 15)
//   roofline/gemm_1024        Eigen float GEMM 1024^3: the practical peak
//
// A training step is: x~ = x + sigma z (x, z fixed, drawn once), zero the
// gradients, forward, loss_and_gradient, backward, Adam step (sigma = 0.1,
// gamma = 1). Counters: GFLOPs (GEMM flops of the case / time) and roofline
// (that rate over roofline/gemm_1024's).
#include <benchmark/benchmark.h>

#include <hosm/backend/batch.hpp>
#include <hosm/models/mlp.hpp>
#include <hosm/models/mlp_score.hpp>
#include <hosm/objectives/dsm.hpp>
#include <hosm/objectives/joint.hpp>
#include <hosm/optim/adam.hpp>

#include "bench_support.hpp"

namespace {

using namespace hosm;
template <class T>
using vec_batch = hosm::batch<T>;
using hosm_bench::index_t;

constexpr index_t width = 256;
constexpr float sigma = 0.1f, gamma_ = 1.0f;

std::vector<index_t> net_sizes(index_t D, index_t out) { return {D, width, width, out}; }

template <class S>
index_t s2_outputs(index_t D) {
    if constexpr (std::is_same_v<S, hessian::diagonal>) return D;
    else return D + D * S::rank;
}

/// Backward GEMM flops of a net (dW and db of every layer, dA of all but the first).
double backward_flops(const std::vector<index_t>& s, index_t N) {
    double f = 0;
    for (std::size_t l = 0; l + 1 < s.size(); ++l) {
        f += 2.0 * N * s[l] * s[l + 1] + 2.0 * N * s[l + 1];
        if (l > 0) f += 2.0 * N * s[l] * s[l + 1];
    }
    return f;
}

struct inputs {
    std::vector<float> x, z, xt;
    inputs(index_t D, index_t N)
        : x(hosm_bench::host_normals(std::size_t(D * N), 11)),
          z(hosm_bench::host_normals(std::size_t(D * N), 12)),
          xt(std::size_t(D * N)) {}
    batch_view<const float> xv(index_t D, index_t N) const { return {x.data(), D, N}; }
    batch_view<const float> zv(index_t D, index_t N) const { return {z.data(), D, N}; }
    /// x~ = x + sigma z
    batch_view<const float> perturb(index_t D, index_t N) {
        for (std::size_t i = 0; i < xt.size(); ++i) xt[i] = x[i] + sigma * z[i];
        return {xt.data(), D, N};
    }
};

void s1_forward(benchmark::State& st) {
    Eigen::setNbThreads(1);
    const index_t D = st.range(0), N = st.range(1);
    models::mlp_score<float, hessian::diagonal> m({.dim = D}, random::stream{7, 0});
    inputs in(D, N);
    vec_batch<float> s1(D, N);
    for (auto _ : st) {
        m.forward_s1(in.xv(D, N), s1.view());
        benchmark::DoNotOptimize(s1.view().data);
    }
    hosm_bench::set_gemm_counters(st, hosm_bench::mlp_flops(net_sizes(D, D), N));
}

template <class S>
void s2_direct(benchmark::State& st) {
    Eigen::setNbThreads(1);
    const index_t D = st.range(0), N = st.range(1);
    models::mlp_score<float, S> m({.dim = D}, random::stream{7, 0});
    inputs in(D, N);
    vec_batch<float> s1(D, N);
    auto s2 = m.make_s2(N);
    for (auto _ : st) {
        m.forward(in.xv(D, N), s1.view(), s2);
        benchmark::DoNotOptimize(s1.view().data);
    }
    hosm_bench::set_gemm_counters(st, hosm_bench::mlp_flops(net_sizes(D, D), N) +
                                          hosm_bench::mlp_flops(net_sizes(D, s2_outputs<S>(D)), N));
}

void jacobian_s1(benchmark::State& st) {
    Eigen::setNbThreads(1);
    const index_t D = st.range(0), N = st.range(1);
    models::mlp_score<float, hessian::diagonal> m({.dim = D}, random::stream{7, 0});
    inputs in(D, N);
    hessian::batch<hessian::full, float> J(D, N);
    for (auto _ : st) {
        m.jacobian_s1(in.xv(D, N), J);
        benchmark::DoNotOptimize(J.data());
    }
    // hidden forward + tangents (no GEMM for the first layer: W_0 V = W_0)
    const double f = 2.0 * N * (double(D) * width + double(width) * width) +
                     2.0 * double(D) * N * (double(width) * width + double(width) * D);
    hosm_bench::set_gemm_counters(st, f);
}

void train_dsm(benchmark::State& st) {
    Eigen::setNbThreads(1);
    const index_t D = st.range(0), N = st.range(1);
    models::mlp<float> net(net_sizes(D, D), models::activation::softplus, random::stream{7, 0});
    optim::adam<float> opt;
    objectives::dsm<float> obj(sigma);
    inputs in(D, N);
    vec_batch<float> s1(D, N), g1(D, N);
    for (auto _ : st) {
        const auto xt = in.perturb(D, N);
        net.zero_gradients();
        net.forward(xt, s1.view());
        const float l = objectives::loss_and_gradient(obj, s1.view(), in.zv(D, N), g1.view());
        benchmark::DoNotOptimize(l);
        net.backward(g1.view());
        opt.step(net.parameters(), net.gradients());
    }
    const auto s = net_sizes(D, D);
    hosm_bench::set_gemm_counters(st, hosm_bench::mlp_flops(s, N) + backward_flops(s, N));
}

template <class S>
void train_joint(benchmark::State& st) {
    Eigen::setNbThreads(1);
    const index_t D = st.range(0), N = st.range(1);
    models::mlp_score<float, S> m({.dim = D}, random::stream{7, 0});
    optim::adam<float> opt;
    objectives::joint<float> obj(sigma, gamma_);
    inputs in(D, N);
    vec_batch<float> s1(D, N), g1(D, N);
    auto s2 = m.make_s2(N);
    auto g2 = m.make_s2(N);
    for (auto _ : st) {
        const auto xt = in.perturb(D, N);
        m.zero_gradients();
        m.forward(xt, s1.view(), s2);
        const float l = objectives::loss_and_gradient(obj, s1.view(), s2, in.zv(D, N), g1.view(), g2);
        benchmark::DoNotOptimize(l);
        m.backward(g1.view(), g2);
        opt.step(m.parameters(), m.gradients());
    }
    const auto s_1 = net_sizes(D, D), s_2 = net_sizes(D, s2_outputs<S>(D));
    hosm_bench::set_gemm_counters(st, hosm_bench::mlp_flops(s_1, N) + backward_flops(s_1, N) +
                                          hosm_bench::mlp_flops(s_2, N) + backward_flops(s_2, N));
}

void roofline_gemm(benchmark::State& st) {
    Eigen::setNbThreads(1);
    const int n = int(st.range(0));
    Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
    for (auto _ : st) {
        c.noalias() = a * b;
        benchmark::DoNotOptimize(c.data());
    }
    hosm_bench::set_gemm_counters(st, 2.0 * n * double(n) * n);
}

void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"D", "N"});
    for (index_t D : {100, 784})
        for (index_t N : {10, 256}) b->Args({D, N});
    b->Unit(benchmark::kMicrosecond);
}

/// R = 200 needs D >= 200 (low_rank<R> requires R <= D).
void shapes_784(benchmark::internal::Benchmark* b) {
    b->ArgNames({"D", "N"});
    for (index_t N : {10, 256}) b->Args({784, N});
    b->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(roofline_gemm)->Name("roofline/gemm")->Arg(1024)->ArgName("n")->Unit(benchmark::kMillisecond);
BENCHMARK(s1_forward)->Name("s1_forward")->Apply(shapes);
BENCHMARK(s2_direct<hosm::hessian::diagonal>)->Name("s2_direct/diag")->Apply(shapes);
BENCHMARK(s2_direct<hosm::hessian::low_rank<20>>)->Name("s2_direct/lowrank20")->Apply(shapes);
BENCHMARK(s2_direct<hosm::hessian::low_rank<50>>)->Name("s2_direct/lowrank50")->Apply(shapes);
BENCHMARK(s2_direct<hosm::hessian::low_rank<200>>)->Name("s2_direct/lowrank200")->Apply(shapes_784);
BENCHMARK(jacobian_s1)->Name("jacobian_s1")->Apply(shapes);
BENCHMARK(train_dsm)->Name("train_dsm")->Apply(shapes);
BENCHMARK(train_joint<hosm::hessian::diagonal>)->Name("train_joint_diag")->Apply(shapes);
BENCHMARK(train_joint<hosm::hessian::low_rank<20>>)->Name("train_joint_lowrank20")->Apply(shapes);
