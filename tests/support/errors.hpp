// The message of the hosm::error a callable throws ("" if it throws none), for
// tests that check an error names its argument and value.
#pragma once
#include <string>

#include <hosm/core/error.hpp>

namespace hosm_test {

inline std::string message_of(auto&& f) {
    try {
        f();
    } catch (const hosm::error& e) {
        return e.what();
    }
    return "";
}

}  // namespace hosm_test
