// Tests of samplers::chains and samplers::run (hosm/samplers/chains.hpp).
//
// A test-local sampler with known, deterministic moves (add 1 to every entry,
// or write an infinity into one chain at one step) exercises the container:
// commit, the step counter, the random keys, the trace layout of
// diagnostics/trace_view.hpp (t*C*D + c*D + d), and the report of a chain that
// turns non-finite (hosm::error naming chain and step; chains not advanced;
// flags set). Every comparison is exact (small integers).
#include "support/backends.hpp"
#include "support/errors.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <hosm/samplers/chains.hpp>

using namespace hosm;
using hosm_test::message_of;
using md = hosm::matrix<double>;

namespace {

/// x' = x + 1; at step `bad_step`, chain `bad_chain` gets +inf in entry 1.
struct plus_one {
    static constexpr const char* name = "test::plus_one";
    std::uint64_t bad_step = ~std::uint64_t(0);
    index_t bad_chain = -1;
    template <class Src, class T, class B>
    void step(const Src&, samplers::chains<T, B>& c) {
        c.require_finite(name);
        c.begin_step(name);
        const md x = c.to_eigen();
        md y = x.array() + 1.0;
        if (c.step() == bad_step) y(1, bad_chain) = std::numeric_limits<double>::infinity();
        auto nv = c.next();
        thrust::copy(y.data(), y.data() + y.size(), thrust::device_pointer_cast(nv.data));  // B's memory
        c.commit(name);
    }
};
struct no_source {};

md start(index_t D, index_t N) {
    md x(D, N);
    for (index_t j = 0; j < N; ++j)
        for (index_t i = 0; i < D; ++i) x(i, j) = 10.0 * j + i;
    return x;
}

}  // namespace

TEST_CASE_TEMPLATE("samplers/chains: construction, state and keys", B, HOSM_TEST_BACKENDS) {
    samplers::chains<double, B> z(3, 4);
    CHECK(z.dim() == 3);
    CHECK(z.count() == 4);
    CHECK(z.step() == 0);
    CHECK(z.first_index() == 0);
    CHECK(z.to_eigen() == md::Zero(3, 4));
    CHECK(z.flagged() == 0);

    const md x0 = start(3, 4);
    samplers::chains<double, B> c(x0, 7);
    CHECK(c.to_eigen() == x0);
    CHECK(c.first_index() == 7);
    const samplers::draw_key k = c.keys();
    CHECK(k(0) == 7);
    CHECK(k(3) == 10);

    // token changes on every possible mutation, and for copies
    const auto t0 = c.token();
    (void)c.state();
    CHECK(c.token() == t0);
    (void)c.mutable_state();
    CHECK(c.token() != t0);
    const auto t1 = c.token();
    samplers::chains<double, B> copy(c);
    CHECK(copy.token() != t1);
    CHECK(copy.to_eigen() == x0);
    c.set_state(x0 * 2.0);
    CHECK(c.token() != t1);
    CHECK(c.to_eigen() == x0 * 2.0);

    // from a batch in B's memory
    samplers::chains<double, B> fb{batch<double, B>(x0)};
    CHECK(fb.to_eigen() == x0);
}

TEST_CASE_TEMPLATE("samplers/chains: run advances and records the trace layout", B,
                   HOSM_TEST_BACKENDS) {
    const index_t D = 2, N = 3;
    const md x0 = start(D, N);
    samplers::chains<double, B> c(x0);
    plus_one s;
    std::vector<double> tr;
    auto view = samplers::run(s, no_source{}, c, 5, tr, 2);  // records after steps 2 and 4
    CHECK(c.step() == 5);
    CHECK(c.to_eigen() == (x0.array() + 5.0).matrix());
    REQUIRE(view.steps == 2);
    CHECK(view.chains == N);
    CHECK(view.dim == D);
    CHECK(tr.size() == std::size_t(2 * N * D));
    for (index_t t = 0; t < 2; ++t)
        for (index_t j = 0; j < N; ++j)
            for (index_t d = 0; d < D; ++d) {
                CHECK(view(t, j, d) == x0(d, j) + 2.0 * (t + 1));
                CHECK(tr[static_cast<std::size_t>(t * N * D + j * D + d)] == x0(d, j) + 2.0 * (t + 1));
            }
    // appending: a second run continues the trace
    view = samplers::run(s, no_source{}, c, 1, tr);
    CHECK(view.steps == 3);
    CHECK(view(2, 1, 0) == x0(0, 1) + 6.0);
    samplers::run(s, no_source{}, c, 0);
    CHECK(c.step() == 6);

    CHECK(message_of([&] { samplers::run(s, no_source{}, c, -1); }).find("'steps'") != std::string::npos);
    CHECK(message_of([&] { samplers::run(s, no_source{}, c, 1, tr, 0); }).find("'every'") !=
          std::string::npos);
    std::vector<double> odd(5);
    CHECK(message_of([&] { samplers::run(s, no_source{}, c, 1, odd); }).find("not a multiple") !=
          std::string::npos);
}

TEST_CASE_TEMPLATE("samplers/chains: a chain turning non-finite is reported, not hidden", B,
                   HOSM_TEST_BACKENDS) {
    const index_t D = 2, N = 4;
    const md x0 = start(D, N);
    samplers::chains<double, B> c(x0);
    plus_one s{3, 2};
    std::vector<double> tr;
    const std::string m = message_of([&] { samplers::run(s, no_source{}, c, 10, tr); });
    CAPTURE(m);
    CHECK(m.find("test::plus_one") != std::string::npos);
    CHECK(m.find("chain 2 ") != std::string::npos);
    CHECK(m.find("step 3") != std::string::npos);
    CHECK(m.find("non-finite state") != std::string::npos);
    CHECK(m.find("entry 1 = inf") != std::string::npos);
    // not advanced: every chain keeps its state after step 2 (three steps taken)
    CHECK(c.step() == 3);
    CHECK(c.to_eigen() == (x0.array() + 3.0).matrix());
    CHECK(tr.size() == std::size_t(3 * N * D));  // the slices recorded before the failure
    const std::vector<int> f = c.flags();
    CHECK(f == std::vector<int>{0, 0, samplers::nonfinite_state, 0});
    CHECK(c.flagged() == 1);
    c.clear_flags();
    CHECK(c.flagged() == 0);
    // the chains can go on (the bad step is not repeated: step() is 3 again, so
    // this sampler fails again; a sampler without the fault proceeds)
    plus_one ok;
    ok.step(no_source{}, c);
    CHECK(c.step() == 4);

    // global index in the message when first_index != 0
    samplers::chains<double, B> g(x0, 100);
    plus_one s0{0, 1};
    const std::string m2 = message_of([&] { s0.step(no_source{}, g); });
    CHECK(m2.find("chain 1 (global index 101)") != std::string::npos);
}

/// Writes a status bit into chain `chain` and throws before its check, as a
/// sampler does whose score source throws mid-step.
struct abandons_step {
    static constexpr const char* name = "test::abandons_step";
    index_t chain = 0;
    template <class Src, class T, class B>
    void step(const Src&, samplers::chains<T, B>& c) {
        c.begin_step(name);
        const int bit = samplers::nonfinite_state;
        thrust::copy(&bit, &bit + 1, thrust::device_pointer_cast(c.status() + chain));
        throw hosm::error("test::abandons_step: score failed");
    }
};

TEST_CASE_TEMPLATE("samplers/chains: a step abandoned by an exception leaves no status behind", B,
                   HOSM_TEST_BACKENDS) {
    // begin_step clears status() only when the last step did not end in a
    // check; an abandoned step must not make the next, good one fail.
    const index_t D = 2, N = 5;
    const md x0 = start(D, N);
    samplers::chains<double, B> c(x0);
    plus_one ok;
    ok.step(no_source{}, c);  // a passed check: status() known clean
    abandons_step bad{3};
    CHECK_THROWS_AS(bad.step(no_source{}, c), hosm::error);
    CHECK(c.step() == 1);
    const std::string m = message_of([&] { ok.step(no_source{}, c); });
    CHECK(m == "");
    CHECK(c.step() == 2);
    CHECK(c.flagged() == 0);
    CHECK(c.to_eigen() == (x0.array() + 2.0).matrix());
    // and after a failed check, the step after it starts clean too
    plus_one fails{2, 4};
    CHECK_THROWS_AS(fails.step(no_source{}, c), hosm::error);
    CHECK(c.flags() == std::vector<int>{0, 0, 0, 0, samplers::nonfinite_state});
    c.clear_flags();
    ok.step(no_source{}, c);
    CHECK(c.step() == 3);
    CHECK(c.flagged() == 0);
}

TEST_CASE_TEMPLATE("samplers/chains: bad input", B, HOSM_TEST_BACKENDS) {
    using C = samplers::chains<double, B>;
    CHECK(message_of([] { C(0, 3); }).find("'dim'") != std::string::npos);
    CHECK(message_of([] { C(2, 0); }).find("'count'") != std::string::npos);
    CHECK(message_of([] { C(2, 3, (std::uint64_t(1) << 32) - 2); }).find("2^32") != std::string::npos);
    CHECK(message_of([] { C(2, 2, (std::uint64_t(1) << 32) - 2); }).empty());
    md x = start(2, 3);
    x(1, 2) = std::nan("");
    const std::string m = message_of([&] { C c(x); });
    CHECK(m.find("chain 2, dimension 1") != std::string::npos);
    C c(start(2, 3));
    CHECK(message_of([&] { c.set_state(md::Zero(3, 3)); }).find("dimension mismatch") !=
          std::string::npos);
    // a non-finite state written through mutable_state() is caught before the next step
    auto v = c.mutable_state();
    md bad = start(2, 3);
    bad(0, 1) = -std::numeric_limits<double>::infinity();
    thrust::copy(bad.data(), bad.data() + bad.size(), thrust::raw_pointer_cast(&v.data[0]));
    plus_one s;
    const std::string m2 = message_of([&] { s.step(no_source{}, c); });
    CHECK(m2.find("state of chain 1 is non-finite before step 0") != std::string::npos);
    CHECK(c.step() == 0);
}
