// hosm/io/dtype.hpp — the element types hosm reads and writes in .npy/.npz
// files, with their NumPy type descriptors.
//
//   dtype       C++ type        NumPy descr   item size
//   float32     float           '<f4'         4
//   float64     double          '<f8'         8
//   int64       std::int64_t    '<i8'         8
//   uint64      std::uint64_t   '<u8'         8
//
// All are little-endian ('<'), as NumPy writes them on x86-64 and ARM64; a
// big-endian descr ('>f8') is reported as unsupported, not byte-swapped.
//
// API
//   io::dtype_of<T>                     the dtype of a supported T (else a
//                                       static_assert names the four types)
//   io::item_size(d), io::descr(d) ("<f8"), io::type_name(d) ("float64")
//   io::dtype_from_descr(s) -> std::optional<dtype>   exact match of a descr
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

namespace hosm::io {

enum class dtype { float32, float64, int64, uint64 };

namespace detail {
template <class T>
inline constexpr bool always_false = false;

template <class T>
constexpr dtype dtype_of_impl() {
    if constexpr (std::is_same_v<T, float>)
        return dtype::float32;
    else if constexpr (std::is_same_v<T, double>)
        return dtype::float64;
    else if constexpr (std::is_same_v<T, std::int64_t>)
        return dtype::int64;
    else if constexpr (std::is_same_v<T, std::uint64_t>)
        return dtype::uint64;
    else
        static_assert(always_false<T>,
                      "hosm: io arrays hold float, double, std::int64_t or std::uint64_t elements");
}
}  // namespace detail

/// The dtype of T (float, double, std::int64_t, std::uint64_t).
template <class T>
inline constexpr dtype dtype_of = detail::dtype_of_impl<std::remove_cv_t<T>>();

constexpr std::size_t item_size(dtype d) { return d == dtype::float32 ? 4 : 8; }

/// The NumPy type descriptor, e.g. "<f4".
constexpr const char* descr(dtype d) {
    switch (d) {
        case dtype::float32: return "<f4";
        case dtype::float64: return "<f8";
        case dtype::int64: return "<i8";
        case dtype::uint64: return "<u8";
    }
    return "?";
}

/// The NumPy type name, e.g. "float32".
constexpr const char* type_name(dtype d) {
    switch (d) {
        case dtype::float32: return "float32";
        case dtype::float64: return "float64";
        case dtype::int64: return "int64";
        case dtype::uint64: return "uint64";
    }
    return "?";
}

/// The dtype whose descr is exactly s, or nothing.
constexpr std::optional<dtype> dtype_from_descr(std::string_view s) {
    for (dtype d : {dtype::float32, dtype::float64, dtype::int64, dtype::uint64})
        if (s == descr(d)) return d;
    return std::nullopt;
}

}  // namespace hosm::io
