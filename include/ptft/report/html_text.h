// ptft/report/html_text.h — text that goes into the report's HTML and SVG: escaping and numbers.
//
// Everything that comes from a run (run names, class names, advice, config values) passes
// through escape_html before it is put into the page, in element text and attribute values
// alike.
//
//   out += "<td>" + escape_html(run.name) + "</td><td>" + format_number(2.31456) + "</td>";  // 2.315
#pragma once

#include <string>

namespace ptft::report {

// & < > " ' -> &amp; &lt; &gt; &quot; &#39;
std::string escape_html(const std::string& s);
// A metric for people: 4 significant digits (2.315, 0.0004562, 1.235e+06); integers up to
// 10^15 in full (12345); "nan" / "inf" as such.
std::string format_number(double v);
// Seconds as "42.1 s", "3 min 05 s", "2 h 03 min".
std::string format_duration(double seconds);

}  // namespace ptft::report
