// hosm/concepts/backend.hpp — what an execution back end must provide.
#pragma once
#include <concepts>

namespace hosm::concepts {

/// A back end is a tag type with a name, a vector template for its memory, a
/// flag telling whether that memory is host memory, and a Thrust execution
/// policy on which batched work is dispatched.
template <class B>
concept Backend = requires {
    { B::name } -> std::convertible_to<const char*>;
    { B::host_memory } -> std::convertible_to<bool>;
    typename B::template vector<float>;
    typename B::template vector<double>;
    B::policy();
};

}  // namespace hosm::concepts
