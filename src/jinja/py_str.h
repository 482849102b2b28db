// src/jinja/py_str.h — Python's str methods on UTF-8 text (private to src/jinja/): what chat
// templates call (strip, split, replace, find, case mapping) with Python's code point semantics,
// Unicode whitespace and full case mappings (ICU), and repr() of a str.
//
//   py::strip(" a\u3000")            -> "a"          (Unicode whitespace, as str.strip())
//   py::split("a b", std::nullopt)   -> {"a", "b"}
//   py::repr("it's")                 -> "\"it's\""
// Inputs are well-formed UTF-8 (templates and contexts are checked once, at the boundary).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ptft::jinja::py {

// str.isspace() of one code point (the set Python and the lexer's \s use).
bool is_space(char32_t cp);
// Number of code points.
std::size_t length(std::string_view s);
// Code points of s.
std::u32string decode(std::string_view s);
std::string encode(std::u32string_view cps);

// str.strip / lstrip / rstrip: `chars` unset = Unicode whitespace, else any of its code points.
std::string strip(std::string_view s, const std::optional<std::string>& chars = std::nullopt);
std::string lstrip(std::string_view s, const std::optional<std::string>& chars = std::nullopt);
std::string rstrip(std::string_view s, const std::optional<std::string>& chars = std::nullopt);

// str.split / rsplit (maxsplit < 0: no limit). An empty separator throws std::invalid_argument.
std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit = -1);
std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit = -1);
// str.splitlines() (keepends=False): every Python line boundary.
std::vector<std::string> splitlines(std::string_view s);
// str.replace (count < 0: all); an empty `old` inserts `repl` around every code point.
std::string replace(std::string_view s, std::string_view old, std::string_view repl, int64_t count = -1);
// str.find / rfind: code point index or -1. str.count: non-overlapping occurrences.
int64_t find(std::string_view s, std::string_view sub);
int64_t rfind(std::string_view s, std::string_view sub);
int64_t count(std::string_view s, std::string_view sub);

// Full Unicode case mappings, as str.lower / upper / title / capitalize.
std::string lower(std::string_view s);
std::string upper(std::string_view s);
std::string title(std::string_view s);
std::string capitalize(std::string_view s);
// Jinja's `title` filter: each chunk after [-\s({\[<]+ gets its first code point upper-cased and
// the rest lower-cased (not str.title()).
std::string jinja_title(std::string_view s);
// str.isdigit / isalpha / isalnum / isspace / islower / isupper.
bool is_digit_str(std::string_view s);
bool is_alpha_str(std::string_view s);
bool is_alnum_str(std::string_view s);
bool is_space_str(std::string_view s);
bool is_lower_str(std::string_view s);
bool is_upper_str(std::string_view s);

// repr(str): quotes chosen as Python does, non-printable code points escaped.
std::string repr(std::string_view s);
// Python's repr(float) / str(float): shortest round-trip digits, '1e+16', '1.0', 'inf', 'nan'.
std::string float_repr(double x);

}  // namespace ptft::jinja::py
