// hosm/core/error.hpp — the single exception type of hosm.
//
// Every invalid argument hosm can detect (sigma <= 0, a dimension mismatch, a
// rank above the dimension, a covariance that is not positive definite,
// non-finite data, ...) is reported by throwing `hosm::error` with a message
// that names the function, the argument and the offending value, e.g.
//
//   hosm: noise::gaussian: argument 'sigma' must be > 0, got -0.5
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace hosm {

class error : public std::invalid_argument {
public:
    explicit error(const std::string& what) : std::invalid_argument(what) {}
};

namespace detail {

template <class... Parts>
[[nodiscard]] std::string concat(Parts&&... parts) {
    std::ostringstream os;
    os.precision(17);
    (os << ... << std::forward<Parts>(parts));
    return os.str();
}

/// Throws hosm::error("hosm: <where>: <message parts...>").
template <class... Parts>
[[noreturn]] void fail(const char* where, Parts&&... parts) {
    throw error(concat("hosm: ", where, ": ", std::forward<Parts>(parts)...));
}

}  // namespace detail
}  // namespace hosm
