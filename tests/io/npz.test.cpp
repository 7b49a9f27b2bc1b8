// Tests of .npz archives (hosm/io/npz.hpp, with the ZIP layer of
// hosm/io/detail/zip.hpp).
//
// Oracles: the ZIP specification (PKWARE APPNOTE) for the structure of the
// bytes written (signatures, STORED method, CRC-32 of each member, sizes,
// offsets, end record); round trips compared bitwise (io::array ==);
// corrupt archives (flipped CRC byte, flipped data byte, bad signatures,
// truncation at every offset, a member claiming more data than present, a
// wrong dtype, compressed or non-.npy members, duplicate names) must raise
// hosm::error naming the file and the problem; single-bit flips of every
// byte must raise hosm::error or give back the same arrays (the fields not
// checked -- times, attributes, versions -- do not affect the data). When
// python3 with NumPy is present, np.load reads hosm's archive and hosm reads
// np.savez's (which carries ZIP64 extra fields); np.savez_compressed's is
// refused with a clear message. Skipped with a MESSAGE without NumPy.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <hosm/core/eigen.hpp>
#include <hosm/io/detail/crc32.hpp>
#include <hosm/io/detail/little_endian.hpp>
#include <hosm/io/npz.hpp>

#include "io/temp_dir.hpp"

using namespace hosm;
using hosm::io::detail::get_le;
using hosm_test::temp_dir;

namespace {

io::arrays checkpoint() {
    io::arrays a;
    matrix<float> W(3, 2);
    W << 1, 2, 3, 4, 5, 6;
    const double m[4] = {0.1, -0.2, std::numeric_limits<double>::quiet_NaN(), 1e-310};
    const std::uint64_t u[2] = {1, std::numeric_limits<std::uint64_t>::max()};
    a["layer0/W"] = io::array::from_eigen(W);
    a["adam/m"] = io::array::from(m, {4});
    a["step"] = io::array::scalar(std::int64_t(1234));
    a["seeds"] = io::array::from(u, {2, 1});
    a["empty"] = io::array(io::dtype::float32, {0});
    return a;
}

void check_same(const io::arrays& got, const io::arrays& want) {
    REQUIRE(got.size() == want.size());
    for (const auto& [k, v] : want) {
        CAPTURE(k);
        REQUIRE(got.count(k) == 1);
        CHECK(got.at(k) == v);
    }
}

std::size_t find_end_record(const std::string& b) { return b.rfind(std::string("PK\x05\x06", 4)); }

}  // namespace

TEST_CASE("io::npz: round trip of float, double and integer arrays of several shapes") {
    const io::arrays a = checkpoint();
    check_same(io::decode_npz(io::encode_npz(a)), a);
    check_same(io::decode_npz(io::encode_npz({})), {});
    temp_dir dir;
    const auto p = dir / "ckpt.npz";
    io::save_npz(p, a);
    check_same(io::load_npz(p), a);
    // byte-reproducible: the same arrays give the same file
    CHECK(hosm_test::read_bytes(p) == io::encode_npz(a));
    const matrix<float> W = io::load_npz(p).at("layer0/W").to_matrix<float>();
    CHECK(W(2, 1) == 6.0f);
    CHECK(W(0, 1) == 2.0f);
}

TEST_CASE("io::encode_npz: the ZIP structure") {
    io::arrays a;
    const double v[2] = {1.0, 2.0};
    a["x"] = io::array::from(v, {2});
    const std::string b = io::encode_npz(a);
    const std::string npy = io::encode_npy(a["x"]);
    // local header
    CHECK(get_le<std::uint32_t>(b.data()) == 0x04034b50u);
    CHECK(get_le<std::uint16_t>(b.data() + 8) == 0);  // STORED
    const std::uint32_t crc = io::detail::crc32(npy.data(), npy.size());
    CHECK(get_le<std::uint32_t>(b.data() + 14) == crc);
    CHECK(get_le<std::uint32_t>(b.data() + 18) == npy.size());
    CHECK(get_le<std::uint32_t>(b.data() + 22) == npy.size());
    CHECK(get_le<std::uint16_t>(b.data() + 26) == 5);
    CHECK(b.substr(30, 5) == "x.npy");
    CHECK(b.substr(35, npy.size()) == npy);
    // central directory and end record
    const std::size_t cd = 35 + npy.size();
    CHECK(get_le<std::uint32_t>(b.data() + cd) == 0x02014b50u);
    CHECK(get_le<std::uint32_t>(b.data() + cd + 16) == crc);
    CHECK(get_le<std::uint32_t>(b.data() + cd + 42) == 0);  // local header offset
    const std::size_t end = cd + 46 + 5;
    REQUIRE(b.size() == end + 22);
    CHECK(get_le<std::uint32_t>(b.data() + end) == 0x06054b50u);
    CHECK(get_le<std::uint16_t>(b.data() + end + 10) == 1);  // members
    CHECK(get_le<std::uint32_t>(b.data() + end + 12) == 51);  // directory size
    CHECK(get_le<std::uint32_t>(b.data() + end + 16) == cd);  // directory offset
}

TEST_CASE("io::decode_npz: corrupt archives raise hosm::error naming the problem") {
    io::arrays a;
    const double v[3] = {1.0, 2.0, 3.0};
    a["x"] = io::array::from(v, {3});
    const std::string good = io::encode_npz(a);
    const std::size_t data = 35, npy_size = io::encode_npy(a["x"]).size(), cd = data + npy_size;
    auto bad = [](const std::string& bytes, const char* what) {
        CAPTURE(what);
        CHECK_THROWS_WITH_AS(io::decode_npz(bytes, "file 'c.npz'"), doctest::Contains(what), hosm::error);
    };
    std::string s = good;
    s[14] ^= 0x01;  // CRC in the local header
    bad(s, "disagrees with the central directory");
    s = good;
    s[14] ^= 0x01, s[cd + 16] ^= 0x01;  // CRC in both headers
    bad(s, "CRC-32 mismatch in member 'x.npy'");
    s = good;
    s[data + npy_size - 1] ^= 0x40;  // a data byte
    bad(s, "CRC-32 mismatch in member 'x.npy' (stored 0x");
    s = good;
    s[0] = 'Q';
    bad(s, "bad local header signature");
    s = good;
    s[cd] = 'Q';
    bad(s, "bad signature of central directory entry 0");
    bad("this is not a zip file, just some text long enough", "no end-of-central-directory record");
    bad("", "truncated or not a ZIP archive");
    // a member claiming more data than the archive holds (sizes in both headers)
    s = good;
    s[18] += 8, s[22] += 8, s[cd + 20] += 8, s[cd + 24] += 8;
    bad(s, "runs past the end of the archive's data");
    // compressed member
    s = good;
    s[8] = 8, s[cd + 10] = 8;
    bad(s, "compressed (method 8");
    // encrypted member
    s = good;
    s[6] |= 1, s[cd + 8] |= 1;
    bad(s, "encrypted");
    // a member that is not .npy: rename x.npy -> x.npz in both headers
    s = good;
    s[30 + 4] = 'z', s[cd + 46 + 4] = 'z';
    bad(s, "member 'x.npz': not a .npy array");
    // a wrong dtype inside a valid ZIP
    io::arrays wrong;
    std::string npy = io::encode_npy(a["x"]);
    npy.replace(npy.find("<f8"), 3, "<c8");
    {
        const std::vector<std::pair<std::string, std::string>> m = {{"x.npy", npy}};
        bad(io::detail::zip_store("test", "", m), "member 'x.npy': invalid .npy header");
        bad(io::detail::zip_store("test", "", m), "unsupported dtype '<c8'");
    }
    // a .npy header claiming more data than present, with a valid CRC
    npy = io::encode_npy(a["x"]);
    npy.replace(npy.find("(3,)"), 4, "(4,)");
    {
        const std::vector<std::pair<std::string, std::string>> m = {{"x.npy", npy}};
        bad(io::detail::zip_store("test", "", m), "the header claims 32 bytes of data");
    }
    // duplicate names
    {
        const std::string one = io::encode_npy(a["x"]);
        const std::vector<std::pair<std::string, std::string>> m = {{"x.npy", one}, {"x.npy", one}};
        bad(io::detail::zip_store("test", "", m), "duplicate array name 'x'");
    }
    // an end record whose directory overlaps it
    s = good;
    s[find_end_record(s) + 16] += 1;
    bad(s, "corrupt");
}

TEST_CASE("io::decode_npz: every truncation and every single-bit flip is caught") {
    const io::arrays a = checkpoint();
    const std::string b = io::encode_npz(a);
    bool all_throw = true;
    for (std::size_t cut = 0; cut < b.size(); ++cut) {
        try {
            (void)io::decode_npz(std::string_view(b).substr(0, cut));
            all_throw = false;
            MESSAGE("truncation at ", cut, " was accepted");
        } catch (const hosm::error&) {
        }
    }
    CHECK(all_throw);
    bool safe = true;
    for (std::size_t i = 0; i < b.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            std::string c = b;
            c[i] = static_cast<char>(c[i] ^ (1 << bit));
            try {
                const io::arrays r = io::decode_npz(c);
                bool same = r.size() == a.size();
                for (const auto& [k, v] : a) same = same && r.count(k) && r.at(k) == v;
                if (!same) {
                    MESSAGE("flip of byte ", i, " bit ", bit, " decoded to different arrays");
                    safe = false;
                }
            } catch (const hosm::error&) {
            }
        }
    CHECK(safe);
}

TEST_CASE("io::save_npz / load_npz: files, errors and atomic replacement") {
    temp_dir dir;
    const auto p = dir / "ckpt.npz";
    const io::arrays a = checkpoint();
    io::save_npz(p, a);
    // a failed save (bad array name) leaves the last good checkpoint in place
    io::arrays b = a;
    b["../evil"] = io::array::scalar(1.0);
    CHECK_THROWS_WITH_AS(io::save_npz(p, b),
                         doctest::Contains(("file '" + p.string() + "': array name '../evil' has a '..' path segment").c_str()),
                         hosm::error);
    check_same(io::load_npz(p), a);
    for (const char* key : {"", "/abs", "a\\b", "x/../y"}) {
        io::arrays c;
        c[key] = io::array::scalar(1.0);
        CHECK_THROWS_WITH_AS(io::encode_npz(c), doctest::Contains("array name"), hosm::error);
    }
    // overwrite with new contents
    io::arrays d;
    d["step"] = io::array::scalar(std::int64_t(5));
    io::save_npz(p, d);
    check_same(io::load_npz(p), d);
    int entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path)) ++entries;
    CHECK(entries == 1);  // no temporary files left
    // corrupt and truncated files on disk
    std::string bytes = io::encode_npz(a);
    hosm_test::write_bytes(p, bytes.substr(0, bytes.size() / 2));
    CHECK_THROWS_WITH_AS(io::load_npz(p), doctest::Contains(("file '" + p.string() + "'").c_str()), hosm::error);
    bytes[100] ^= 0x10;
    hosm_test::write_bytes(p, bytes);
    CHECK_THROWS_AS(io::load_npz(p), hosm::error);
    CHECK_THROWS_WITH_AS(io::load_npz(dir / "nope.npz"), doctest::Contains("cannot open file"), hosm::error);
}

TEST_CASE("io::npz: NumPy reads hosm's archives and hosm reads NumPy's") {
    if (!hosm_test::have_numpy()) {
        MESSAGE("python3 with numpy not found: NumPy interoperability of .npz not checked");
        return;
    }
    temp_dir dir;
    io::save_npz(dir / "hosm.npz", checkpoint());
    hosm_test::write_bytes(dir / "check.py", R"PY(
import sys, os, numpy as np
d = sys.argv[1]
z = np.load(os.path.join(d, "hosm.npz"))
assert sorted(z.files) == sorted(["layer0/W", "adam/m", "step", "seeds", "empty"]), z.files
W = z["layer0/W"]
assert W.dtype == np.float32 and W.shape == (3, 2), (W.dtype, W.shape)
assert (W == np.array([[1, 2], [3, 4], [5, 6]], dtype=np.float32)).all(), W
m = z["adam/m"]
assert m.dtype == np.float64 and m[0] == 0.1 and m[1] == -0.2 and np.isnan(m[2]) and m[3] == 1e-310, m
s = z["step"]
assert s.dtype == np.int64 and s.shape == () and s == 1234, s
u = z["seeds"]
assert u.dtype == np.uint64 and u.shape == (2, 1) and u[1, 0] == 2**64 - 1, u
e = z["empty"]
assert e.dtype == np.float32 and e.shape == (0,), e
np.savez(os.path.join(d, "numpy.npz"),
         a=np.arange(12, dtype=np.float32).reshape(3, 4),
         b=np.asfortranarray(np.arange(6.0).reshape(2, 3)),
         c=np.array(-5, dtype=np.int64),
         **{"nested/d": np.arange(5, dtype=np.uint64), "e": np.zeros((0, 3))})
np.savez_compressed(os.path.join(d, "compressed.npz"), a=np.arange(3.0))
)PY");
    REQUIRE(hosm_test::run_python(dir / "check.py", dir.path) == 0);
    const io::arrays z = io::load_npz(dir / "numpy.npz");
    REQUIRE(z.size() == 5);
    const matrix<float> A = z.at("a").to_matrix<float>();
    REQUIRE(A.rows() == 3);
    REQUIRE(A.cols() == 4);
    CHECK(A(2, 1) == 9.0f);
    CHECK(!z.at("a").fortran_order());
    const matrix<double> B = z.at("b").to_matrix<double>();
    CHECK(z.at("b").fortran_order());
    CHECK(B(1, 2) == 5.0);
    CHECK(B(0, 1) == 1.0);
    CHECK(z.at("c").item<std::int64_t>() == -5);
    CHECK(z.at("nested/d").to_vector<std::uint64_t>() == std::vector<std::uint64_t>{0, 1, 2, 3, 4});
    CHECK(z.at("e").shape() == std::vector<index_t>{0, 3});
    CHECK_THROWS_WITH_AS(io::load_npz(dir / "compressed.npz"),
                         doctest::Contains("member 'a.npy' is compressed (method 8"), hosm::error);
}
