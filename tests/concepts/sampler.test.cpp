// Tests of hosm::concepts::Sampler, LevelScoreSource and LevelScoreSourceRange
// (hosm/concepts/sampler.hpp): every sampler models Sampler with a source that
// gives what it needs, and not with one that lacks it.
#include "support/backends.hpp"

#include <vector>

#include <hosm/concepts/sampler.hpp>
#include <hosm/samplers/annealed_langevin.hpp>
#include <hosm/samplers/chains.hpp>
#include <hosm/samplers/langevin.hpp>
#include <hosm/samplers/mala.hpp>
#include <hosm/samplers/ozaki.hpp>
#include <hosm/targets/gaussian.hpp>
#include <hosm/targets/gaussian_mixture.hpp>

using hosm::batch_view;
using hosm::index_t;
namespace smp = hosm::samplers;
namespace tg = hosm::targets;
namespace hs = hosm::hessian;
using cpp = hosm::backend::cpp;
using omp = hosm::backend::omp;
using hosm::concepts::LevelScoreSource;
using hosm::concepts::LevelScoreSourceRange;
using hosm::concepts::Sampler;

namespace {
/// s1 only: no log density, no Hessian.
struct score_only {
    index_t dim() const { return 1; }
    void score(batch_view<const double>, batch_view<double>) const {}
};
/// s1 and a diagonal s2 only.
struct diag_only : score_only {
    void hessian(batch_view<const double>, hs::batch<hs::diagonal, double, cpp>&) const {}
};
struct level_source {
    index_t dim() const { return 1; }
    void score(batch_view<const double>, batch_view<double>, index_t) const {}
};
struct unnamed {
    template <class Src, class T, class B>
    void step(const Src&, smp::chains<T, B>&) {}
};
struct named : unnamed {
    static constexpr const char* name = "test::named";
};
}  // namespace

// positive
static_assert(Sampler<smp::langevin<double>, tg::gaussian<double>, double, cpp>);
static_assert(Sampler<smp::langevin<float, omp>, tg::gaussian<float, omp>, float, omp>);
static_assert(Sampler<smp::langevin<double>, score_only, double, cpp>);
static_assert(Sampler<smp::mala<double>, tg::gaussian_mixture<double>, double, cpp>);
static_assert(Sampler<smp::ozaki<hs::diagonal, double>, tg::gaussian<double>, double, cpp>);
static_assert(Sampler<smp::ozaki<hs::full, double>, tg::gaussian<double>, double, cpp>);
static_assert(Sampler<smp::ozaki<hs::low_rank<2>, double>, tg::gaussian<double>, double, cpp>);
static_assert(Sampler<smp::ozaki<hs::diagonal, double>, diag_only, double, cpp>);
static_assert(Sampler<smp::annealed_langevin<double>, std::vector<tg::gaussian<double>>, double, cpp>);
static_assert(Sampler<smp::annealed_langevin<double>, level_source, double, cpp>);
static_assert(Sampler<named, score_only, double, cpp>);

// negative: the source lacks what the sampler needs, or types do not match
static_assert(!Sampler<smp::mala<double>, score_only, double, cpp>);           // no log_density
static_assert(!Sampler<smp::ozaki<hs::diagonal, double>, score_only, double, cpp>);  // no s2
static_assert(!Sampler<smp::ozaki<hs::full, double>, diag_only, double, cpp>);  // s2 of another structure
static_assert(!Sampler<smp::langevin<float>, tg::gaussian<double>, float, cpp>);  // float chains, double source
static_assert(!Sampler<smp::langevin<double>, tg::gaussian<double>, float, cpp>);  // chains of another T
static_assert(!Sampler<smp::annealed_langevin<double>, tg::gaussian<double>, double, cpp>);  // no levels
static_assert(!Sampler<smp::langevin<double>, level_source, double, cpp>);
static_assert(!Sampler<unnamed, score_only, double, cpp>);  // no name
static_assert(!Sampler<int, score_only, double, cpp>);

static_assert(LevelScoreSource<level_source, double, cpp>);
static_assert(!LevelScoreSource<score_only, double, cpp>);
static_assert(!LevelScoreSource<tg::gaussian<double>, double, cpp>);
static_assert(LevelScoreSourceRange<std::vector<tg::gaussian<double>>, double, cpp>);
static_assert(LevelScoreSourceRange<std::vector<score_only>, double, cpp>);
static_assert(!LevelScoreSourceRange<std::vector<tg::gaussian<double>>, float, cpp>);
static_assert(!LevelScoreSourceRange<std::vector<int>, double, cpp>);
static_assert(!LevelScoreSourceRange<level_source, double, cpp>);

TEST_CASE("concepts/sampler: the assertions above compiled") {
    CHECK(Sampler<named, score_only, double, cpp>);
    CHECK_FALSE(Sampler<unnamed, score_only, double, cpp>);
}
