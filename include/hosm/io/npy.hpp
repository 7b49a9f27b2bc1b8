// hosm/io/npy.hpp — NumPy .npy files (format version 1.0) for io::array.
//
// Format (numpy.lib.format, version 1.0), all little-endian:
//   bytes 0-5   magic "\x93NUMPY"
//   bytes 6-7   major, minor version: 1, 0
//   bytes 8-9   header length H (uint16)
//   10 .. 10+H  ASCII header: a Python dict literal
//                 {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
//               padded with spaces and ended by '\n' so that 10 + H is a
//               multiple of 64 (so the data is 64-byte aligned)
//   then        the elements, size() * itemsize bytes, in C order
//               (fortran_order False) or Fortran order (True).
// Versions 2.0 and 3.0 differ only in a 4-byte header length (3.0: UTF-8
// header); they are read too. hosm writes 1.0 (its headers are short).
//
// Reading validates everything and never returns garbage: the magic, the
// version, the header length against the file, the header's dict syntax
// (string, True/False and tuple-of-integers values; exactly the keys descr,
// fortran_order, shape; no duplicates), the dtype (one of '<f4', '<f8',
// '<i8', '<u8'), non-negative dimensions whose element count does not
// overflow, and that the data after the header is exactly size() * itemsize
// bytes (less: truncated; more: trailing garbage). Each failure is a
// hosm::error naming the file (or the .npz member) and what is wrong.
//
// API
//   std::string encode_npy(const array& a)                  the file's bytes
//   array decode_npy(std::string_view bytes, std::string_view source = "<memory>")
//       `source` names the bytes in error messages ("file 'x.npy'")
//   void  save_npy(const std::filesystem::path& path, const array& a)   atomic
//   array load_npy(const std::filesystem::path& path)
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>
#include <hosm/io/array.hpp>
#include <hosm/io/detail/file.hpp>
#include <hosm/io/detail/little_endian.hpp>
#include <hosm/io/dtype.hpp>

namespace hosm::io {

namespace detail {

inline constexpr char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/// The parsed header of a .npy file.
struct npy_header {
    dtype type = dtype::float64;
    bool fortran_order = false;
    std::vector<index_t> shape;
};

/// Recursive-descent parser of the header dict (a subset of Python literal
/// syntax: exactly what a .npy header may hold).
class npy_header_parser {
public:
    npy_header_parser(std::string_view text, const char* where, std::string_view source)
        : s_(text), where_(where), source_(source) {}

    npy_header parse() {
        bool have_descr = false, have_order = false, have_shape = false;
        npy_header h;
        skip_ws();
        expect('{', "the header must be a dict starting with '{'");
        skip_ws();
        while (!at('}')) {
            const std::string key = string_literal("a quoted key");
            skip_ws();
            expect(':', "expected ':' after the key");
            skip_ws();
            if (key == "descr") {
                if (have_descr) bad("duplicate key 'descr'");
                have_descr = true;
                if (!at('\'') && !at('"'))
                    bad("'descr' is not a string (structured dtypes are not supported)");
                const std::string d = string_literal("a quoted dtype");
                const std::optional<dtype> t = dtype_from_descr(d);
                if (!t)
                    bad("unsupported dtype '", d,
                        "' (hosm reads '<f4', '<f8', '<i8' and '<u8', little-endian)");
                h.type = *t;
            } else if (key == "fortran_order") {
                if (have_order) bad("duplicate key 'fortran_order'");
                have_order = true;
                h.fortran_order = boolean();
            } else if (key == "shape") {
                if (have_shape) bad("duplicate key 'shape'");
                have_shape = true;
                h.shape = tuple();
            } else {
                bad("unexpected key '", key, "' (a .npy header has descr, fortran_order, shape)");
            }
            skip_ws();
            if (at(',')) {
                ++i_;
                skip_ws();
            } else if (!at('}')) {
                bad("expected ',' or '}' after the value of '", key, "'");
            }
        }
        ++i_;  // '}'
        skip_ws();
        if (i_ != s_.size()) bad("unexpected text after the header dict");
        if (!have_descr) bad("the header has no 'descr'");
        if (!have_order) bad("the header has no 'fortran_order'");
        if (!have_shape) bad("the header has no 'shape'");
        return h;
    }

private:
    template <class... Parts>
    [[noreturn]] void bad(Parts&&... parts) const {
        hosm::detail::fail(where_, source_, ": invalid .npy header at character ", i_, ": ",
                           std::forward<Parts>(parts)...);
    }
    bool at(char c) const { return i_ < s_.size() && s_[i_] == c; }
    void skip_ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    void expect(char c, const char* msg) {
        if (!at(c)) bad(msg);
        ++i_;
    }
    std::string string_literal(const char* what) {
        if (!at('\'') && !at('"')) bad("expected ", what);
        const char q = s_[i_++];
        std::string out;
        while (i_ < s_.size() && s_[i_] != q) {
            if (s_[i_] == '\\') bad("escape sequences are not supported in the header");
            if (s_[i_] == '\n') bad("unterminated string");
            out.push_back(s_[i_++]);
        }
        if (i_ >= s_.size()) bad("unterminated string");
        ++i_;
        return out;
    }
    bool boolean() {
        if (s_.substr(i_, 4) == "True") {
            i_ += 4;
            return true;
        }
        if (s_.substr(i_, 5) == "False") {
            i_ += 5;
            return false;
        }
        bad("'fortran_order' must be True or False");
    }
    index_t integer() {
        if (at('-')) bad("negative dimension in 'shape'");
        if (!(i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')) bad("expected a dimension (an integer)");
        index_t v = 0;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
            const index_t d = s_[i_++] - '0';
            if (v > (std::numeric_limits<index_t>::max() - d) / 10) bad("dimension too large");
            v = v * 10 + d;
        }
        return v;
    }
    std::vector<index_t> tuple() {
        expect('(', "'shape' must be a tuple");
        std::vector<index_t> dims;
        bool trailing_comma = false;
        skip_ws();
        while (!at(')')) {
            dims.push_back(integer());
            skip_ws();
            trailing_comma = false;
            if (at(',')) {
                ++i_;
                trailing_comma = true;
                skip_ws();
            } else if (!at(')')) {
                bad("expected ',' or ')' in 'shape'");
            }
        }
        ++i_;  // ')'
        if (dims.size() == 1 && !trailing_comma) bad("'shape' (n) is not a tuple: a 1-tuple is written (n,)");
        return dims;
    }

    std::string_view s_;
    std::size_t i_ = 0;
    const char* where_;
    std::string_view source_;
};

inline std::string npy_header_text(const array& a) {
    std::string h = "{'descr': '";
    h += descr(a.type());
    h += "', 'fortran_order': ";
    h += (a.fortran_order() && a.ndim() >= 2) ? "True" : "False";
    h += ", 'shape': (";
    for (std::size_t k = 0; k < a.shape().size(); ++k) {
        if (k > 0) h += ", ";
        h += std::to_string(a.shape()[k]);
    }
    if (a.shape().size() == 1) h += ",";
    h += "), }";
    return h;
}

inline array decode_npy_impl(std::string_view bytes, const char* where, std::string_view source) {
    auto bad = [&](auto&&... parts) {
        hosm::detail::fail(where, source, ": ", std::forward<decltype(parts)>(parts)...);
    };
    if (bytes.size() < 10)
        bad("truncated: ", bytes.size(), " bytes, shorter than a .npy preamble (10 bytes)");
    if (std::memcmp(bytes.data(), npy_magic, 6) != 0) bad("not a .npy file: bad magic string");
    const int major = static_cast<unsigned char>(bytes[6]), minor = static_cast<unsigned char>(bytes[7]);
    if (minor != 0 || major < 1 || major > 3)
        bad("unsupported .npy format version ", major, ".", minor, " (hosm reads 1.0, 2.0, 3.0)");
    std::size_t header_len = 0, start = 0;
    if (major == 1) {
        header_len = get_le<std::uint16_t>(bytes.data() + 8);
        start = 10;
    } else {
        if (bytes.size() < 12) bad("truncated: ", bytes.size(), " bytes, shorter than a .npy 2.0 preamble");
        header_len = get_le<std::uint32_t>(bytes.data() + 8);
        start = 12;
    }
    if (header_len > bytes.size() - start)
        bad("truncated: the header claims ", header_len, " bytes but only ", bytes.size() - start,
            " follow the preamble");
    const std::string_view text = bytes.substr(start, header_len);
    const npy_header h = npy_header_parser(text, where, source).parse();
    std::size_t n = 1;
    const std::size_t max_n = static_cast<std::size_t>(std::numeric_limits<index_t>::max()) / item_size(h.type);
    for (std::size_t k = 0; k < h.shape.size(); ++k) {
        const auto d = static_cast<std::size_t>(h.shape[k]);  // >= 0 (the parser checked)
        if (d != 0 && n > max_n / d)
            bad("the shape's element count overflows (dimension ", k, " = ", d, ")");
        n *= d;
    }
    const std::size_t need = n * item_size(h.type);
    const std::size_t have = bytes.size() - start - header_len;
    if (have < need)
        bad("truncated: the header claims ", need, " bytes of data (", n, " x ", descr(h.type),
            ") but only ", have, " are present");
    if (have > need) bad(have - need, " unexpected bytes after the ", need, " bytes of data");
    array a(h.type, h.shape, h.fortran_order);
    if (need > 0) std::memcpy(a.bytes(), bytes.data() + start + header_len, need);
    return a;
}

}  // namespace detail

/// The bytes of a .npy (version 1.0) file holding a.
inline std::string encode_npy(const array& a) {
    std::string h = detail::npy_header_text(a);
    const std::size_t unpadded = 10 + h.size() + 1;
    h.append((64 - unpadded % 64) % 64, ' ');
    h.push_back('\n');
    if (h.size() > 0xFFFF)
        hosm::detail::fail("io::encode_npy", "the header (", h.size(), " bytes, ", a.ndim(),
                           " dimensions) does not fit a version 1.0 .npy file");
    std::string out(detail::npy_magic, 6);
    out.push_back('\x01');
    out.push_back('\x00');
    detail::put_le<std::uint16_t>(out, static_cast<std::uint16_t>(h.size()));
    out += h;
    out.append(static_cast<const char*>(a.bytes()), a.nbytes());
    return out;
}

/// Parses and validates the bytes of a .npy file; `source` names them in errors.
inline array decode_npy(std::string_view bytes, std::string_view source = "<memory>") {
    return detail::decode_npy_impl(bytes, "io::decode_npy", source);
}

/// Writes a to path atomically (temporary file + rename).
inline void save_npy(const std::filesystem::path& path, const array& a) {
    detail::write_file_atomic("io::save_npy", path, encode_npy(a));
}

inline array load_npy(const std::filesystem::path& path) {
    const std::string bytes = detail::read_file("io::load_npy", path);
    return detail::decode_npy_impl(bytes, "io::load_npy", "file '" + path.string() + "'");
}

}  // namespace hosm::io
