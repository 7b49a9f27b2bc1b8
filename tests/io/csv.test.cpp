// Tests of io::csv (hosm/io/csv.hpp): exact CSV and Markdown output strings,
// number formatting, quoting and escaping, file output, and the checks.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <doctest/doctest.h>

#include <hosm/io/csv.hpp>

#include "io/temp_dir.hpp"

using namespace hosm;

TEST_CASE("io::csv: CSV and Markdown renderings, exact") {
    io::csv t({"method", "dim", "mse"});
    t.row("D2SM", 100, 0.0123).row(std::string("autodiff"), std::int64_t(100), 1.5e-3);
    CHECK(t.rows() == 2);
    CHECK(t.columns() == 3);
    CHECK(t.cell(1, 2) == "0.0015");
    CHECK(t.to_csv() ==
          "method,dim,mse\n"
          "D2SM,100,0.0123\n"
          "autodiff,100,0.0015\n");
    CHECK(t.to_markdown() ==
          "| method   | dim |    mse |\n"
          "| -------- | --: | -----: |\n"
          "| D2SM     | 100 | 0.0123 |\n"
          "| autodiff | 100 | 0.0015 |\n");
}

TEST_CASE("io::csv: number formatting") {
    CHECK(io::csv::format(0.1, 6) == "0.1");
    CHECK(io::csv::format(1e-8, 6) == "1e-08");
    CHECK(io::csv::format(1234567.0, 6) == "1.23457e+06");
    CHECK(io::csv::format(2.0 / 3.0, 3) == "0.667");
    CHECK(io::csv::format(0.1, 0) == "0.1");               // shortest round trip
    CHECK(io::csv::format(2.0 / 3.0, 0) == "0.6666666666666666");
    CHECK(io::csv::format(std::nan(""), 6) == "nan");
    CHECK(io::csv::format(-std::numeric_limits<double>::infinity(), 6) == "-inf");
    io::csv t({"a", "b", "c", "d"}, 0);
    t.row(0.1f, true, -7, 'x');
    CHECK(t.to_csv() == "a,b,c,d\n0.1,true,-7,x\n");  // float shortest: 0.1, not 0.10000000149011612
}

TEST_CASE("io::csv: quoting, escaping, alignment and width") {
    io::csv t({"name", "note"});
    t.row("a,b", "say \"hi\"").row("line\nbreak", "x|y").row("σ", "");
    CHECK(t.to_csv() ==
          "name,note\n"
          "\"a,b\",\"say \"\"hi\"\"\"\n"
          "\"line\nbreak\",x|y\n"
          "σ,\n");
    // text columns are left-aligned; widths count UTF-8 code points
    CHECK(t.to_markdown() ==
          "| name          | note     |\n"
          "| ------------- | -------- |\n"
          "| a,b           | say \"hi\" |\n"
          "| line<br>break | x\\|y     |\n"
          "| σ             |          |\n");
    // a column with one text cell is left-aligned; an empty table has text columns
    io::csv m({"k", "v"});
    m.row("x", 1).add_row({"y", "n/a"});
    CHECK(m.to_markdown() ==
          "| k   | v   |\n"
          "| --- | --- |\n"
          "| x   | 1   |\n"
          "| y   | n/a |\n");
    CHECK(io::csv({"only"}).to_markdown() == "| only |\n| ---- |\n");
    CHECK(io::csv({"only"}).to_csv() == "only\n");
}

TEST_CASE("io::csv: files and errors") {
    hosm_test::temp_dir dir;
    io::csv t({"x", "y"});
    t.row(1, 2.5);
    t.save_csv(dir / "t.csv");
    t.save_markdown(dir / "t.md");
    CHECK(hosm_test::read_bytes(dir / "t.csv") == "x,y\n1,2.5\n");
    CHECK(hosm_test::read_bytes(dir / "t.md") == "|   x |   y |\n| --: | --: |\n|   1 | 2.5 |\n");
    CHECK_THROWS_WITH_AS(t.save_csv(dir / "missing" / "t.csv"), doctest::Contains("cannot write file"), hosm::error);
    CHECK_THROWS_WITH_AS(io::csv({}), doctest::Contains("'columns' is empty"), hosm::error);
    CHECK_THROWS_WITH_AS(io::csv({"a"}, -1), doctest::Contains("'precision' = -1"), hosm::error);
    CHECK_THROWS_WITH_AS(t.row(1), doctest::Contains("a row of 1 cells, the table has 2 columns"), hosm::error);
    CHECK_THROWS_WITH_AS(t.add_row({"a", "b", "c"}), doctest::Contains("a row of 3 cells"), hosm::error);
    CHECK_THROWS_WITH_AS(t.cell(1, 0), doctest::Contains("cell (1, 0) is outside the 1 x 2 table"), hosm::error);
    CHECK(t.rows() == 1);  // failed rows are not added
}
