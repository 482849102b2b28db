// ptft/report/svg_chart.h — line charts and heat maps as standalone SVG strings (no script, no
// external fonts or styles), for the self-contained run report.
//
// A line chart has a fixed outer size; the plot box is that size less the margins (left for
// the y tick labels, top for title and legend, bottom for the x ticks and label). The axis
// ranges are the data ranges widened to "nice" tick values (nice_ticks), so a data point (x, y)
// lands at
//   px = box.left + (x - x_ticks.lo) / (x_ticks.hi - x_ticks.lo) * box.width
//   py = box.top + box.height - (y - y_ticks.lo) / (y_ticks.hi - y_ticks.lo) * box.height
// (with log_y, log10(y) and the log10 of the tick range instead of y). Series are <polyline>s;
// a marker is a dashed vertical line at x with a label, plus a dot at (x, y) when it has a y.
// Non-finite values (and y <= 0 on a log axis) are left out.
//
//   LineChart c;
//   c.title = "loss";  c.x_label = "step";
//   c.series.push_back({"train", "#1f77b4", {10, 20, 30}, {2.1, 1.7, 1.5}});
//   c.markers.push_back({20, 1.7, "best 1.7", "#d62728"});
//   std::string svg = render_svg(c);
//
//   HeatMap h;  h.title = "confusion";  h.row_labels = h.col_labels = {"cat", "dog"};
//   h.values = {{8, 2}, {1, 9}};  // rows = true class
//   std::string svg = render_svg(h);
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ptft::report {

// Ticks that cover [lo, hi]: step = 1, 2 or 5 x 10^k, chosen so that there are at most
// `max_ticks` of them; lo/hi are widened to multiples of step. lo == hi is widened to a unit
// (or 10 %) around the value. values: lo, lo + step, ..., hi.
struct AxisTicks {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> values;
};
AxisTicks nice_ticks(double lo, double hi, int max_ticks = 6);
// A tick label with just the decimals `step` needs (step 0.25 -> "0.75", step 1000 -> "3000").
std::string format_tick(double v, double step);

struct ChartSeries {
  std::string name;            // legend text; no legend entry when empty
  std::string color;           // any SVG colour ("#1f77b4")
  std::vector<double> x, y;    // same length
  bool dashed = false;
  bool points = false;         // a dot at every point too (sparse series such as evaluations)
};

struct ChartMarker {
  double x = 0;
  std::optional<double> y;     // a dot at (x, y) when set
  std::string label;           // written next to the line's top (or next to the dot)
  std::string color = "#555";
};

struct PlotBox {
  double left = 0, top = 0, width = 0, height = 0;
};

struct LineChart {
  std::string title, x_label, y_label;
  bool log_y = false;
  std::vector<ChartSeries> series;
  std::vector<ChartMarker> markers;
  int width = 560, height = 300;  // outer size in px
  // The plot area inside the margins (depends on the size and on whether there is a legend).
  PlotBox plot_box() const;
};

// An <svg> element; an empty chart (no finite point) says "no data".
std::string render_svg(const LineChart& chart);

struct HeatMap {
  std::string title, x_label = "predicted", y_label = "true";
  std::vector<std::string> row_labels, col_labels;
  std::vector<std::vector<double>> values;  // rows x cols; each cell shows its value, shaded by
                                            // its share of the row's sum
  int cell = 0;                             // cell size in px (0: fit about 420 px, 18..60)
};
std::string render_svg(const HeatMap& map);

}  // namespace ptft::report
