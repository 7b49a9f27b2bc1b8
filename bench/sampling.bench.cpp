// bench/sampling.bench.cpp — Langevin chains and the per-sample Hessian
// structure operations, float32.
//
//   langevin_mixture/backend:{cpp,omp}/threads:t/chains:10000
//       ULA (seed 000 Eq. 19) on targets::ring_of_gaussians (2-d, K = 8 modes,
//       radius 4, stddev 0.5), eps = 0.01; counter chain_steps = chain-steps/s.
//       omp cases set omp_set_num_threads(t).
//   langevin_mlp/D:100/chains:1024
//       ULA with the s1 of a D -> 256 -> 256 -> D softplus MLP (models::mlp,
//       random init), eps = 1e-4, one thread; the chains are reset to their
//       start every 200 steps (outside the timing) so they stay finite.
//   structure_apply/{diag,lowrank20,full}/D:d        out_j = H_j v_j, N = 32
//   structure_d2sm_residual/{diag,lowrank20,full}/D:d  ||H + s1 s1^T + (I - z z^T)/sigma^2||_F^2
//       counters: per_sample (seconds per sample), and per_sample divided by
//       D, D R, or D^2 (per_unit) to show O(D), O(D R) (O(D R^2) for the
//       low-rank residual) and O(D^2).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <hosm/backend/batch.hpp>
#include <hosm/backend/omp.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/operations.hpp>
#include <hosm/models/mlp.hpp>
#include <hosm/samplers/langevin.hpp>
#include <hosm/targets/toys.hpp>

#include "bench_support.hpp"

namespace {

using namespace hosm;
using hosm_bench::index_t;

template <class B>
void langevin_mixture(benchmark::State& st) {
    const int threads = int(st.range(0));
    const index_t N = st.range(1);
    Eigen::setNbThreads(1);
    omp_set_num_threads(threads);
    const auto target = targets::ring_of_gaussians<float, B>();
    matrix<float> x0(2, N);
    const auto z = hosm_bench::host_normals(std::size_t(2 * N), 5);
    for (index_t j = 0; j < N; ++j)
        for (index_t i = 0; i < 2; ++i) x0(i, j) = 4.f * z[std::size_t(i + 2 * j)];
    samplers::chains<float, B> c(x0);
    samplers::langevin<float, B> ula(0.01f, random::stream{3, 0});
    for (auto _ : st) ula.step(target, c);
    st.counters["chain_steps"] =
        benchmark::Counter(double(N), benchmark::Counter::kIsIterationInvariantRate);
    omp_set_num_threads(1);
}

/// A models::mlp seen as a concepts::ScoreSource (score = the network's output).
struct mlp_source {
    models::mlp<float>* net;
    index_t dim() const { return net->input_dim(); }
    void score(batch_view<const float> x, batch_view<float> out) const { net->forward(x, out); }
};

void langevin_mlp(benchmark::State& st) {
    Eigen::setNbThreads(1);
    omp_set_num_threads(1);
    const index_t D = st.range(0), N = st.range(1);
    models::mlp<float> net({D, 256, 256, D}, models::activation::softplus, random::stream{7, 0});
    const mlp_source src{&net};
    const auto z = hosm_bench::host_normals(std::size_t(D * N), 6);
    const matrix<float> x0 = Eigen::Map<const matrix<float>>(z.data(), D, N);
    samplers::chains<float> c(x0);
    samplers::langevin<float> ula(1e-4f, random::stream{3, 0});
    index_t k = 0;
    for (auto _ : st) {
        ula.step(src, c);
        if (++k % 200 == 0) {
            st.PauseTiming();
            c.set_state(x0);
            st.ResumeTiming();
        }
    }
    st.counters["chain_steps"] =
        benchmark::Counter(double(N), benchmark::Counter::kIsIterationInvariantRate);
    hosm_bench::set_gemm_counters(st, hosm_bench::mlp_flops({D, 256, 256, D}, N));
}

constexpr index_t structure_N = 32;
constexpr float structure_sigma = 0.5f;

template <class S>
hessian::batch<S, float> random_structure(index_t D, index_t N) {
    hessian::batch<S, float> H(D, N);
    if constexpr (std::is_same_v<S, hessian::full>) {
        const auto v = hosm_bench::host_normals(std::size_t(D * D * N), 21);
        std::copy(v.begin(), v.end(), H.data());
    } else if constexpr (std::is_same_v<S, hessian::diagonal>) {
        const auto v = hosm_bench::host_normals(std::size_t(D * N), 21);
        std::copy(v.begin(), v.end(), H.data());
    } else {
        const auto a = hosm_bench::host_normals(std::size_t(D * N), 21);
        const auto b = hosm_bench::host_normals(std::size_t(D * H.rank() * N), 22);
        std::copy(a.begin(), a.end(), H.alpha_data());
        std::copy(b.begin(), b.end(), H.B_data());
    }
    return H;
}

/// Units of work per sample: D (diagonal), D R (low rank), D^2 (full).
template <class S>
double structure_units(index_t D, bool residual) {
    if constexpr (std::is_same_v<S, hessian::full>) return double(D) * D;
    else if constexpr (std::is_same_v<S, hessian::diagonal>) return double(D);
    else return residual ? double(D) * (S::rank + 2) * (S::rank + 2) : double(D) * S::rank;
}

void structure_counters(benchmark::State& st, index_t N, double units) {
    using C = benchmark::Counter;
    st.counters["per_sample"] = C(double(N), C::kIsIterationInvariantRate | C::kInvert);
    st.counters["per_unit"] = C(double(N) * units, C::kIsIterationInvariantRate | C::kInvert);
}

template <class S>
void structure_apply(benchmark::State& st) {
    const index_t D = st.range(0), N = structure_N;
    const auto H = random_structure<S>(D, N);
    const auto v = hosm_bench::host_normals(std::size_t(D * N), 23);
    std::vector<float> out(static_cast<std::size_t>(D * N));
    for (auto _ : st) {
        hessian::apply(H, batch_view<const float>{v.data(), D, N}, batch_view<float>{out.data(), D, N});
        benchmark::DoNotOptimize(out.data());
    }
    structure_counters(st, N, structure_units<S>(D, false));
}

template <class S>
void structure_d2sm_residual(benchmark::State& st) {
    const index_t D = st.range(0), N = structure_N;
    const auto H = random_structure<S>(D, N);
    const auto s1 = hosm_bench::host_normals(std::size_t(D * N), 24);
    const auto z = hosm_bench::host_normals(std::size_t(D * N), 25);
    std::vector<float> out(static_cast<std::size_t>(N));
    for (auto _ : st) {
        hessian::d2sm_residual_sq(H, batch_view<const float>{s1.data(), D, N},
                                  batch_view<const float>{z.data(), D, N}, structure_sigma,
                                  batch_view<float>{out.data(), 1, N});
        benchmark::DoNotOptimize(out.data());
    }
    structure_counters(st, N, structure_units<S>(D, true));
}

void structure_dims(benchmark::internal::Benchmark* b) {
    b->ArgName("D");
    for (index_t D : {32, 128, 512, 1024}) b->Arg(D);
}

}  // namespace

BENCHMARK(langevin_mixture<hosm::backend::cpp>)
    ->Name("langevin_mixture/backend:cpp")
    ->ArgNames({"threads", "chains"})
    ->Args({1, 10000})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(langevin_mixture<hosm::backend::omp>)
    ->Name("langevin_mixture/backend:omp")
    ->ArgNames({"threads", "chains"})
    ->Args({1, 10000})
    ->Args({2, 10000})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(langevin_mlp)
    ->Name("langevin_mlp")
    ->ArgNames({"D", "chains"})
    ->Args({100, 1024})
    ->Unit(benchmark::kMicrosecond);

BENCHMARK(structure_apply<hosm::hessian::diagonal>)->Name("structure_apply/diag")->Apply(structure_dims);
BENCHMARK(structure_apply<hosm::hessian::low_rank<20>>)->Name("structure_apply/lowrank20")->Apply(structure_dims);
BENCHMARK(structure_apply<hosm::hessian::full>)->Name("structure_apply/full")->Apply(structure_dims);
BENCHMARK(structure_d2sm_residual<hosm::hessian::diagonal>)->Name("structure_d2sm_residual/diag")->Apply(structure_dims);
BENCHMARK(structure_d2sm_residual<hosm::hessian::low_rank<20>>)->Name("structure_d2sm_residual/lowrank20")->Apply(structure_dims);
BENCHMARK(structure_d2sm_residual<hosm::hessian::full>)->Name("structure_d2sm_residual/full")->Apply(structure_dims);
