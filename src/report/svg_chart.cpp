// src/report/svg_chart.cpp — see include/ptft/report/svg_chart.h.
#include "ptft/report/svg_chart.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

#include "ptft/report/html_text.h"

namespace ptft::report {
namespace {

constexpr double kMarginLeft = 58, kMarginRight = 16, kMarginBottom = 40;
constexpr double kTitleHeight = 24, kLegendRow = 16;
constexpr double kCharWidth = 6.2;  // a rough width of one 11 px sans-serif character

std::string num(double v) {  // an SVG coordinate
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Legend entries, left to right, wrapped: (row, x offset) of each named series.
struct LegendSlot {
  size_t series = 0;
  int row = 0;
  double x = 0;
};
std::vector<LegendSlot> legend_layout(const LineChart& c) {
  std::vector<LegendSlot> out;
  const double avail = c.width - kMarginLeft - kMarginRight;
  double x = 0;
  int row = 0;
  for (size_t i = 0; i < c.series.size(); ++i) {
    if (c.series[i].name.empty()) continue;
    const double w = 26 + kCharWidth * static_cast<double>(c.series[i].name.size()) + 12;
    if (x > 0 && x + w > avail) {
      ++row;
      x = 0;
    }
    out.push_back({i, row, x});
    x += w;
  }
  return out;
}

int legend_rows(const std::vector<LegendSlot>& slots) { return slots.empty() ? 0 : slots.back().row + 1; }

bool usable(double y, bool log_y) { return std::isfinite(y) && (!log_y || y > 0); }

// Ticks of a log10 axis covering [lo, hi] (both > 0), in log10 units: decades, and 2x / 5x
// in between when the range spans at most two decades.
AxisTicks log_ticks(double lo, double hi) {
  AxisTicks t;
  t.lo = std::floor(std::log10(lo) + 1e-9);
  t.hi = std::ceil(std::log10(hi) - 1e-9);
  if (t.hi <= t.lo) t.hi = t.lo + 1;
  const int decades = static_cast<int>(t.hi - t.lo);
  const int every = std::max(1, decades / 6);
  for (int e = static_cast<int>(t.lo); e <= static_cast<int>(t.hi); e += every) {
    t.values.push_back(e);
    if (decades <= 2 && e < t.hi)
      for (double m : {2.0, 5.0}) t.values.push_back(e + std::log10(m));
  }
  std::sort(t.values.begin(), t.values.end());
  t.step = 1;
  return t;
}

}  // namespace

AxisTicks nice_ticks(double lo, double hi, int max_ticks) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double d = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  max_ticks = std::max(2, max_ticks);
  const double raw = (hi - lo) / (max_ticks - 1);
  AxisTicks t;
  // The smallest 1/2/5 x 10^k step that needs at most max_ticks ticks (rounding lo down and hi
  // up can add one, hence the next magnitude too).
  bool fits = false;
  for (double mag = std::pow(10.0, std::floor(std::log10(raw))); !fits; mag *= 10) {
    for (double m : {1.0, 2.0, 5.0}) {
      t.step = m * mag;
      t.lo = std::floor(lo / t.step + 1e-9) * t.step;
      t.hi = std::ceil(hi / t.step - 1e-9) * t.step;
      if (std::lround((t.hi - t.lo) / t.step) + 1 <= max_ticks) {
        fits = true;
        break;
      }
    }
  }
  const long n = std::lround((t.hi - t.lo) / t.step);
  for (long i = 0; i <= n; ++i) {
    double v = std::round((t.lo + static_cast<double>(i) * t.step) / t.step) * t.step;
    if (std::fabs(v) < t.step * 1e-9) v = 0;  // no "-0"
    t.values.push_back(v);
  }
  return t;
}

std::string format_tick(double v, double step) {
  char buf[48];
  if (v != 0 && std::fabs(v) < 1e-4) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
  }
  // Values from 10^4 on in thousands / millions / billions (whichever keeps the step's digits),
  // so that the labels fit the left margin.
  if (std::fabs(v) >= 1e4)
    for (const auto& [scale, suffix] : {std::pair<double, const char*>{1e9, "G"}, {1e6, "M"}, {1e3, "k"}})
      if (step > scale / 10) return format_tick(v / scale, step / scale) + suffix;
  int decimals = 0;
  while (decimals < 8) {
    const double scaled = step * std::pow(10.0, decimals);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) break;
    ++decimals;
  }
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

PlotBox LineChart::plot_box() const {
  const double top = kTitleHeight + kLegendRow * legend_rows(legend_layout(*this)) + 6;
  return {kMarginLeft, top, width - kMarginLeft - kMarginRight, height - top - kMarginBottom};
}

std::string render_svg(const LineChart& c) {
  const PlotBox box = c.plot_box();
  const auto slots = legend_layout(c);
  // Data ranges over every finite point and marker.
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  auto take = [&](double x, double y) {
    if (!std::isfinite(x) || !usable(y, c.log_y)) return;
    xmin = std::min(xmin, x), xmax = std::max(xmax, x), ymin = std::min(ymin, y), ymax = std::max(ymax, y);
  };
  for (const auto& s : c.series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) take(s.x[i], s.y[i]);
  const bool has_data = std::isfinite(xmin);
  for (const auto& m : c.markers)
    if (m.y) take(m.x, *m.y);
    else if (has_data && std::isfinite(m.x)) xmin = std::min(xmin, m.x), xmax = std::max(xmax, m.x);

  std::string o;
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" + std::to_string(c.width) +
       "\" height=\"" + std::to_string(c.height) + "\" viewBox=\"0 0 " + std::to_string(c.width) + " " +
       std::to_string(c.height) + "\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">";
  o += "<title>" + escape_html(c.title) + "</title>";
  o += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>";
  o += "<text x=\"" + num(box.left) + "\" y=\"16\" font-size=\"13\" font-weight=\"bold\">" + escape_html(c.title) +
       "</text>";
  for (const auto& sl : slots) {
    const ChartSeries& s = c.series[sl.series];
    const double lx = box.left + sl.x, ly = kTitleHeight + kLegendRow * sl.row + 6;
    o += "<line x1=\"" + num(lx) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(lx + 20) + "\" y2=\"" + num(ly) +
         "\" stroke=\"" + escape_html(s.color) + "\" stroke-width=\"2\"" +
         (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>";
    o += "<text x=\"" + num(lx + 25) + "\" y=\"" + num(ly + 4) + "\">" + escape_html(s.name) + "</text>";
  }
  o += "<rect x=\"" + num(box.left) + "\" y=\"" + num(box.top) + "\" width=\"" + num(box.width) + "\" height=\"" +
       num(box.height) + "\" fill=\"none\" stroke=\"#999\"/>";
  if (!has_data) {
    o += "<text x=\"" + num(box.left + box.width / 2) + "\" y=\"" + num(box.top + box.height / 2) +
         "\" text-anchor=\"middle\" fill=\"#888\">no data</text></svg>";
    return o;
  }

  const AxisTicks xt = nice_ticks(xmin, xmax, std::max(3, static_cast<int>(box.width / 80)));
  const AxisTicks yt = c.log_y ? log_ticks(ymin, ymax) : nice_ticks(ymin, ymax, std::max(3, static_cast<int>(box.height / 45)));
  auto px = [&](double x) { return box.left + (x - xt.lo) / (xt.hi - xt.lo) * box.width; };
  auto py = [&](double y) {
    const double v = c.log_y ? std::log10(y) : y;
    return box.top + box.height - (v - yt.lo) / (yt.hi - yt.lo) * box.height;
  };
  auto py_axis = [&](double tick) { return box.top + box.height - (tick - yt.lo) / (yt.hi - yt.lo) * box.height; };

  // Grid and tick labels.
  for (double v : xt.values) {
    const std::string x = num(px(v));
    o += "<line x1=\"" + x + "\" y1=\"" + num(box.top) + "\" x2=\"" + x + "\" y2=\"" + num(box.top + box.height) +
         "\" stroke=\"#eee\"/>";
    o += "<text x=\"" + x + "\" y=\"" + num(box.top + box.height + 14) + "\" text-anchor=\"middle\">" +
         format_tick(v, xt.step) + "</text>";
  }
  for (double v : yt.values) {
    const std::string y = num(py_axis(v));
    o += "<line x1=\"" + num(box.left) + "\" y1=\"" + y + "\" x2=\"" + num(box.left + box.width) + "\" y2=\"" + y +
         "\" stroke=\"#eee\"/>";
    const std::string label = c.log_y ? format_number(std::pow(10.0, v)) : format_tick(v, yt.step);
    o += "<text x=\"" + num(box.left - 5) + "\" y=\"" + num(py_axis(v) + 4) + "\" text-anchor=\"end\">" + label +
         "</text>";
  }
  if (!c.x_label.empty())
    o += "<text x=\"" + num(box.left + box.width / 2) + "\" y=\"" + num(c.height - 6) + "\" text-anchor=\"middle\">" +
         escape_html(c.x_label) + "</text>";
  if (!c.y_label.empty())
    o += "<text transform=\"translate(12 " + num(box.top + box.height / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         escape_html(c.y_label + (c.log_y ? " (log)" : "")) + "</text>";

  // Series.
  for (const auto& s : c.series) {
    std::string pts;
    size_t n = 0;
    std::string dots;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !usable(s.y[i], c.log_y)) continue;
      const std::string p = num(px(s.x[i])) + "," + num(py(s.y[i]));
      pts += (n++ ? " " : "") + p;
      dots += "<circle cx=\"" + num(px(s.x[i])) + "\" cy=\"" + num(py(s.y[i])) + "\" r=\"2.5\" fill=\"" +
              escape_html(s.color) + "\"/>";
    }
    if (n == 0) continue;
    o += "<polyline class=\"series\" fill=\"none\" stroke=\"" + escape_html(s.color) + "\" stroke-width=\"1.6\"" +
         (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + " points=\"" + pts + "\"><title>" + escape_html(s.name) +
         "</title></polyline>";
    if (s.points || n == 1) o += dots;
  }

  // Markers: a dashed vertical line (labels staggered so neighbours stay readable), a dot when
  // the marker has a value.
  int stagger = 0;
  // Value-marker labels already placed (x from, x to, baseline y): a label that would overlap one
  // moves up a line (down when the top is near), so that the best points of several runs stay
  // readable.
  std::vector<std::array<double, 3>> placed;
  auto free_y = [&](double x0, double x1, double y) {
    for (int tries = 0; tries < 6; ++tries) {
      bool clash = false;
      for (const auto& p : placed)
        if (x0 < p[1] && p[0] < x1 && std::abs(y - p[2]) < 12) clash = true;
      if (!clash) break;
      y = y - 12 < box.top + 10 ? y + 12 * (tries + 1) : y - 12;
    }
    placed.push_back({x0, x1, y});
    return y;
  };
  for (const auto& m : c.markers) {
    if (!std::isfinite(m.x)) continue;
    const std::string x = num(px(m.x));
    const std::string color = escape_html(m.color);
    if (m.y && usable(*m.y, c.log_y)) {
      const double cy = py(*m.y);
      o += "<circle class=\"marker\" cx=\"" + x + "\" cy=\"" + num(cy) + "\" r=\"4.5\" fill=\"none\" stroke=\"" + color +
           "\" stroke-width=\"2\"><title>" + escape_html(m.label) + "</title></circle>";
      const bool right = px(m.x) < box.left + box.width * 0.6;
      const double tx = px(m.x) + (right ? 7 : -7), width = 6.2 * static_cast<double>(m.label.size());
      const double ty = free_y(right ? tx : tx - width, right ? tx + width : tx, cy - 7);
      o += "<text x=\"" + num(tx) + "\" y=\"" + num(ty) + "\" fill=\"" + color +
           "\" text-anchor=\"" + (right ? "start" : "end") + "\">" + escape_html(m.label) + "</text>";
      continue;
    }
    o += "<line class=\"marker\" x1=\"" + x + "\" y1=\"" + num(box.top) + "\" x2=\"" + x + "\" y2=\"" +
         num(box.top + box.height) + "\" stroke=\"" + color + "\" stroke-dasharray=\"3 3\"><title>" +
         escape_html(m.label) + "</title></line>";
    const bool right = px(m.x) < box.left + box.width * 0.75;
    o += "<text x=\"" + num(px(m.x) + (right ? 3 : -3)) + "\" y=\"" + num(box.top + 11 + 12 * (stagger++ % 3)) +
         "\" fill=\"" + color + "\" text-anchor=\"" + (right ? "start" : "end") + "\">" + escape_html(m.label) +
         "</text>";
  }
  o += "</svg>";
  return o;
}

std::string render_svg(const HeatMap& h) {
  const size_t rows = h.values.size();
  size_t cols = 0;
  for (const auto& r : h.values) cols = std::max(cols, r.size());
  const size_t n = std::max<size_t>(1, std::max(rows, cols));
  const double cell = h.cell > 0 ? h.cell : std::clamp(420.0 / static_cast<double>(n), 18.0, 60.0);
  auto label = [](const std::vector<std::string>& names, size_t i) {
    return i < names.size() ? names[i] : std::to_string(i);
  };
  size_t row_chars = 1, col_chars = 1;
  for (size_t i = 0; i < rows; ++i) row_chars = std::max(row_chars, label(h.row_labels, i).size());
  for (size_t j = 0; j < cols; ++j) col_chars = std::max(col_chars, label(h.col_labels, j).size());
  const double left = 24 + kCharWidth * static_cast<double>(row_chars) + 6;
  const double top = kTitleHeight + 6;
  // Column labels are written at -45 degrees under the cells.
  const double bottom = 8 + 0.72 * kCharWidth * static_cast<double>(col_chars) + 26;
  const double w = std::max(left + cell * static_cast<double>(cols) + 16,
                            16 + 7.5 * static_cast<double>(h.title.size())),  // the title is bold 13 px
               ht = top + cell * static_cast<double>(rows) + bottom;
  const double font = std::min(11.0, cell / 2.6);

  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heatmap\" width=\"" + num(w) + "\" height=\"" +
                  num(ht) + "\" viewBox=\"0 0 " + num(w) + " " + num(ht) +
                  "\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">";
  o += "<title>" + escape_html(h.title) + "</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>";
  o += "<text x=\"8\" y=\"16\" font-size=\"13\" font-weight=\"bold\">" + escape_html(h.title) + "</text>";
  for (size_t i = 0; i < rows; ++i) {
    double sum = 0;
    for (double v : h.values[i]) sum += std::isfinite(v) ? v : 0;
    const double y = top + cell * static_cast<double>(i);
    o += "<text x=\"" + num(left - 5) + "\" y=\"" + num(y + cell / 2 + 4) + "\" text-anchor=\"end\">" +
         escape_html(label(h.row_labels, i)) + "</text>";
    for (size_t j = 0; j < h.values[i].size(); ++j) {
      const double v = h.values[i][j];
      const double share = sum > 0 && std::isfinite(v) ? std::clamp(v / sum, 0.0, 1.0) : 0;
      char fill[16];  // white -> #08519c by the share of the row
      std::snprintf(fill, sizeof fill, "#%02x%02x%02x", static_cast<int>(std::lround(255 - share * (255 - 8))),
                    static_cast<int>(std::lround(255 - share * (255 - 81))),
                    static_cast<int>(std::lround(255 - share * (255 - 156))));
      const double x = left + cell * static_cast<double>(j);
      o += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(cell) + "\" height=\"" + num(cell) +
           "\" fill=\"" + fill + "\" stroke=\"#ddd\"><title>" +
           escape_html(h.y_label + " " + label(h.row_labels, i) + ", " + h.x_label + " " + label(h.col_labels, j) +
                       ": " + format_number(v)) +
           "</title></rect>";
      if (cell >= 18)
        o += "<text x=\"" + num(x + cell / 2) + "\" y=\"" + num(y + cell / 2 + font / 3) +
             "\" text-anchor=\"middle\" font-size=\"" + num(font) + "\" fill=\"" + (share > 0.5 ? "#fff" : "#222") +
             "\">" + format_number(v) + "</text>";
    }
  }
  const double grid_bottom = top + cell * static_cast<double>(rows);
  for (size_t j = 0; j < cols; ++j) {
    const double x = left + cell * (static_cast<double>(j) + 0.5);
    o += "<text transform=\"translate(" + num(x + 3) + " " + num(grid_bottom + 10) +
         ") rotate(-45)\" text-anchor=\"end\">" + escape_html(label(h.col_labels, j)) + "</text>";
  }
  o += "<text x=\"" + num(left + cell * static_cast<double>(cols) / 2) + "\" y=\"" + num(ht - 6) +
       "\" text-anchor=\"middle\">" + escape_html(h.x_label) + "</text>";
  o += "<text transform=\"translate(12 " + num(top + cell * static_cast<double>(rows) / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + escape_html(h.y_label) + "</text>";
  o += "</svg>";
  return o;
}

}  // namespace ptft::report
