// hosm/io/csv.hpp — a small table of results, written as CSV or rendered as
// a Markdown pipe table (for reproductions of the papers' tables).
//
//   io::csv t({"method", "dim", "mse"});
//   t.row("D2SM", 100, 0.0123).row("autodiff", 100, 1.5e-3);
//   t.to_csv()        method,dim,mse\nD2SM,100,0.0123\nautodiff,100,0.0015\n
//   t.to_markdown()   | method   | dim |    mse |
//                     | -------- | --: | -----: |
//                     | D2SM     | 100 | 0.0123 |
//                     | autodiff | 100 | 0.0015 |
//   t.save_csv(path), t.save_markdown(path)       atomic writes
//
// Cells: strings as given; bool as true/false; integers in decimal;
// floating-point values with `precision` significant digits in the shortest
// of fixed or scientific notation (printf's %.<precision>g: 0.0123, 1e-08,
// 1.5e+06), or, with precision 0, the shortest text that reads back as the
// same value (std::to_chars); non-finite values as nan, inf, -inf.
//
// CSV (RFC 4180 with '\n' line ends): a field holding ',', '"', '\r' or
// '\n' is quoted and its quotes doubled; every line, the last included,
// ends in '\n'.
// Markdown: columns padded to their widest cell (at least 3, counted in
// UTF-8 code points); a column whose data cells are all numbers is
// right-aligned ("--:", its header too), others left-aligned; '|' in a cell is written '\|'
// and a line break as <br>.
//
// Errors (hosm::error): no columns; a row with the wrong number of cells;
// precision outside [0, 40]; a cell index out of range; a file that cannot be
// written.
#pragma once
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>
#include <hosm/io/detail/file.hpp>

namespace hosm::io {

class csv {
public:
    explicit csv(std::vector<std::string> columns, int precision = 6)
        : header_(std::move(columns)), precision_(precision) {
        if (header_.empty()) hosm::detail::fail("io::csv", "argument 'columns' is empty");
        check_precision("io::csv", precision);
    }

    index_t columns() const { return static_cast<index_t>(header_.size()); }
    index_t rows() const { return static_cast<index_t>(cells_.size()); }
    const std::vector<std::string>& header() const { return header_; }
    int precision() const { return precision_; }
    void set_precision(int p) {
        check_precision("io::csv::set_precision", p);
        precision_ = p;
    }

    /// Appends a row; each argument is one cell (string, bool, integer or floating point).
    template <class... Cells>
    csv& row(const Cells&... cells) {
        if (sizeof...(Cells) != header_.size())
            hosm::detail::fail("io::csv::row", "a row of ", sizeof...(Cells), " cells, the table has ",
                               header_.size(), " columns");
        std::vector<std::string> text;
        std::vector<bool> numeric;
        (append_cell(text, numeric, cells), ...);
        cells_.push_back(std::move(text));
        numeric_.push_back(std::move(numeric));
        return *this;
    }

    /// Appends a row of already formatted cells (all treated as text).
    csv& add_row(std::vector<std::string> cells) {
        if (cells.size() != header_.size())
            hosm::detail::fail("io::csv::add_row", "a row of ", cells.size(), " cells, the table has ",
                               header_.size(), " columns");
        numeric_.emplace_back(cells.size(), false);
        cells_.push_back(std::move(cells));
        return *this;
    }

    const std::string& cell(index_t r, index_t c) const {
        if (r < 0 || r >= rows() || c < 0 || c >= columns())
            hosm::detail::fail("io::csv::cell", "cell (", r, ", ", c, ") is outside the ", rows(), " x ",
                               columns(), " table");
        return cells_[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
    }

    std::string to_csv() const {
        std::string out;
        write_csv_line(out, header_);
        for (const auto& r : cells_) write_csv_line(out, r);
        return out;
    }

    std::string to_markdown() const {
        const std::size_t nc = header_.size();
        std::vector<std::vector<std::string>> body;
        body.reserve(cells_.size());
        for (const auto& r : cells_) {
            std::vector<std::string> e;
            for (const auto& c : r) e.push_back(md_escape(c));
            body.push_back(std::move(e));
        }
        std::vector<std::string> head;
        for (const auto& h : header_) head.push_back(md_escape(h));
        std::vector<std::size_t> width(nc, 3);
        std::vector<bool> right(nc, !cells_.empty());
        for (std::size_t c = 0; c < nc; ++c) {
            width[c] = std::max(width[c], display_width(head[c]));
            for (std::size_t r = 0; r < body.size(); ++r) {
                width[c] = std::max(width[c], display_width(body[r][c]));
                if (!numeric_[r][c]) right[c] = false;
            }
        }
        std::string out;
        auto line = [&](const std::vector<std::string>& cells) {
            out += "|";
            for (std::size_t c = 0; c < nc; ++c) {
                const std::size_t pad = width[c] - display_width(cells[c]);
                out += ' ';
                if (right[c]) out.append(pad, ' ');
                out += cells[c];
                if (!right[c]) out.append(pad, ' ');
                out += " |";
            }
            out += '\n';
        };
        line(head);
        out += "|";
        for (std::size_t c = 0; c < nc; ++c) {
            out += ' ';
            out.append(width[c] - (right[c] ? 1 : 0), '-');
            if (right[c]) out += ':';
            out += " |";
        }
        out += '\n';
        for (const auto& r : body) line(r);
        return out;
    }

    void save_csv(const std::filesystem::path& path) const {
        detail::write_file_atomic("io::csv::save_csv", path, to_csv());
    }
    void save_markdown(const std::filesystem::path& path) const {
        detail::write_file_atomic("io::csv::save_markdown", path, to_markdown());
    }

    /// The text of a floating-point cell at `precision` (see the header comment).
    static std::string format(double v, int precision) {
        check_precision("io::csv::format", precision);
        if (std::isnan(v)) return "nan";
        if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
        char buf[128];
        if (precision == 0) {
            const auto r = std::to_chars(buf, buf + sizeof buf, v);
            return std::string(buf, r.ptr);
        }
        const int n = std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        return std::string(buf, static_cast<std::size_t>(n));
    }

private:
    static void check_precision(const char* where, int p) {
        if (p < 0 || p > 40) hosm::detail::fail(where, "argument 'precision' = ", p, " must be in [0, 40]");
    }

    template <class C>
    void append_cell(std::vector<std::string>& text, std::vector<bool>& numeric, const C& v) const {
        using D = std::decay_t<C>;
        if constexpr (std::is_same_v<D, bool>) {
            text.emplace_back(v ? "true" : "false");
            numeric.push_back(false);
        } else if constexpr (std::is_same_v<D, char>) {
            text.emplace_back(1, v);
            numeric.push_back(false);
        } else if constexpr (std::is_integral_v<D>) {
            text.push_back(std::to_string(v));
            numeric.push_back(true);
        } else if constexpr (std::is_floating_point_v<D>) {
            if (precision_ == 0 && std::is_same_v<D, float>) {
                char buf[64];
                const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<float>(v));
                text.emplace_back(buf, r.ptr);
            } else {
                text.push_back(format(static_cast<double>(v), precision_));
            }
            numeric.push_back(true);
        } else {
            static_assert(std::is_convertible_v<const C&, std::string_view>,
                          "hosm: io::csv cells are strings, bool, integers or floating-point values");
            text.emplace_back(std::string_view(v));
            numeric.push_back(false);
        }
    }

    static void write_csv_line(std::string& out, const std::vector<std::string>& cells) {
        for (std::size_t c = 0; c < cells.size(); ++c) {
            if (c > 0) out += ',';
            const std::string& s = cells[c];
            if (s.find_first_of(",\"\r\n") == std::string::npos) {
                out += s;
            } else {
                out += '"';
                for (char ch : s) {
                    if (ch == '"') out += '"';
                    out += ch;
                }
                out += '"';
            }
        }
        out += '\n';
    }

    static std::string md_escape(const std::string& s) {
        std::string out;
        for (std::size_t i = 0; i < s.size(); ++i) {
            const char ch = s[i];
            if (ch == '|') {
                out += "\\|";
            } else if (ch == '\r' || ch == '\n') {
                out += "<br>";
                if (ch == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
            } else {
                out += ch;
            }
        }
        return out;
    }

    /// Number of UTF-8 code points (bytes that are not continuation bytes).
    static std::size_t display_width(const std::string& s) {
        std::size_t n = 0;
        for (char ch : s)
            if ((static_cast<unsigned char>(ch) & 0xC0u) != 0x80u) ++n;
        return n;
    }

    std::vector<std::string> header_;
    int precision_;
    std::vector<std::vector<std::string>> cells_;
    std::vector<std::vector<bool>> numeric_;
};

}  // namespace hosm::io
