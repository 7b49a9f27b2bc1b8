// hosm::concepts::HessianStructure: the structures of hosm/hessian model it;
// types without a name, a view type or the per-sample operations do not.
#include <doctest/doctest.h>

#include <string>
#include <type_traits>

#include <hosm/concepts/hessian_structure.hpp>

namespace {
struct arbitrary {};
/// Has a name, but no hessian::view_type and no operations.
struct named_only {
    static constexpr const char* name = "named_only";
};
template <hosm::concepts::HessianStructure S>
constexpr const char* structure_name() {
    return S::name;
}
}  // namespace

namespace {
/// A named tag with a view type, but none of the per-sample operations.
struct bare {
    static constexpr const char* name = "bare";
};
template <class T>
struct bare_view {
    T* p = nullptr;
};
}  // namespace
template <class T>
struct hosm::hessian::view_type<bare, T> {
    using type = bare_view<T>;
};

using hosm::concepts::HessianStructure;
namespace hh = hosm::hessian;

static_assert(HessianStructure<hh::full>);
static_assert(HessianStructure<hh::diagonal>);
static_assert(HessianStructure<hh::low_rank<1>>);
static_assert(HessianStructure<hh::low_rank<3>>);
static_assert(HessianStructure<hh::low_rank<hosm::dynamic>>);
static_assert(HessianStructure<hh::low_rank_dynamic>);

static_assert(!HessianStructure<int>);
static_assert(!HessianStructure<double*>);
static_assert(!HessianStructure<void>);
static_assert(!HessianStructure<arbitrary>);
static_assert(!HessianStructure<named_only>);
static_assert(!HessianStructure<bare>);                   // a view but no operations
static_assert(!HessianStructure<hh::full_view<double>>);  // a view is not a structure

static_assert(std::is_same_v<hh::view_type<hh::low_rank<4>, const float>::type,
                             hh::low_rank_view<const float>>);

TEST_CASE("concepts/hessian_structure: usable as a constraint") {
    CHECK(std::string(structure_name<hh::full>()) == "full");
    CHECK(std::string(structure_name<hh::diagonal>()) == "diagonal");
    CHECK(std::string(structure_name<hh::low_rank<2>>()) == "low_rank");
}
