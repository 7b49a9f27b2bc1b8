#include "support/backends.hpp"

#include <hosm/concepts/backend.hpp>

struct not_a_backend {};
struct no_policy {
    static constexpr const char* name = "x";
    static constexpr bool host_memory = true;
    template <class T>
    using vector = T*;
};

static_assert(hosm::concepts::Backend<hosm::backend::cpp>);
#if !defined(__CUDACC__)
static_assert(hosm::concepts::Backend<hosm::backend::omp>);
#endif
static_assert(!hosm::concepts::Backend<not_a_backend>);
static_assert(!hosm::concepts::Backend<no_policy>);
static_assert(!hosm::concepts::Backend<int>);

