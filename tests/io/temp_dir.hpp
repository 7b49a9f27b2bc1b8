// A uniquely named scratch directory under the system's temporary directory,
// removed with its contents when the object goes out of scope; and whether a
// python3 with NumPy is available for the interoperability checks.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>

namespace hosm_test {

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        std::random_device rd;
        for (int attempt = 0; attempt < 100; ++attempt) {
            char tag[32];
            std::snprintf(tag, sizeof tag, "hosm-io-test-%08x%08x", rd(), rd());
            path = std::filesystem::temp_directory_path() / tag;
            if (std::filesystem::create_directory(path)) return;
        }
        throw std::runtime_error("cannot create a scratch directory");
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

inline std::string read_bytes(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// True when `python3 -c "import numpy"` succeeds.
inline bool have_numpy() {
    static const bool yes = std::system("python3 -c \"import numpy\" >/dev/null 2>&1") == 0;
    return yes;
}

/// Runs `python3 script` with the given argument (quoted); the exit status.
inline int run_python(const std::filesystem::path& script, const std::filesystem::path& arg) {
    const std::string cmd = "python3 '" + script.string() + "' '" + arg.string() + "'";
    return std::system(cmd.c_str());
}

}  // namespace hosm_test
