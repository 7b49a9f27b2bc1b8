// Ozaki steps on the CUDA back end against the cpp back end, every structure:
// the diagonal step runs as a device kernel, the full and low-rank steps are
// staged through the host (samplers/ozaki.hpp, "Device back ends"). Same
// Philox keys on both back ends, so the chains agree to rounding (the device's
// exp/expm1/sqrt and FMA contraction differ from the host's by a few ulp):
// 1e-12 relative after three steps.
//
// samplers/ozaki.test.cpp itself is not wrapped: its back-end-templated cases
// instantiate Eigen's matrix exponential and square root for every structure,
// which took nvcc 13 minutes and 5 GB on the shared build machine; these
// three instantiations cover the same sampler code on the device.
#include <doctest/doctest.h>

#include <hosm/backend/cpp.hpp>
#include <hosm/backend/cuda.hpp>

#include <cmath>
#include <string>

#include <hosm/core/eigen.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/samplers/chains.hpp>
#include <hosm/samplers/ozaki.hpp>
#include <hosm/targets/gaussian.hpp>

using namespace hosm;
using host_b = backend::cpp;     // the oracle
using device_b = backend::cuda;  // under test

namespace {

using md = hosm::matrix<double>;
using vd = hosm::vector<double>;

constexpr index_t D = 3, N = 64;

template <class B>
targets::gaussian<double, B> correlated(double scale = 1.0) {
    vd mu(D);
    mu << 0.5, -1.0, 2.0;
    md S(D, D);
    S << 1.0, 0.4, -0.2,  //
        0.4, 0.8, 0.1,    //
        -0.2, 0.1, 0.5;
    return targets::gaussian<double, B>(mu, scale * S);
}

md start() {
    md x0(D, N);
    for (index_t k = 0; k < x0.size(); ++k) x0.data()[k] = 2.0 * std::sin(0.37 * double(k) + 0.1);
    return x0;
}

struct run_result {
    md state;
    index_t iterations = 0, unconverged = 0;
};

template <class S, class B>
run_result run_ozaki() {
    const auto g = correlated<B>();
    samplers::chains<double, B> c(start(), 5);
    samplers::ozaki<S, double, B> oz(0.8, random::stream{31, 2});
    for (int t = 0; t < 3; ++t) oz.step(g, c);
    CHECK(c.step() == 3);
    return {c.to_eigen(), oz.krylov_iterations(), oz.krylov_unconverged()};
}

template <class S>
void check_ozaki() {
    const run_result want = run_ozaki<S, host_b>(), got = run_ozaki<S, device_b>();
    const double diff = (got.state - want.state).cwiseAbs().maxCoeff();
    CAPTURE(diff);
    CHECK(diff <= 1e-12 * (1 + want.state.cwiseAbs().maxCoeff()));
    CHECK(got.iterations == want.iterations);
    CHECK(got.unconverged == want.unconverged);
}

}  // namespace

TEST_CASE("cuda/samplers::ozaki: diagonal step (device kernel) agrees with cpp") {
    check_ozaki<hessian::diagonal>();
}

TEST_CASE("cuda/samplers::ozaki: full step (host-staged eigensolver) agrees with cpp") {
    check_ozaki<hessian::full>();
}

TEST_CASE("cuda/samplers::ozaki: low-rank step (host-staged Lanczos) agrees with cpp") {
    check_ozaki<hessian::low_rank<hosm::dynamic>>();
}

TEST_CASE("cuda/samplers::ozaki: a failing chain is reported and not advanced on the device") {
    // precision ~1e10: chain 7 starting at 1e300 has s1 = -P (x - mu) = -inf;
    // the staged full step must hand the status bits back to the chains.
    const auto g = correlated<device_b>(1e-10);
    md x0 = start();
    x0(0, 7) = 1e300;
    samplers::chains<double, device_b> c(x0);
    samplers::ozaki<hessian::full, double, device_b> oz(0.8, random::stream{31, 2});
    std::string msg;
    try {
        oz.step(g, c);
    } catch (const hosm::error& e) {
        msg = e.what();
    }
    CAPTURE(msg);
    CHECK(msg.find("chain 7 failed in step 0") != std::string::npos);
    CHECK(c.step() == 0);
    CHECK(c.to_eigen() == x0);
    CHECK(c.flags()[7] != 0);
}
