// tests/report/html_text_test.cpp — escaping and number formatting of the report.
#include "ptft/report/html_text.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ptft::report {
namespace {

TEST(EscapeHtml, AllFiveCharacters) {
  EXPECT_EQ(escape_html("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  EXPECT_EQ(escape_html("plain ümlaut"), "plain ümlaut");
}

TEST(FormatNumber, FourSignificantDigitsIntegersInFull) {
  EXPECT_EQ(format_number(2.31456), "2.315");
  EXPECT_EQ(format_number(12345), "12345");
  EXPECT_EQ(format_number(0.0004562), "0.0004562");
  EXPECT_EQ(format_number(1234567.5), "1.235e+06");
  EXPECT_EQ(format_number(NAN), "nan");
  EXPECT_EQ(format_number(-INFINITY), "-inf");
}

TEST(FormatDuration, SecondsMinutesHours) {
  EXPECT_EQ(format_duration(42.13), "42.1 s");
  EXPECT_EQ(format_duration(185), "3 min 05 s");
  EXPECT_EQ(format_duration(7380), "2 h 03 min");
}

}  // namespace
}  // namespace ptft::report
