// Tests of hosm/diagnostics/trace_view.hpp: the (T, C, D) layout of a run of
// chains and the validation of traces (exact; no tolerances).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <hosm/core/error.hpp>
#include <hosm/diagnostics/trace_view.hpp>
#include "support/errors.hpp"

using namespace hosm;
using hosm_test::message_of;
using diagnostics::trace_view;

TEST_CASE("diagnostics/trace_view: layout (T, C, D), steps are D x C batches") {
    std::vector<double> v(3 * 2 * 4);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = double(i);
    const trace_view<double> tr{v.data(), 3, 2, 4};
    CHECK(tr(2, 1, 3) == double(2 * 2 * 4 + 1 * 4 + 3));
    CHECK(tr.size() == 24);
    const batch_view<double> s = tr.step(1);
    CHECK(s.dim == 4);
    CHECK(s.count == 2);
    CHECK(s(3, 1) == tr(1, 1, 3));
    const batch_view<double> all = tr.as_batch();
    CHECK(all.dim == 4);
    CHECK(all.count == 6);
    CHECK(all(2, 2 * 2 + 1) == tr(2, 1, 2));
    const trace_view<const double> ct = tr;
    CHECK(ct(0, 1, 0) == 4.0);
    CHECK(ct.steps == 3);
    CHECK(ct.chains == 2);
}

TEST_CASE("diagnostics/trace_view: check_trace names sizes and the first non-finite draw") {
    std::vector<float> v(5 * 3 * 2, 1.0f);
    trace_view<float> tr{v.data(), 5, 3, 2};
    CHECK_NOTHROW(diagnostics::detail::check_trace("f", tr, 3, 5));
    CHECK(message_of([&] { diagnostics::detail::check_trace("f", tr, 4, 1); })
              .find("'chains' = 3 must be >= 4") != std::string::npos);
    CHECK(message_of([&] { diagnostics::detail::check_trace("f", tr, 1, 6); })
              .find("'steps' = 5 must be >= 6") != std::string::npos);
    CHECK(message_of([&] { diagnostics::detail::check_trace("f", trace_view<float>{nullptr, 5, 3, 2}, 1, 1); })
              .find("null") != std::string::npos);
    tr(4, 0, 0) = -INFINITY;
    tr(3, 2, 1) = NAN;
    const std::string m = message_of([&] { diagnostics::detail::check_trace("f", tr, 1, 1); });
    CHECK(m.find("hosm: f: non-finite draw") != std::string::npos);
    CHECK(m.find("chain 2 at step 3, dimension 1") != std::string::npos);
}
