// hosm/io/npz.hpp — NumPy .npz archives of named arrays, hosm's checkpoint
// format.
//
// An .npz file is a ZIP archive whose member "<key>.npy" is a .npy file (see
// hosm/io/npy.hpp) holding the array named <key>; np.load(path)[key] returns
// it. hosm writes uncompressed (STORED) members, as np.savez does, with
// correct CRC-32 and sizes, in the ZIP layout described in
// hosm/io/detail/zip.hpp; it reads what np.savez writes (including its
// ZIP64 extra fields). A checkpoint is such an archive: each layer's
// parameters, the optimiser's state (m, v), the step count and metadata as
// small arrays, e.g. {"params", "adam/m", "adam/v", "step", "sigma"}.
//
// Keys are non-empty, hold no NUL or backslash, do not start with '/', and
// have no ".." path segment ("layer0/W" is fine; np.load gives it back as
// "layer0/W"). Keys are written in std::map order (sorted).
//
// Writing is atomic: the archive is built in memory, written to a temporary
// file in the same directory, flushed and renamed over the target, so a crash
// leaves the previous checkpoint intact. Reading validates the ZIP structure
// (signatures, bounds, CRC-32, truncation; detail/zip.hpp) and every member
// as a .npy file (npy.hpp); members must be named "*.npy" and unique. Any
// corrupt or truncated file raises hosm::error naming the file, the member and
// what is wrong.
//
// API
//   using io::arrays = std::map<std::string, io::array>;
//   std::string encode_npz(const arrays& a)
//   arrays decode_npz(std::string_view bytes, std::string_view source = "<memory>")
//   void   save_npz(const std::filesystem::path& path, const arrays& a)
//   arrays load_npz(const std::filesystem::path& path)
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hosm/core/error.hpp>
#include <hosm/io/array.hpp>
#include <hosm/io/detail/file.hpp>
#include <hosm/io/detail/zip.hpp>
#include <hosm/io/npy.hpp>

namespace hosm::io {

/// Named arrays: the contents of an .npz archive.
using arrays = std::map<std::string, array>;

namespace detail {

/// `context` prefixes messages ("file 'x.npz': " or "").
inline void check_npz_key(const char* where, std::string_view context, const std::string& key) {
    auto bad = [&](const char* why) { hosm::detail::fail(where, context, "array name '", key, "' ", why); };
    if (key.empty()) hosm::detail::fail(where, context, "an array name is empty");
    if (key.find('\0') != std::string::npos) bad("contains a NUL character");
    if (key.find('\\') != std::string::npos) bad("contains a backslash");
    if (key.front() == '/') bad("starts with '/'");
    std::size_t start = 0;
    for (;;) {
        const std::size_t slash = key.find('/', start);
        const std::string_view seg = std::string_view(key).substr(start, slash - start);
        if (seg == "..") bad("has a '..' path segment");
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    if (key.size() > 0xFFFF - 4) bad("is too long for a ZIP member name");
}

inline std::string encode_npz_impl(const char* where, std::string_view context, const arrays& a) {
    std::vector<std::pair<std::string, std::string>> members;
    members.reserve(a.size());
    for (const auto& [key, value] : a) {
        check_npz_key(where, context, key);
        members.emplace_back(key + ".npy", encode_npy(value));
    }
    return zip_store(where, context, members);
}

inline arrays decode_npz_impl(std::string_view bytes, const char* where, std::string_view source) {
    arrays out;
    for (const zip_entry& e : zip_read(bytes, where, source)) {
        const std::string member_source = std::string(source) + ", member '" + e.name + "'";
        if (e.name.size() < 5 || e.name.compare(e.name.size() - 4, 4, ".npy") != 0)
            hosm::detail::fail(where, member_source, ": not a .npy array (an .npz member name ends in .npy)");
        std::string key = e.name.substr(0, e.name.size() - 4);
        if (out.count(key)) hosm::detail::fail(where, member_source, ": duplicate array name '", key, "'");
        out.emplace(std::move(key), decode_npy_impl(e.data, where, member_source));
    }
    return out;
}

}  // namespace detail

/// The bytes of an .npz archive holding the named arrays.
inline std::string encode_npz(const arrays& a) { return detail::encode_npz_impl("io::encode_npz", "", a); }

/// Parses and validates the bytes of an .npz archive; `source` names them in errors.
inline arrays decode_npz(std::string_view bytes, std::string_view source = "<memory>") {
    return detail::decode_npz_impl(bytes, "io::decode_npz", source);
}

/// Writes the named arrays to path atomically (temporary file + rename).
inline void save_npz(const std::filesystem::path& path, const arrays& a) {
    constexpr const char* where = "io::save_npz";
    const std::string bytes = detail::encode_npz_impl(where, "file '" + path.string() + "': ", a);
    detail::write_file_atomic(where, path, bytes);
}

inline arrays load_npz(const std::filesystem::path& path) {
    const std::string bytes = detail::read_file("io::load_npz", path);
    return detail::decode_npz_impl(bytes, "io::load_npz", "file '" + path.string() + "'");
}

}  // namespace hosm::io
