// Tests of .npy encoding and decoding (hosm/io/npy.hpp).
//
// Oracles: the format specification (numpy.lib.format, version 1.0) for the
// exact bytes of a small file; round trips compared bitwise (io::array ==)
// for every dtype, shapes (), (0,), (5,), (0, 3), (2, 3), (2, 3, 4), both
// orders, and special values (NaN, +-inf, -0, denormals, integer extremes);
// hand-made headers for the parser; every truncation of a valid file and
// single-bit flips of every header byte must raise hosm::error or give back
// the same array. When python3 with NumPy is present, NumPy reads hosm's
// files and hosm reads NumPy's (skipped with a MESSAGE otherwise).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <hosm/core/eigen.hpp>
#include <hosm/io/npy.hpp>

#include "io/temp_dir.hpp"

using namespace hosm;
using hosm_test::temp_dir;

namespace {

/// A .npy file with the given header text (padded as a writer would) and payload.
std::string make_npy(const std::string& dict, const std::string& payload, int major = 1) {
    std::string h = dict;
    const std::size_t pre = major == 1 ? 10 : 12;
    h.append((64 - (pre + h.size() + 1) % 64) % 64, ' ');
    h += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(major);
    out += '\0';
    const std::size_t n = h.size();
    out += static_cast<char>(n & 0xFF);
    out += static_cast<char>((n >> 8) & 0xFF);
    if (major != 1) out += std::string(2, '\0');
    return out + h + payload;
}

std::string doubles(std::initializer_list<double> v) {
    std::string s(v.size() * 8, '\0');
    std::memcpy(s.data(), std::data(v), s.size());
    return s;
}

std::vector<io::array> sample_arrays() {
    std::vector<io::array> out;
    const double dn = std::numeric_limits<double>::denorm_min();
    const double d[6] = {1.5, -0.0, std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::infinity(), dn, -1e300};
    const float f[24] = {0.f, 1.f, -2.5f, std::numeric_limits<float>::denorm_min(), 3.f, 4.f, 5.f, 6.f,
                         7.f, 8.f, 9.f, 10.f, 11.f, 12.f, 13.f, 14.f, 15.f, 16.f, 17.f, 18.f, 19.f, 20.f,
                         21.f, -std::numeric_limits<float>::infinity()};
    const std::int64_t i[5] = {std::numeric_limits<std::int64_t>::min(), -1, 0, 1,
                               std::numeric_limits<std::int64_t>::max()};
    const std::uint64_t u[3] = {0, 1, std::numeric_limits<std::uint64_t>::max()};
    out.push_back(io::array::scalar(2.75));
    out.push_back(io::array::scalar(std::int64_t(-7)));
    out.push_back(io::array::from(d, {0}));
    out.push_back(io::array::from(d, {6}));
    out.push_back(io::array::from(d, {2, 3}, false));
    out.push_back(io::array::from(d, {2, 3}, true));
    out.push_back(io::array::from(d, {0, 3}, true));
    out.push_back(io::array::from(f, {2, 3, 4}, false));
    out.push_back(io::array::from(f, {2, 3, 4}, true));
    out.push_back(io::array::from(i, {5}));
    out.push_back(io::array::from(u, {3, 1}, true));
    return out;
}

}  // namespace

TEST_CASE("io::encode_npy: the exact bytes of a small file") {
    const double v[3] = {1.0, 2.0, 3.0};
    const std::string b = io::encode_npy(io::array::from(v, {3}));
    const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
    // 10 + 57 + 1 = 68 bytes before padding: padded to 128, so H = 118
    REQUIRE(dict.size() == 57);
    REQUIRE(b.size() == 128 + 24);
    CHECK(b.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    CHECK(static_cast<unsigned char>(b[8]) == 118);  // header length, little-endian
    CHECK(b[9] == 0);
    CHECK(b.substr(10, dict.size()) == dict);
    CHECK(b.substr(10 + dict.size(), 127 - 10 - dict.size()) == std::string(127 - 10 - dict.size(), ' '));
    CHECK(b[127] == '\n');
    CHECK(b.substr(128) == doubles({1.0, 2.0, 3.0}));
    // Fortran order is written for matrices; scalars have shape ()
    matrix<float> m(2, 3);
    m.setZero();
    CHECK(io::encode_npy(io::array::from_eigen(m)).find("'fortran_order': True, 'shape': (2, 3), }") !=
          std::string::npos);
    CHECK(io::encode_npy(io::array::scalar(1.0f)).find("'descr': '<f4', 'fortran_order': False, 'shape': (), }") !=
          std::string::npos);
}

TEST_CASE("io::npy: round trips of every dtype and shape, bitwise") {
    for (const io::array& a : sample_arrays()) {
        const std::string b = io::encode_npy(a);
        CHECK(b.size() % 64 == a.nbytes() % 64);  // data starts 64-byte aligned
        const io::array r = io::decode_npy(b);
        CHECK(r == a);
        CHECK(r.shape() == a.shape());
        CHECK(r.type() == a.type());
    }
    temp_dir dir;
    const auto p = dir / "x.npy";
    const io::array a = sample_arrays()[7];
    io::save_npy(p, a);
    CHECK(io::load_npy(p) == a);
    io::save_npy(p, sample_arrays()[3]);  // overwrite
    CHECK(io::load_npy(p) == sample_arrays()[3]);
    int entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path)) ++entries;
    CHECK(entries == 1);  // no temporary files left behind
}

TEST_CASE("io::decode_npy: headers other writers may produce") {
    const std::string p6 = doubles({1, 2, 3, 4, 5, 6});
    // double quotes, no trailing comma, no spaces, keys in another order
    io::array a = io::decode_npy(make_npy("{\"shape\":(2,3),\"fortran_order\":True,\"descr\":\"<f8\"}", p6));
    CHECK(a.fortran_order());
    CHECK(a.to_matrix<double>()(1, 0) == 2.0);
    // C order: row-major
    a = io::decode_npy(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", p6));
    CHECK(a.to_matrix<double>()(1, 0) == 4.0);
    // trailing comma inside the tuple, version 2.0
    a = io::decode_npy(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", p6, 2));
    CHECK(a.size() == 6);
    a = io::decode_npy(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3,), }", p6));
    CHECK(a.shape() == std::vector<index_t>{2, 3});
}

TEST_CASE("io::decode_npy: malformed files raise hosm::error saying what is wrong") {
    const std::string p6 = doubles({1, 2, 3, 4, 5, 6});
    const std::string ok = "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }";
    auto bad = [&](const std::string& bytes, const char* what) {
        CAPTURE(what);
        CHECK_THROWS_WITH_AS(io::decode_npy(bytes, "file 'f.npy'"), doctest::Contains(what), hosm::error);
        CHECK_THROWS_WITH_AS(io::decode_npy(bytes, "file 'f.npy'"), doctest::Contains("file 'f.npy'"),
                             hosm::error);
    };
    std::string magic = make_npy(ok, p6);
    magic[1] = 'M';
    bad(magic, "bad magic");
    std::string version = make_npy(ok, p6);
    version[6] = 4;
    bad(version, "version 4.0");
    version[6] = 1, version[7] = 1;
    bad(version, "version 1.1");
    bad("\x93NUMPY\x01", "truncated");
    std::string hlen = make_npy(ok, "");
    hlen[9] = 0x7F;
    bad(hlen, "the header claims");
    bad(make_npy(ok, p6.substr(0, 40)), "the header claims 48 bytes of data");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (7,), }", p6), "claims 56 bytes");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000000000), }", p6),
        "claims 8000000000000000000 bytes");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", p6),
        "too large");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000, 4000000000, 4000000000), }", p6),
        "overflows");
    bad(make_npy(ok, p6 + "xx"), "2 unexpected bytes");
    bad(make_npy("{'descr': '>f8', 'fortran_order': False, 'shape': (6,), }", p6), "unsupported dtype '>f8'");
    bad(make_npy("{'descr': '<f2', 'fortran_order': False, 'shape': (6,), }", p6), "unsupported dtype '<f2'");
    bad(make_npy("{'descr': '|u1', 'fortran_order': False, 'shape': (6,), }", p6), "unsupported dtype '|u1'");
    bad(make_npy("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (6,), }", p6), "structured");
    bad(make_npy("{'descr': '<f8', 'fortran_order': false, 'shape': (6,), }", p6), "True or False");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6), }", p6), "1-tuple");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-6,), }", p6), "negative dimension");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }", p6), "expected a dimension");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': [6], }", p6), "must be a tuple");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, }", p6), "no 'shape'");
    bad(make_npy("{'descr': '<f8', 'shape': (6,), }", p6), "no 'fortran_order'");
    bad(make_npy("{'fortran_order': False, 'shape': (6,), }", p6), "no 'descr'");
    bad(make_npy("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", p6),
        "duplicate key 'descr'");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), 'x': 1}", p6), "unexpected key 'x'");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6,) ", p6), "expected ',' or '}'");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6,)} x", p6), "after the header dict");
    bad(make_npy("('descr', '<f8')", p6), "must be a dict");
    bad(make_npy("{'descr: '<f8', 'fortran_order': False, 'shape': (6,)}", p6), "expected ':'");
    bad(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6,)", p6), "expected ',' or '}'");
}

TEST_CASE("io::decode_npy: every truncation and every header bit flip is caught") {
    for (const io::array& a : sample_arrays()) {
        const std::string b = io::encode_npy(a);
        bool all_throw = true;
        for (std::size_t cut = 0; cut < b.size(); ++cut) {
            try {
                (void)io::decode_npy(std::string_view(b).substr(0, cut));
                all_throw = false;
            } catch (const hosm::error&) {
            }
        }
        CHECK(all_throw);
        const std::size_t header_end = b.size() - a.nbytes();
        bool safe = true;
        for (std::size_t i = 0; i < header_end; ++i)
            for (int bit = 0; bit < 8; ++bit) {
                std::string c = b;
                c[i] = static_cast<char>(c[i] ^ (1 << bit));
                try {
                    const io::array r = io::decode_npy(c);
                    // an empty array's shape is protected by nothing (no data, no
                    // checksum in .npy): (0, 3) -> (0, 2) is undetectable
                    if (!(r == a) && !(a.size() == 0 && r.size() == 0)) {
                        MESSAGE("flip of byte ", i, " bit ", bit, " decoded to a different array");
                        safe = false;
                    }
                } catch (const hosm::error&) {
                }
            }
        CHECK(safe);
    }
}

TEST_CASE("io::load_npy / save_npy: file errors name the file") {
    temp_dir dir;
    const auto missing = dir / "missing.npy";
    CHECK_THROWS_WITH_AS(io::load_npy(missing), doctest::Contains(("cannot open file '" + missing.string()).c_str()),
                         hosm::error);
    const auto p = dir / "bad.npy";
    hosm_test::write_bytes(p, "not a numpy file at all");
    CHECK_THROWS_WITH_AS(io::load_npy(p), doctest::Contains(("file '" + p.string() + "': not a .npy").c_str()),
                         hosm::error);
    CHECK_THROWS_WITH_AS(io::load_npy(dir.path), doctest::Contains("is a directory"), hosm::error);
    CHECK_THROWS_WITH_AS(io::save_npy(dir / "no-such-dir" / "x.npy", io::array()),
                         doctest::Contains("cannot write file"), hosm::error);
}

TEST_CASE("io::npy: NumPy reads hosm's files and hosm reads NumPy's") {
    if (!hosm_test::have_numpy()) {
        MESSAGE("python3 with numpy not found: NumPy interoperability of .npy not checked");
        return;
    }
    temp_dir dir;
    matrix<double> m(3, 4);
    for (index_t i = 0; i < 3; ++i)
        for (index_t j = 0; j < 4; ++j) m(i, j) = double(i) + 10.0 * double(j);
    io::save_npy(dir / "m.npy", io::array::from_eigen(m));
    const std::int64_t iv[3] = {-3, 0, 9000000000};
    io::save_npy(dir / "i.npy", io::array::from(iv, {3}));
    io::save_npy(dir / "s.npy", io::array::scalar(0.25f));
    hosm_test::write_bytes(dir / "check.py", R"PY(
import sys, os, numpy as np
d = sys.argv[1]
m = np.load(os.path.join(d, "m.npy"))
assert m.dtype == np.float64 and m.shape == (3, 4), (m.dtype, m.shape)
assert (m == np.add.outer(np.arange(3.0), 10.0 * np.arange(4.0))).all(), m
i = np.load(os.path.join(d, "i.npy"))
assert i.dtype == np.int64 and i.tolist() == [-3, 0, 9000000000], i
s = np.load(os.path.join(d, "s.npy"))
assert s.dtype == np.float32 and s.shape == () and s == 0.25, s
np.save(os.path.join(d, "c.npy"), np.arange(12, dtype=np.float32).reshape(3, 4))
np.save(os.path.join(d, "f.npy"), np.asfortranarray(np.arange(6, dtype=np.uint64).reshape(2, 3)))
np.save(os.path.join(d, "e.npy"), np.zeros((0, 2)))
)PY");
    REQUIRE(hosm_test::run_python(dir / "check.py", dir.path) == 0);
    const io::array c = io::load_npy(dir / "c.npy");
    CHECK(c.type() == io::dtype::float32);
    CHECK(!c.fortran_order());
    const matrix<float> cm = c.to_matrix<float>();
    REQUIRE(cm.rows() == 3);
    REQUIRE(cm.cols() == 4);
    CHECK(cm(2, 1) == 9.0f);  // row-major arange
    CHECK(cm(1, 3) == 7.0f);
    const io::array f = io::load_npy(dir / "f.npy");
    CHECK(f.fortran_order());
    CHECK(f.to_vector<std::uint64_t>() == std::vector<std::uint64_t>{0, 3, 1, 4, 2, 5});
    CHECK(f.to_matrix<std::uint64_t>()(1, 2) == 5u);
    const io::array e = io::load_npy(dir / "e.npy");
    CHECK(e.shape() == std::vector<index_t>{0, 2});
}
