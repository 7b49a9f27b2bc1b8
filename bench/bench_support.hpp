// bench/bench_support.hpp — shared pieces of hosm's Google Benchmark programs.
//
//   eigen_peak_gflops()        the practical GEMM roofline of this machine: the
//                              best single-thread float GFLOP/s of Eigen's GEMM
//                              on 1024 x 1024 x 1024 (measured once per process
//                              in thread CPU time, with the benchmarks' flags)
//   set_gemm_counters(st, f)   for a case that does f GEMM flops per iteration:
//                              counters GFLOPs (achieved rate of the GEMM part)
//                              and roofline (achieved / eigen_peak_gflops())
//   mlp_flops(sizes, N)        2 N sum_l n_l n_{l+1}, the GEMM flops of a forward
//   host_normals(n, seed)      n standard normals (std::mt19937), for inputs
//
// The benchmarks pin everything to one thread unless a case says otherwise:
// Eigen's own OpenMP parallel GEMM is switched off (Eigen::setNbThreads(1)) and
// the omp back end's cases set their thread count explicitly.
#pragma once
#include <Eigen/Core>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdint>
#include <random>
#include <vector>

#include <hosm/core/types.hpp>

namespace hosm_bench {

using hosm::index_t;

/// CPU time of the calling thread (the peak is measured in CPU time, like the
/// rate counters, so a busy machine does not lower it).
inline double thread_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

inline double eigen_peak_gflops() {
    static const double peak = [] {
        Eigen::setNbThreads(1);
        const int n = 1024;
        Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n),
                        c(n, n);
        double best = 0, spent = 0;
        for (int rep = 0; rep < 200 && (rep < 8 || spent < 0.5); ++rep) {
            const double t0 = thread_seconds();
            c.noalias() = a * b;
            const double s = thread_seconds() - t0;
            benchmark::DoNotOptimize(c.data());
            spent += s;
            best = std::max(best, 2.0 * n * n * double(n) / s / 1e9);
        }
        return best;
    }();
    return peak;
}

/// GEMM flops per iteration -> counters GFLOPs and roofline (fraction of the peak).
inline void set_gemm_counters(benchmark::State& st, double flops_per_iter) {
    const double peak = eigen_peak_gflops();
    st.counters["GFLOPs"] =
        benchmark::Counter(flops_per_iter / 1e9, benchmark::Counter::kIsIterationInvariantRate);
    // roofline = (flops / time) / peak; benchmark divides by time for kIsRate,
    // so pass flops / peak (in GFLOP / (GFLOP/s) = seconds of ideal time).
    st.counters["roofline"] = benchmark::Counter(flops_per_iter / 1e9 / peak,
                                                 benchmark::Counter::kIsIterationInvariantRate);
    st.counters["peak_GFLOPs"] = peak;
}

inline double mlp_flops(const std::vector<index_t>& sizes, index_t N) {
    double f = 0;
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l)
        f += 2.0 * double(N) * double(sizes[l]) * double(sizes[l + 1]);
    return f;
}

inline std::vector<float> host_normals(std::size_t n, std::uint32_t seed) {
    std::mt19937 g(seed);
    std::normal_distribution<float> d(0.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

}  // namespace hosm_bench
