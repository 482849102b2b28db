// tests/report/svg_chart_test.cpp — nice ticks, and data -> SVG coordinates checked by hand.
#include "ptft/report/svg_chart.h"

#include <gtest/gtest.h>

#include <set>

#include <string>

namespace ptft::report {
namespace {

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(NiceTicks, StepsOfOneTwoFive) {
  AxisTicks t = nice_ticks(0, 10, 6);  // raw step 2
  EXPECT_DOUBLE_EQ(t.lo, 0);
  EXPECT_DOUBLE_EQ(t.hi, 10);
  EXPECT_DOUBLE_EQ(t.step, 2);
  EXPECT_EQ(t.values, (std::vector<double>{0, 2, 4, 6, 8, 10}));

  t = nice_ticks(0.13, 0.87, 6);  // step 0.1 needs 9 ticks (0.1 .. 0.9), 0.2 needs 6 (0 .. 1)
  EXPECT_NEAR(t.step, 0.2, 1e-12);
  ASSERT_EQ(t.values.size(), 6u);
  EXPECT_NEAR(t.values[3], 0.6, 1e-12);
  EXPECT_DOUBLE_EQ(t.values.front(), 0);
  EXPECT_DOUBLE_EQ(t.values.back(), 1);

  t = nice_ticks(-7, 42, 6);  // 10 needs 7 ticks (-10 .. 50): the next magnitude, 20
  EXPECT_DOUBLE_EQ(t.step, 20);
  EXPECT_EQ(t.values, (std::vector<double>{-20, 0, 20, 40, 60}));
}

TEST(NiceTicks, OneValueIsWidened) {
  const AxisTicks t = nice_ticks(3, 3, 6);  // 2.7 .. 3.3 -> step 0.2: 2.6 .. 3.4
  EXPECT_LE(t.lo, 2.7);
  EXPECT_GE(t.hi, 3.3);
  EXPECT_NEAR(t.step, 0.2, 1e-12);
  EXPECT_EQ(nice_ticks(0, 0).values, (std::vector<double>{-1, -0.5, 0, 0.5, 1}));  // -1 .. 1, step 0.5
}

TEST(FormatTick, DecimalsOfTheStep) {
  EXPECT_EQ(format_tick(0.75, 0.25), "0.75");
  EXPECT_EQ(format_tick(3000, 1000), "3000");
  EXPECT_EQ(format_tick(0.2, 0.2), "0.2");
  EXPECT_EQ(format_tick(0, 0.2), "0.0");
  EXPECT_EQ(format_tick(2e-5, 1e-5), "2e-05");
  EXPECT_EQ(format_tick(300000, 100000), "300k");  // big ones in thousands / millions
  EXPECT_EQ(format_tick(1.5e6, 5e5), "1.5M");
  EXPECT_EQ(format_tick(12500, 2500), "12.5k");
}

TEST(LineChart, MapsPointsIntoThePlotBox) {
  LineChart c;  // 560 x 300, no legend (the series has no name)
  c.series.push_back({"", "#123456", {0, 5, 10}, {0, 0.5, 1}});
  const PlotBox b = c.plot_box();
  // left margin 58, right 16; top: title 24 + 6; bottom 40.
  EXPECT_DOUBLE_EQ(b.left, 58);
  EXPECT_DOUBLE_EQ(b.top, 30);
  EXPECT_DOUBLE_EQ(b.width, 486);
  EXPECT_DOUBLE_EQ(b.height, 230);
  // Axes 0..10 and 0..1 (nice already): (0,0) bottom-left, (10,1) top-right, (5,0.5) the middle.
  const std::string svg = render_svg(c);
  EXPECT_TRUE(has(svg, "points=\"58.0,260.0 301.0,145.0 544.0,30.0\"")) << svg;
  EXPECT_TRUE(has(svg, "stroke=\"#123456\""));
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_TRUE(has(svg, "</svg>"));
}

TEST(LineChart, LegendMovesTheBoxDown) {
  LineChart c;
  c.series.push_back({"train", "#1f77b4", {0, 10}, {0, 1}});
  EXPECT_DOUBLE_EQ(c.plot_box().top, 46);  // one legend row of 16 px
  const std::string svg = render_svg(c);
  EXPECT_TRUE(has(svg, ">train</text>"));
  EXPECT_TRUE(has(svg, "points=\"58.0,260.0 544.0,46.0\"")) << svg;
}

TEST(LineChart, LogAxis) {
  LineChart c;
  c.log_y = true;
  c.series.push_back({"", "#000", {0, 5, 10}, {1, 10, 100}});  // log10: 0, 1, 2 -> axis 0 .. 2
  const std::string svg = render_svg(c);
  EXPECT_TRUE(has(svg, "points=\"58.0,260.0 301.0,145.0 544.0,30.0\"")) << svg;
  EXPECT_TRUE(has(svg, ">100</text>"));
}

TEST(LineChart, MarkersAndEscaping) {
  LineChart c;
  c.title = "loss <&>";
  c.series.push_back({"run \"a\" <b>", "#000", {0, 10}, {0, 1}});
  c.markers.push_back({5, std::nullopt, "early stop", "#d62728"});
  c.markers.push_back({10, 1.0, "best 1 @ 10", "#ff7f0e"});
  const std::string svg = render_svg(c);
  EXPECT_TRUE(has(svg, "loss &lt;&amp;&gt;"));
  EXPECT_TRUE(has(svg, "run &quot;a&quot; &lt;b&gt;"));
  EXPECT_FALSE(has(svg, "<b>"));
  // The marker line at x = 5: the middle of the box, from its top (46) to its bottom (260).
  EXPECT_TRUE(has(svg, "x1=\"301.0\" y1=\"46.0\" x2=\"301.0\" y2=\"260.0\" stroke=\"#d62728\"")) << svg;
  EXPECT_TRUE(has(svg, "<circle class=\"marker\" cx=\"544.0\" cy=\"46.0\"")) << svg;
  EXPECT_TRUE(has(svg, ">best 1 @ 10</text>"));
}

// The best points of several runs at the same place: their labels go to different lines.
TEST(LineChart, ValueLabelsThatWouldOverlapMoveApart) {
  LineChart c;
  c.series.push_back({"a", "#000", {0, 10}, {0, 2}});
  c.markers.push_back({5, 1.0, "a: best 1 @ 5", "#111"});
  c.markers.push_back({5, 1.0, "b: best 1 @ 5", "#222"});
  c.markers.push_back({5, 1.0, "c: best 1 @ 5", "#333"});
  const std::string svg = render_svg(c);
  std::set<std::string> ys;
  for (size_t at = svg.find("<text x="); at != std::string::npos; at = svg.find("<text x=", at + 1)) {
    const size_t end = svg.find('>', at);
    const std::string tag = svg.substr(at, end - at);
    if (svg.compare(end + 1, 3, "a: ") && svg.compare(end + 1, 3, "b: ") && svg.compare(end + 1, 3, "c: ")) continue;
    const size_t y = tag.find(" y=\"");
    ys.insert(tag.substr(y + 4, tag.find('"', y + 4) - y - 4));
  }
  EXPECT_EQ(ys.size(), 3u) << svg;
}

TEST(LineChart, NoDataSaysSo) {
  LineChart c;
  c.series.push_back({"", "#000", {1}, {NAN}});
  EXPECT_TRUE(has(render_svg(c), "no data"));
}

TEST(HeatMap, CellsShadedByTheirShareOfTheRow) {
  HeatMap h;
  h.title = "confusion";
  h.row_labels = h.col_labels = {"cat", "<dog>"};
  h.values = {{8, 2}, {0, 10}};
  h.cell = 40;
  const std::string svg = render_svg(h);
  EXPECT_TRUE(has(svg, "fill=\"#08519c\""));  // 10 of 10
  EXPECT_TRUE(has(svg, "fill=\"#ffffff\""));  // 0 of 10
  // 0.8: 255 - 0.8 * (255 - 8) = 57.4 -> 57 = 0x39; 255 - 0.8 * 174 = 115.8 -> 0x74; 255 - 0.8 * 99 = 175.8 -> 0xb0
  EXPECT_TRUE(has(svg, "fill=\"#3974b0\"")) << svg;
  EXPECT_TRUE(has(svg, "&lt;dog&gt;"));
  EXPECT_FALSE(has(svg, "<dog>"));
  EXPECT_TRUE(has(svg, ">8</text>"));
}

}  // namespace
}  // namespace ptft::report
