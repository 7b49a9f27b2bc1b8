// hosm/io/detail/file.hpp — whole-file reads and atomic whole-file writes.
//
//   read_file(where, path) -> std::string
//       the file's bytes; hosm::error naming the file and the system's reason
//       when it cannot be opened or read.
//   write_file_atomic(where, path, bytes)
//       writes bytes to a new temporary file in path's directory
//       (".<name>.tmp-<unique>"), flushes it to disk (fsync on POSIX), then
//       renames it over path. rename() within one directory is atomic on
//       POSIX file systems, so a reader (or a crash) sees either the old file
//       or the complete new one, never a half-written one. On any failure the
//       temporary file is removed, path is untouched, and hosm::error names
//       the file and the reason.
#pragma once
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <system_error>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <unistd.h>
#define HOSM_IO_POSIX 1
#else
#define HOSM_IO_POSIX 0
#endif

#include <hosm/core/error.hpp>

namespace hosm::io::detail {

inline std::string read_file(const char* where, const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        hosm::detail::fail(where, "cannot read file '", path.string(), "': it is a directory");
    std::FILE* f = std::fopen(path.string().c_str(), "rb");
    if (f == nullptr)
        hosm::detail::fail(where, "cannot open file '", path.string(), "': ", std::strerror(errno));
    std::string bytes;
    char buf[1 << 16];
    for (;;) {
        const std::size_t got = std::fread(buf, 1, sizeof buf, f);
        bytes.append(buf, got);
        if (got < sizeof buf) break;
    }
    const bool bad = std::ferror(f) != 0;
    const int err = errno;
    std::fclose(f);
    if (bad) hosm::detail::fail(where, "cannot read file '", path.string(), "': ", std::strerror(err));
    return bytes;
}

inline std::filesystem::path temporary_sibling(const std::filesystem::path& path) {
    static std::atomic<unsigned long long> counter{0};
    std::random_device rd;
    const unsigned long long tag =
        (static_cast<unsigned long long>(rd()) << 32) ^ static_cast<unsigned long long>(rd()) ^
        static_cast<unsigned long long>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        (++counter * 0x9E3779B97F4A7C15ull);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", tag);
    return path.parent_path() / ("." + path.filename().string() + ".tmp-" + hex);
}

inline void write_file_atomic(const char* where, const std::filesystem::path& path, std::string_view bytes) {
    if (path.filename().empty())
        hosm::detail::fail(where, "argument 'path' = '", path.string(), "' does not name a file");
    const std::filesystem::path tmp = temporary_sibling(path);
    auto fail_with = [&](const char* what, int err) {
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
        hosm::detail::fail(where, "cannot write file '", path.string(), "': ", what, ": ",
                           std::strerror(err), " (the previous file, if any, is unchanged)");
    };
    std::FILE* f = std::fopen(tmp.string().c_str(), "wb");
    if (f == nullptr) fail_with("cannot create a temporary file in its directory", errno);
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
        const int err = errno;
        std::fclose(f);
        fail_with("write failed", err);
    }
    if (std::fflush(f) != 0) {
        const int err = errno;
        std::fclose(f);
        fail_with("flush failed", err);
    }
#if HOSM_IO_POSIX
    if (::fsync(::fileno(f)) != 0) {
        const int err = errno;
        std::fclose(f);
        fail_with("fsync failed", err);
    }
#endif
    if (std::fclose(f) != 0) fail_with("close failed", errno);
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) fail_with("rename of the temporary file failed", ec.value());
#if HOSM_IO_POSIX
    // Make the rename itself durable (best effort: some file systems refuse).
    const std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
    const int dfd = ::open(dir.c_str(), O_RDONLY);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
#endif
}

}  // namespace hosm::io::detail
