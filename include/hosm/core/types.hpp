// hosm/core/types.hpp — index type and compile-time size markers.
#pragma once
#include <cstddef>

namespace hosm {

/// Signed index type used for dimensions, batch sizes and loop counters.
using index_t = std::ptrdiff_t;

/// Marker for a size (for instance a rank R) that is fixed at run time
/// instead of compile time, as Eigen's `Eigen::Dynamic`.
inline constexpr int dynamic = -1;

}  // namespace hosm
