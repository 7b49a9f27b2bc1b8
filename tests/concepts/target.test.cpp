// Tests of hosm::concepts::Target (hosm/concepts/target.hpp): every target
// models it; types missing a part do not.
#include "support/backends.hpp"

#include <hosm/concepts/target.hpp>
#include <hosm/noise/gaussian.hpp>
#include <hosm/targets/gaussian.hpp>
#include <hosm/targets/gaussian_mixture.hpp>
#include <hosm/targets/m_density.hpp>
#include <hosm/targets/mixture_of_logistics.hpp>

using hosm::batch_view;
using hosm::index_t;

namespace {
struct no_score {
    using value_type = double;
    using backend_type = hosm::backend::cpp;
    index_t dim() const { return 1; }
    void log_density(batch_view<const double>, batch_view<double>) const {}
};
struct no_backend {
    using value_type = double;
    index_t dim() const { return 1; }
    void log_density(batch_view<const double>, batch_view<double>) const {}
    void score(batch_view<const double>, batch_view<double>) const {}
};
struct minimal {
    using value_type = float;
    using backend_type = hosm::backend::cpp;
    index_t dim() const { return 1; }
    void log_density(batch_view<const float>, batch_view<float>) const {}
    void score(batch_view<const float>, batch_view<float>) const {}
};
}  // namespace

using hosm::concepts::Target;
namespace tg = hosm::targets;

static_assert(Target<tg::gaussian<double>>);
static_assert(Target<tg::gaussian<float, hosm::backend::cpp>>);
static_assert(Target<tg::gaussian_mixture<double>>);
static_assert(Target<tg::mixture_of_logistics<float>>);
static_assert(Target<tg::m_density<tg::gaussian<double>>>);
static_assert(Target<tg::m_density<tg::gaussian_mixture<float>>>);
static_assert(Target<minimal>);
static_assert(!Target<no_score>);
static_assert(!Target<no_backend>);
static_assert(!Target<int>);
static_assert(!Target<hosm::noise::gaussian<double>>);

TEST_CASE("concepts/target: the assertions above compiled") { CHECK(Target<minimal>); }
