// hosm/io/detail/zip.hpp — uncompressed (STORED) ZIP archives in memory, the
// container of NumPy's .npz files (PKWARE APPNOTE 6.3.x, sections 4.3-4.5).
//
// Layout written (all integers little-endian):
//   for each member: local file header (30 bytes: signature 0x04034b50,
//     version needed 20, flags, method 0 = STORED, DOS time/date fixed to
//     1980-01-01 00:00 so archives are byte-reproducible, CRC-32, compressed
//     size = size, name length, extra length 0), the name, the data;
//   central directory: one 46-byte header (signature 0x02014b50) + name per
//     member, with the local header's offset;
//   end of central directory record (22 bytes, signature 0x06054b50): member
//     count, directory size and offset, no comment.
// Flag bit 11 (UTF-8 name) is set for names with non-ASCII bytes. Archives
// needing ZIP64 (> 65535 members, or sizes / offsets >= 4 GiB) are refused.
//
// Reading trusts nothing: it finds the end record (checking that its comment
// length ends exactly at the end of the file), rejects multi-disk and ZIP64
// end records, walks the central directory within its declared bounds, and
// for every member checks the local header signature, that its name, method,
// CRC and sizes agree with the central directory (unless flag bit 3 defers
// them to a data descriptor), that the data lies inside the archive, that the
// method is STORED and the member not encrypted, and finally the CRC-32 of
// the data. ZIP64 extra fields (id 0x0001) in local and central headers are
// understood: NumPy's np.savez writes them (force_zip64) even for small
// members. Any failure is a hosm::error naming `source` and the problem.
//
//   zip_store(where, context, members) -> bytes   members: {name, data} pairs;
//                                             context prefixes error messages
//   zip_read(bytes, where, source) -> vector<zip_entry>{name, data view}
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hosm/core/error.hpp>
#include <hosm/io/detail/crc32.hpp>
#include <hosm/io/detail/little_endian.hpp>

namespace hosm::io::detail {

/// One member of a read archive: its name and a view of its bytes.
struct zip_entry {
    std::string name;
    std::string_view data;
};

inline constexpr std::uint32_t zip_local_sig = 0x04034b50u;
inline constexpr std::uint32_t zip_central_sig = 0x02014b50u;
inline constexpr std::uint32_t zip_end_sig = 0x06054b50u;
inline constexpr std::uint16_t zip_dos_date = (0u << 9) | (1u << 5) | 1u;  // 1980-01-01

inline std::string hex32(std::uint32_t v) {
    char b[11];
    std::snprintf(b, sizeof b, "0x%08x", static_cast<unsigned>(v));
    return b;
}

inline std::string zip_store(const char* where, std::string_view context,
                             const std::vector<std::pair<std::string, std::string>>& members) {
    constexpr std::uint64_t max32 = 0xFFFFFFFFull;
    if (members.size() >= 0xFFFF)
        hosm::detail::fail(where, context, "too many arrays (", members.size(), ") for a ZIP archive without ZIP64");
    std::string out;
    std::vector<std::uint32_t> offsets, crcs;
    std::vector<std::uint16_t> flags;
    for (const auto& [name, data] : members) {
        if (name.empty() || name.size() > 0xFFFF)
            hosm::detail::fail(where, context, "member name of length ", name.size(), " is not allowed");
        if (data.size() >= max32 || out.size() >= max32)
            hosm::detail::fail(where, context, "the archive would exceed 4 GiB, which needs ZIP64 (not supported)");
        std::uint16_t f = 0;
        for (char c : name)
            if (static_cast<unsigned char>(c) >= 0x80) f = 0x0800;
        const std::uint32_t crc = crc32(data.data(), data.size());
        offsets.push_back(static_cast<std::uint32_t>(out.size()));
        crcs.push_back(crc);
        flags.push_back(f);
        put_le<std::uint32_t>(out, zip_local_sig);
        put_le<std::uint16_t>(out, 20);  // version needed
        put_le<std::uint16_t>(out, f);
        put_le<std::uint16_t>(out, 0);  // STORED
        put_le<std::uint16_t>(out, 0);  // time 00:00:00
        put_le<std::uint16_t>(out, zip_dos_date);
        put_le<std::uint32_t>(out, crc);
        put_le<std::uint32_t>(out, static_cast<std::uint32_t>(data.size()));
        put_le<std::uint32_t>(out, static_cast<std::uint32_t>(data.size()));
        put_le<std::uint16_t>(out, static_cast<std::uint16_t>(name.size()));
        put_le<std::uint16_t>(out, 0);  // extra length
        out += name;
        out += data;
    }
    if (out.size() >= max32)
        hosm::detail::fail(where, context, "the archive would exceed 4 GiB, which needs ZIP64 (not supported)");
    const std::size_t cd_off = out.size();
    for (std::size_t k = 0; k < members.size(); ++k) {
        const auto& [name, data] = members[k];
        put_le<std::uint32_t>(out, zip_central_sig);
        put_le<std::uint16_t>(out, 20);  // version made by: MS-DOS, 2.0
        put_le<std::uint16_t>(out, 20);  // version needed
        put_le<std::uint16_t>(out, flags[k]);
        put_le<std::uint16_t>(out, 0);  // STORED
        put_le<std::uint16_t>(out, 0);
        put_le<std::uint16_t>(out, zip_dos_date);
        put_le<std::uint32_t>(out, crcs[k]);
        put_le<std::uint32_t>(out, static_cast<std::uint32_t>(data.size()));
        put_le<std::uint32_t>(out, static_cast<std::uint32_t>(data.size()));
        put_le<std::uint16_t>(out, static_cast<std::uint16_t>(name.size()));
        put_le<std::uint16_t>(out, 0);  // extra
        put_le<std::uint16_t>(out, 0);  // comment
        put_le<std::uint16_t>(out, 0);  // disk number start
        put_le<std::uint16_t>(out, 0);  // internal attributes
        put_le<std::uint32_t>(out, 0);  // external attributes
        put_le<std::uint32_t>(out, offsets[k]);
        out += name;
    }
    const std::size_t cd_size = out.size() - cd_off;
    if (out.size() >= max32)
        hosm::detail::fail(where, context, "the archive would exceed 4 GiB, which needs ZIP64 (not supported)");
    put_le<std::uint32_t>(out, zip_end_sig);
    put_le<std::uint16_t>(out, 0);  // this disk
    put_le<std::uint16_t>(out, 0);  // disk with the central directory
    put_le<std::uint16_t>(out, static_cast<std::uint16_t>(members.size()));
    put_le<std::uint16_t>(out, static_cast<std::uint16_t>(members.size()));
    put_le<std::uint32_t>(out, static_cast<std::uint32_t>(cd_size));
    put_le<std::uint32_t>(out, static_cast<std::uint32_t>(cd_off));
    put_le<std::uint16_t>(out, 0);  // comment length
    return out;
}

class zip_reader {
public:
    zip_reader(std::string_view bytes, const char* where, std::string_view source)
        : b_(bytes), where_(where), source_(source) {}

    std::vector<zip_entry> read() {
        const std::size_t n = b_.size();
        if (n < 22)
            bad("truncated or not a ZIP archive: ", n, " bytes, shorter than an end-of-central-directory record");
        // The end record: the last signature whose comment ends exactly at the end of the file.
        std::size_t end = npos;
        const std::size_t lowest = n - 22 > 0xFFFF ? n - 22 - 0xFFFF : 0;
        for (std::size_t pos = n - 22;; --pos) {
            if (u32(pos) == zip_end_sig && pos + 22 + u16(pos + 20) == n) {
                end = pos;
                break;
            }
            if (pos == lowest) break;
        }
        if (end == npos) bad("truncated or not a ZIP archive: no end-of-central-directory record");
        const std::uint16_t disk = u16(end + 4), cd_disk = u16(end + 6);
        const std::uint16_t entries_here = u16(end + 8), entries = u16(end + 10);
        const std::uint32_t cd_size = u32(end + 12), cd_off = u32(end + 16);
        if (entries == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu)
            bad("ZIP64 archive (more than 65535 members or larger than 4 GiB): not supported");
        if (disk != 0 || cd_disk != 0 || entries_here != entries)
            bad("multi-disk ZIP archives are not supported");
        if (std::size_t(cd_off) + cd_size > end)
            bad("corrupt or truncated: the central directory (", cd_size, " bytes at offset ", cd_off,
                ") overlaps the end record at offset ", end);
        cd_end_ = std::size_t(cd_off) + cd_size;
        data_end_ = cd_off;

        struct central {
            std::string name;
            std::uint16_t flags, method;
            std::uint32_t crc;
            std::uint64_t csize, usize, offset;
        };
        std::vector<central> dir;
        std::size_t p = cd_off;
        for (std::size_t k = 0; k < entries; ++k) {
            if (p + 46 > cd_end_) bad("corrupt or truncated: central directory entry ", k, " is cut short");
            if (u32(p) != zip_central_sig)
                bad("corrupt: bad signature of central directory entry ", k, " at offset ", p);
            central c;
            c.flags = u16(p + 8);
            c.method = u16(p + 10);
            c.crc = u32(p + 16);
            c.csize = u32(p + 20);
            c.usize = u32(p + 24);
            const std::size_t nlen = u16(p + 28), xlen = u16(p + 30), clen = u16(p + 32);
            c.offset = u32(p + 42);
            if (p + 46 + nlen + xlen + clen > cd_end_)
                bad("corrupt or truncated: central directory entry ", k, " is cut short");
            c.name.assign(b_.data() + p + 46, nlen);
            zip64_extra(b_.substr(p + 46 + nlen, xlen), c.name, &c.usize, &c.csize, &c.offset);
            if (c.flags & 0x1u) bad("member '", c.name, "' is encrypted");
            if (c.method != 0)
                bad("member '", c.name, "' is compressed (method ", c.method,
                    "; e.g. np.savez_compressed): hosm reads only uncompressed (STORED) members, "
                    "as np.savez writes");
            if (c.csize != c.usize)
                bad("corrupt: STORED member '", c.name, "' has compressed size ", c.csize, " != size ", c.usize);
            dir.push_back(std::move(c));
            p += 46 + nlen + xlen + clen;
        }
        if (p != cd_end_)
            bad("corrupt: the central directory holds ", p - cd_off, " bytes of entries, the end record says ",
                cd_size);

        std::vector<zip_entry> out;
        for (const central& c : dir) {
            const std::uint64_t lo = c.offset;
            // (every bound is checked by subtraction: 64-bit ZIP64 values cannot wrap it)
            if (lo > data_end_ || data_end_ - lo < 30)
                bad("corrupt or truncated: the local header of member '", c.name, "' (offset ", lo,
                    ") lies outside the archive's data");
            if (u32(lo) != zip_local_sig) bad("corrupt: bad local header signature of member '", c.name, "'");
            const std::uint16_t lflags = u16(lo + 6), lmethod = u16(lo + 8);
            std::uint32_t lcrc = u32(lo + 14);
            std::uint64_t lcsize = u32(lo + 18), lusize = u32(lo + 22);
            const std::size_t nlen = u16(lo + 26), xlen = u16(lo + 28);
            if (data_end_ - lo - 30 < nlen + xlen)
                bad("corrupt or truncated: the local header of member '", c.name, "' is cut short");
            if (std::string_view(b_.data() + lo + 30, nlen) != c.name)
                bad("corrupt: the local header of member '", c.name, "' names '",
                    std::string_view(b_.data() + lo + 30, nlen), "'");
            if (lmethod != c.method || (lflags & 0x1u) != (c.flags & 0x1u))
                bad("corrupt: the local header of member '", c.name, "' disagrees with the central directory");
            if (!(lflags & 0x8u)) {  // no data descriptor: the local header holds CRC and sizes
                std::uint64_t dummy_offset = 0;
                zip64_extra(b_.substr(lo + 30 + nlen, xlen), c.name, &lusize, &lcsize, &dummy_offset);
                if (lcrc != c.crc || lcsize != c.csize || lusize != c.usize)
                    bad("corrupt: the local header of member '", c.name, "' (CRC ", hex32(lcrc), ", size ",
                        lusize, ") disagrees with the central directory (CRC ", hex32(c.crc), ", size ",
                        c.usize, ")");
            }
            const std::uint64_t start = lo + 30 + nlen + xlen;
            if (c.csize > data_end_ - start)
                bad("corrupt or truncated: the data of member '", c.name, "' (", c.csize, " bytes at offset ",
                    start, ") runs past the end of the archive's data (offset ", data_end_, ")");
            const std::string_view data = b_.substr(start, c.csize);
            const std::uint32_t crc = crc32(data.data(), data.size());
            if (crc != c.crc)
                bad("corrupt: CRC-32 mismatch in member '", c.name, "' (stored ", hex32(c.crc), ", computed ",
                    hex32(crc), ")");
            out.push_back({c.name, data});
        }
        return out;
    }

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    template <class... Parts>
    [[noreturn]] void bad(Parts&&... parts) const {
        hosm::detail::fail(where_, source_, ": ", std::forward<Parts>(parts)...);
    }
    std::uint16_t u16(std::uint64_t at) const { return get_le<std::uint16_t>(b_.data() + at); }
    std::uint32_t u32(std::uint64_t at) const { return get_le<std::uint32_t>(b_.data() + at); }

    /// Replaces the fields that are 0xFFFFFFFF by their 64-bit values from
    /// the ZIP64 extra field (id 1), in the order usize, csize, offset.
    void zip64_extra(std::string_view extra, const std::string& name, std::uint64_t* usize,
                     std::uint64_t* csize, std::uint64_t* offset) const {
        const bool need = *usize == 0xFFFFFFFFu || *csize == 0xFFFFFFFFu || *offset == 0xFFFFFFFFu;
        std::size_t q = 0;
        while (q + 4 <= extra.size()) {
            const std::uint16_t id = get_le<std::uint16_t>(extra.data() + q);
            const std::size_t len = get_le<std::uint16_t>(extra.data() + q + 2);
            if (q + 4 + len > extra.size()) bad("corrupt: an extra field of member '", name, "' is cut short");
            if (id == 0x0001) {
                std::size_t r = q + 4;
                for (std::uint64_t* f : {usize, csize, offset}) {
                    if (*f != 0xFFFFFFFFu) continue;
                    if (r + 8 > q + 4 + len) bad("corrupt: the ZIP64 extra field of member '", name, "' is short");
                    *f = get_le<std::uint64_t>(extra.data() + r);
                    r += 8;
                }
                return;
            }
            q += 4 + len;
        }
        if (need) bad("corrupt: member '", name, "' has 32-bit size fields of 0xFFFFFFFF but no ZIP64 extra field");
    }

    std::string_view b_;
    const char* where_;
    std::string_view source_;
    std::size_t cd_end_ = 0, data_end_ = 0;
};

inline std::vector<zip_entry> zip_read(std::string_view bytes, const char* where, std::string_view source) {
    return zip_reader(bytes, where, source).read();
}

}  // namespace hosm::io::detail
