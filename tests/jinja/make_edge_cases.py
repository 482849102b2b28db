#!/usr/bin/env python3
"""Writes tests/jinja/data/edge_cases.json: the table of templates + contexts that
tests/jinja/template_test.cpp renders with ptft and with Python's jinja2 (render_reference.py).
Templates are easier to write here than inside JSON; edit this file, run it, commit both.

    python3 tests/jinja/make_edge_cases.py
"""
import json
import os
C = []
def case(name, template, **ctx):
    C.append({"name": name, "template": template, "context": ctx} if ctx else {"name": name, "template": template})

default_context = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "  Hi there!  "},
        {"role": "assistant", "content": "Hello.", "reasoning_content": None},
        {"role": "user", "content": "Tschüß – 你好 🙂"},
    ],
    "d": {"b": 2, "a": 1, "nested": {"x": [1, 2, {"y": "z"}]}},
    "l": [3, 1, 2],
    "words": ["banana", "Apple", "cherry", "apple"],
    "s": "Hello World",
    "n": None,
    "f": 1.5,
    "i": 7,
    "t": True,
    "empty": [],
    "users": [{"name": "bob", "age": 30, "admin": True}, {"name": "Alice", "age": 25, "admin": False},
              {"name": "carol", "age": 35}],
    "unicode": {"emoji": "🙂", "cjk": "你好", "quote": "a\"b\\c\n\t\u0001", "accent": "é", "ctrl": "\u007f\u0085\u00a0\u200b"},
    "tools": None,
    "bos_token": "<s>",
}

# --- output, literals, Python str() of values
case("text only", "plain text\nline 2\n")
case("literals", "{{ 1 }}|{{ -3 }}|{{ 1.0 }}|{{ 2.50 }}|{{ 1e3 }}|{{ 1_000 }}|{{ 'a' 'b' }}|{{ \"q\" }}|{{ true }}|{{ True }}|{{ none }}|{{ None }}|{{ false }}")
case("float repr", "{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1/3 }} {{ -0.0 }} {{ 2.5e-7 }} {{ 123456789012345678.0 }} {{ 1e100 }}")
case("containers repr", "{{ [1, 'a', none, true, 1.0, (1,), (), {'k': 'v'}, [[]]] }}|{{ (1, 2) }}|{{ {'a': {'b': [1]}} }}|{{ {} }}")
case("str repr quotes", "{{ [\"it's\", 'say \"hi\"', \"both ' and \\\"\", 'back\\\\slash', 'tab\\tnl\\n'] }}")
case("str repr unicode", "{{ [unicode.emoji, unicode.cjk, unicode.accent, unicode.ctrl, unicode.quote] }}")
case("dict from context repr", "{{ d }}|{{ messages[2] }}|{{ users[2] }}")
case("string escapes", "{{ 'a\\nb' }}|{{ 'tab\\there' }}|{{ 'q\\'s' }}|{{ \"u\\u00e9\\x41\\101\" }}|{{ 'keep\\d' }}|{{ 'U\\U0001F642' }}")
case("tuple output", "{{ 1, 2 }}|{{ 'a', }}")
case("none and bool output", "{{ n }}|{{ t }}|{{ not t }}|{{ n is none }}")

# --- whitespace control, trim_blocks, lstrip_blocks
case("trim_blocks", "{% if true %}\nyes\n{% endif %}\nafter\n")
case("lstrip_blocks", "start\n    {% if true %}\n    indented\n    {% endif %}\nend")
case("lstrip only at line start", "x {% if true %}y{% endif %} z\n  {% if true %}\n  a\n  {% endif %}  tail")
case("lstrip comment", "a\n    {# comment #}\nb\n\t{#- c2 -#}\n  c")
case("minus strips", "a   {{- 'b' -}}   c\n\n  {%- if true -%}\n  d\n  {%- endif -%}\n\n  e")
case("plus keeps", "a\n    {%+ if true %}\nb\n    {% endif +%}\nc")
case("var tags not lstripped", "x\n    {{ 'v' }}\n  y")
case("trailing newline dropped", "line\n")
case("two trailing newlines", "line\n\n")
case("crlf newlines", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\r\n")
case("whitespace after tag with spaces", "{% if true %}   \nx{% endif %}")
case("comment trim", "{# c #}\nx\n{#- d #}\ny {#+ e +#}\nz")
case("indented for loop", "<ul>\n  {% for x in l %}\n    <li>{{ x }}</li>\n  {% endfor %}\n</ul>\n")
case("minus on var end eats newlines", "{{ 'a' -}}\n\n   \n  b")
case("unicode whitespace rstrip", "a\u3000\u00a0 {{- 'b' }}")
case("lstrip after trimmed newline", "{% for x in l %}\n  {% if x > 1 %}\n  big {{ x }}\n  {% endif %}\n{% endfor %}")

# --- for loops
case("loop vars", "{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}")
case("previtem nextitem", "{% for x in l %}[{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }}]{{ loop.previtem is defined }}{% endfor %}")
case("loop cycle and depth", "{% for x in l %}{{ loop.cycle('odd', 'even') }}{{ loop.depth }}{{ loop.depth0 }} {% endfor %}")
case("for else", "{% for x in empty %}x{% else %}none{% endfor %}|{% for x in l %}{{ x }}{% else %}none{% endfor %}")
case("for filter", "{% for x in l if x > 1 %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% endfor %}")
case("for unpack items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k, v in d|items %}{{ k }};{% endfor %}|{% for k, v in d|dictsort %}{{ k }}{% endfor %}")
case("for over dict and string", "{% for k in d %}{{ k }},{% endfor %}|{% for c in 'héllo' %}{{ c }}.{% endfor %}")
case("for over undefined", "{% for x in nothing %}x{% else %}empty{% endfor %}")
case("nested loops", "{% for a in [1, 2] %}{% set outer = loop %}{% for b in 'xy' %}{{ outer.index }}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{% endfor %}")
case("break continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x > 5 %}{% break %}{% endif %}{{ x }}{% endfor %}")
case("loop scope", "{% set x = 5 %}{% for i in range(3) %}{% set x = x + i %}{{ x }}{% endfor %}|{{ x }}|{% for i in range(2) %}{% if i == 0 %}{% set y = 'a' %}{% endif %}[{{ y }}]{% endfor %}")
case("loop var after loop", "{% for x in l %}{% endfor %}{{ x }}|{{ loop }}")
case("range forms", "{{ range(3)|list }}{{ range(1, 4)|list }}{{ range(10, 0, -3)|list }}{{ range(0)|list }}{{ range(3) }}{{ range(1, 9, 2) }}")
case("messages reversed loop", "{% for m in messages[::-1] %}{{ loop.index0 }}{{ m.role[0] }}{% endfor %}")

# --- if / expressions
case("if elif else", "{% for x in [0, 1, 2, 3] %}{% if x == 0 %}zero{% elif x == 1 %}one{% elif x is even %}even{% else %}odd{% endif %} {% endfor %}")
case("ternary", "{{ 'yes' if t else 'no' }}|{{ 'yes' if n else 'no' }}|[{{ 'a' if false }}]|{{ 1 if false else 2 if false else 3 }}")
case("and or values", "{{ n or 'default' }}|{{ 0 and 1 }}|{{ 'a' and 'b' }}|{{ '' or [] }}|{{ none or 0 or 'x' }}|{{ not n }}|{{ not 'x' }}")
case("comparisons", "{{ 1 < 2 }}{{ 2 <= 2 }}{{ 3 > 4 }}{{ 1 == 1.0 }}{{ 'a' < 'b' }}{{ [1, 2] < [1, 3] }}{{ 1 != 2 }}{{ 1 < 2 < 3 }}{{ 3 > 2 > 2 }}{{ true == 1 }}{{ none == none }}{{ 'a' == 'a' }}{{ (1, 2) == [1, 2] }}")
case("in not in", "{{ 'a' in 'cat' }}{{ 2 in l }}{{ 'a' in d }}{{ 'zz' not in d }}{{ 5 not in l }}{{ 'x' in nothing }}{{ [1] in [[1], 2] }}")
case("arithmetic", "{{ 7 + 3 }} {{ 7 - 10 }} {{ 7 * 3 }} {{ 7 / 2 }} {{ 6 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1.5 * 2 }} {{ true + true }}")
case("unary", "{{ -i }}|{{ - -i }}|{{ -f }}|{{ +i }}|{{ -3|abs }}|{{ -(3) }}")
case("concat tilde", "{{ 'a' ~ 1 ~ none ~ true ~ 1.5 ~ [1] ~ nothing }}|{{ 1 ~ 2 }}")
case("string ops", "{{ 'ab' + 'cd' }}|{{ 'ab' * 3 }}|{{ 3 * '-' }}|{{ [1] * 2 }}|{{ [1] + [2] }}|{{ (1,) + (2,) }}|{{ 'x' * 0 }}")
case("precedence", "{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 2 ** 3 ** 2 }}|{{ -2 ** 2 }}|{{ 'a' ~ 2 * 3 }}|{{ not 1 == 2 }}|{{ 'ab' + s | lower }}")
case("filter precedence on concat", "{{ '  x ' + '  y  ' | trim + '|' }}")
case("is tests", "{{ n is none }}{{ 1 is number }}{{ 1.5 is float }}{{ 1 is integer }}{{ true is integer }}{{ true is boolean }}{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 's' is string }}{{ d is mapping }}{{ l is mapping }}{{ l is iterable }}{{ 1 is iterable }}{{ 's' is sequence }}{{ d is sequence }}{{ nothing is defined }}{{ nothing is undefined }}{{ d.a is defined }}{{ d.zz is defined }}")
case("is tests with args", "{{ 3 is divisibleby 3 }}{{ 4 is even }}{{ 3 is odd }}{{ 1 is equalto 1 }}{{ 1 is eq 2 }}{{ 2 is gt 1 }}{{ 2 is lt(1) }}{{ 2 is ge 2 }}{{ 2 is le 1 }}{{ 2 is ne 3 }}{{ 2 is in l }}{{ 'ab' is lower }}{{ 'AB' is upper }}{{ none is sameas none }}{{ true is sameas true }}{{ 1 is callable }}{{ range is callable }}")
case("is filter is test", "{{ 'tojson' is filter }}{{ 'wordwrap' is filter }}{{ 'nope' is filter }}{{ 'odd' is test }}{{ 'nope' is test }}{{ 1 is filter }}")
case("is not", "{{ n is not none }}{{ d.zz is not defined }}{{ messages[2].reasoning_content is not none }}{{ 1 is not string }}")
case("test binds tighter than and", "{% if d.a is defined and d.a is number and not d.zz is defined %}ok{% endif %}")

# --- subscripts, attributes, slices
case("attribute and item", "{{ d.a }}{{ d['b'] }}{{ d.nested.x[2].y }}{{ d['nested']['x'][0] }}{{ l[0] }}{{ l[-1] }}{{ l.1 }}{{ messages[0].role }}{{ messages[0]['content'] }}")
case("missing key is undefined", "[{{ d.zz }}][{{ d['zz'] }}][{{ l[10] }}][{{ s[99] }}][{{ n.x }}][{{ i.real2 }}]{{ d.zz is defined }}")
case("slices", "{{ l[1:] }}{{ l[:1] }}{{ l[::-1] }}{{ l[::2] }}{{ l[-2:] }}{{ l[5:] }}{{ l[1:-1] }}{{ s[1:4] }}{{ s[::-1] }}{{ 'héllo'[1:3] }}{{ messages[1:]|length }}{{ (1, 2, 3)[1:] }}{{ l[-100:100] }}{{ l[2:0:-1] }}")
case("string index unicode", "{{ 'héllo'[1] }}{{ unicode.emoji[0] }}{{ 'abc'[-1] }}")
case("dict method vs key", "{{ d.items() }}|{{ d.keys() }}|{{ d.values() }}|{{ d.get('a') }}|{{ d.get('zz') }}|{{ d.get('zz', 'dflt') }}|{{ d.items()|list }}|{{ d['items'] is defined }}")

# --- set, namespace, macros
case("set forms", "{% set a = 1 %}{% set b, c = 2, 3 %}{% set e = [a, b, c] %}{{ a }}{{ b }}{{ c }}{{ e }}{% set (f, g) = 'xy' %}{{ f }}{{ g }}")
case("set in if leaks", "{% if true %}{% set y = 3 %}{% endif %}{{ y }}")
case("block set", "{% set block %}  inner {{ 1 + 1 }}\n{% endset %}[{{ block }}]{% set b2 | trim | upper %}  xy  {% endset %}[{{ b2 }}]")
case("namespace", "{% set ns = namespace(count=0, found=false) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.count = ns.count + 1 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }}{{ ns.found }}{{ ns.missing is defined }}|{{ ns }}")
case("namespace from dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns['a'] }}")
case("dict global", "{{ dict(a=1, b='x') }}|{{ dict([('k', 1)]) }}|{{ dict() }}")
case("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }}|{{ greet('Al', '?') }}|{{ greet(punct='.', name='Cy') }}|{{ greet() }}")
case("macro sees globals at call time", "{% macro m() %}[{{ g }}]{% endmacro %}{% set g = 1 %}{{ m() }}{% set g = 2 %}{{ m() }}")
case("macro recursion", "{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k * fact(k - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}")
case("macro default refers to param", "{% macro m(a, b=a ~ '!') %}{{ a }}{{ b }}{% endmacro %}{{ m('x') }}")
case("macro varargs kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}|{{ m(0) }}|{% macro n() %}{{ varargs|length }}{% endmacro %}{{ n() }}{{ n(1, 2) }}")
case("error: macro without kwargs gets a keyword", "{% macro m(a) %}{{ varargs }}{% endmacro %}{{ m(1, x=2) }}")
case("macro whitespace", "{% macro render(m) %}\n  {{ m.role }}: {{ m.content }}\n{% endmacro %}\n{% for m in messages %}\n{{ render(m) }}\n{% endfor %}")
case("generation block", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}|{% endfor %}")
case("generation spans", "{% for m in messages %}{{ m.role }}: {% if m.role == 'assistant' %}{% generation %}{{ m.content }}</s>{% endgeneration %}{% else %}{{ m.content }}{% endif %}\n{% endfor %}{% generation %}{% endgeneration %}")
case("generation spans with whitespace control", "{% for m in messages %}\n  {%- if m.role != 'system' %}\n  <{{ m.role }}>\n    {%- generation -%}\n      {{ m.content|trim }}\n    {%- endgeneration %}\n  {% endif %}\n{% endfor %}")
case("raw blocks", "a\n  {% raw %}{{ not evaluated }} {% if %}{# x #}\n  {% endraw %}\nb {%- raw -%}  x  {%- endraw -%}  c\n{%+ raw %} y {% endraw +%}\nd{% raw %}{%{% endraw %}")
case("raw lstrip and trim", "{% for i in l %}\n    {% raw %}\n    {{i}}\n    {% endraw %}\n{% endfor %}")
case("filter block", "{% filter upper %}hello {{ s }}{% endfilter %}|{% filter trim | replace('a', 'b') %}  banana  {% endfilter %}|{% filter indent(2, true) %}x\ny{% endfilter %}|{% filter upper %}{% set z = 1 %}{% endfilter %}[{{ z }}]")
case("with block", "{% set a = 1 %}{% with a = 2, b = a %}{{ a }}{{ b }}{% set c = 3 %}{% endwith %}{{ a }}[{{ c }}]{% with %}{{ a }}{% endwith %}{% with x, y = 'pq' %}{{ y }}{{ x }}{% endwith %}")
case("comments anywhere", "a{# inline #}b{#\nmulti\nline\n#}c")

# --- filters
case("trim filter", "[{{ '  x  '|trim }}][{{ messages[1].content|trim }}][{{ 'xxhixx'|trim('x') }}][{{ nothing|trim }}][{{ 5|trim }}]")
case("case filters", "{{ s|lower }}|{{ s|upper }}|{{ 'hELLO wORLD'|capitalize }}|{{ 'hello big-world (x) [y]'|title }}|{{ 'tschüß'|upper }}|{{ 'ÉCOLE'|lower }}|{{ n|lower }}")
case("length count", "{{ l|length }}{{ l|count }}{{ 'héllo'|length }}{{ d|length }}{{ nothing|length }}{{ ''|length }}")
case("default filter", "{{ nothing|default('dflt') }}|{{ n|default('dflt') }}|{{ n|default('dflt', true) }}|{{ ''|d('e', boolean=true) }}|{{ 0|default(5) }}|{{ nothing|d }}|{{ d.zz|default(d.a) }}")
case("join filter", "{{ l|join(', ') }}|{{ words|join }}|{{ users|join('/', attribute='name') }}|{{ [1, none, 'x']|join('-') }}")
case("replace filter", "{{ s|replace('o', '0') }}|{{ s|replace('l', 'L', 2) }}|{{ 'abc'|replace('', '-') }}")
case("list first last", "{{ 'abc'|list }}|{{ d|list }}|{{ l|first }}|{{ l|last }}|{{ 'xyz'|first }}|[{{ empty|first }}]|{{ d|first }}")
case("string int float abs round", "{{ 5|string }}{{ none|string }}|{{ '42'|int }}{{ ' 7 '|int }}{{ '4.7'|int }}{{ 'x'|int }}{{ 'x'|int(9) }}{{ 3.99|int }}{{ true|int }}{{ '1_000'|int }}|{{ '2.5'|float }}{{ 'x'|float }}{{ 3|float }}{{ '1e3'|float }}|{{ -3|abs }}{{ -2.5|abs }}|{{ 2.5|round }}{{ 3.5|round }}{{ 2.675|round(2) }}{{ 7|round }}{{ 1.234|round(1, 'ceil') }}{{ 1.26|round(1, 'floor') }}")
case("sort unique reverse", "{{ l|sort }}|{{ l|sort(reverse=true) }}|{{ words|sort }}|{{ words|sort(case_sensitive=true) }}|{{ users|sort(attribute='age')|map(attribute='name')|list }}|{{ words|unique|list }}|{{ words|unique(case_sensitive=true)|list }}|{{ l|reverse|list }}|{{ 'abc'|reverse }}")
case("map select", "{{ users|map(attribute='name')|join(',') }}|{{ words|map('upper')|list }}|{{ users|map(attribute='admin', default='?')|list }}|{{ l|select('odd')|list }}|{{ l|reject('odd')|list }}|{{ users|selectattr('admin')|map(attribute='name')|list }}|{{ users|rejectattr('admin')|list|length }}|{{ users|selectattr('age', 'gt', 26)|map(attribute='name')|list }}|{{ [0, 1, '', 'a', none]|select|list }}|{{ messages|selectattr('role', 'equalto', 'user')|list|length }}")
case("min max sum", "{{ l|min }}{{ l|max }}{{ l|sum }}{{ words|max }}{{ users|sum(attribute='age') }}{{ users|max(attribute='age') }}")
case("items filter", "{{ d|items|list }}|{{ nothing|items|list }}")
case("safe escape", "{{ '<b>&'|safe }}|{{ '<a href=\"x\">\\'&'|escape }}|{{ '<x>'|e }}")
case("indent filter", "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent('> ', blank=true) }}")
case("attr filter", "[{{ users[0]|attr('name') }}][{{ d|attr('a') }}]{{ d|attr('items') is callable }}{% set ns = namespace(x=5) %}{{ ns|attr('x') }}{% for i in l %}{{ loop|attr('index') }}{% endfor %}")
case("filter chain", "{{ messages|map(attribute='role')|unique|list|join('+')|upper }}")

# --- tojson
case("tojson basic", "{{ d|tojson }}|{{ l|tojson }}|{{ 'str\"q'|tojson }}|{{ n|tojson }}|{{ t|tojson }}|{{ f|tojson }}|{{ [1.0, 1e16, 0.1]|tojson }}|{{ (1, 2)|tojson }}|{{ {}|tojson }}|{{ []|tojson }}")
case("tojson unicode", "{{ unicode|tojson }}|{{ unicode|tojson(ensure_ascii=true) }}")
case("tojson indent", "{{ d|tojson(indent=2) }}|{{ users|tojson(indent=4) }}|{{ {'e': [], 'f': {}}|tojson(indent=2) }}|{{ d|tojson(indent='\\t') }}|{{ l|tojson(indent=0) }}")
case("tojson options", "{{ d|tojson(sort_keys=true) }}|{{ d|tojson(separators=(',', ':')) }}|{{ d|tojson(indent=1, separators=(', ', ' = ')) }}|{{ l|tojson(2) }}")
case("tojson nested unicode dict", "{{ {'名前': {'emoji': '🙂', 'list': ['ü', 'ß', {'k': none}]}}|tojson }}|{{ {'名前': {'emoji': '🙂', 'list': ['ü', 'ß', {'k': none}]}}|tojson(indent=2) }}")
case("tojson int keys", "{{ {1: 'a', true: 'b', none: 'c', 2.5: 'd'}|tojson }}")

# --- string methods
case("strip methods", "[{{ '  a  '.strip() }}][{{ 'xxaxx'.strip('x') }}][{{ '  a  '.lstrip() }}][{{ '  a  '.rstrip() }}][{{ '\\n\\nthink\\n'.strip('\\n') }}][{{ 'abc'.lstrip('ab') }}][{{ '\u3000a\u00a0'.strip() }}]")
case("startswith endswith", "{{ s.startswith('Hell') }}{{ s.endswith('World') }}{{ s.startswith(('x', 'H')) }}{{ s.endswith('x') }}{{ ''.startswith('') }}")
case("split", "{{ 'a,b,,c'.split(',') }}|{{ '  a  b c '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a<x>b<x>c'.split('<x>')[-1] }}|{{ 'abc'.split('z') }}|{{ 'a b c'.rsplit(' ', 1) }}|{{ 'a\\nb\\r\\nc'.splitlines() }}|{{ ' a b '.split(none, 1) }}")
case("replace find count", "{{ 'aaa'.replace('a', 'b') }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'héllo'.find('l') }}|{{ 'hello'.find('z') }}|{{ 'hello'.rfind('l') }}|{{ 'banana'.count('an') }}|{{ 'hello'.index('e') }}")
case("case methods", "{{ 'hello wORLD'.title() }}|{{ 'hello'.upper() }}|{{ 'HeLLo'.lower() }}|{{ 'hELLO'.capitalize() }}|{{ \"they're bill's\".title() }}|{{ 'ǆemal'.title() }}")
case("join method", "{{ ', '.join(['a', 'b']) }}|{{ '-'.join('abc') }}|{{ ''.join(words) }}")
case("format method", "{{ '{} and {}'.format('a', 1) }}|{{ '{0}{1}{0}'.format('x', 'y') }}|{{ '{name}!'.format(name='Bo') }}|{{ '{{literal}} {}'.format(none) }}|{{ '{!r}'.format('q') }}")
case("is methods", "{{ '123'.isdigit() }}{{ 'abc'.isalpha() }}{{ 'a1'.isalnum() }}{{ '  '.isspace() }}{{ 'abc'.islower() }}{{ 'ABC'.isupper() }}{{ ''.isdigit() }}")
case("removeprefix", "{{ 'prefix_x'.removeprefix('prefix_') }}|{{ 'x.json'.removesuffix('.json') }}|{{ 'x'.removeprefix('y') }}")
case("qwen think split", "{% set c = '<think>\\nreason\\n</think>\\n\\nanswer' %}{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}")
case("list methods", "{{ l.index(1) }}{{ l.count(3) }}{{ (1, 2, 1).count(1) }}")

# --- undefined semantics
case("undefined prints empty", "[{{ nothing }}][{{ nothing|string }}][{{ nothing ~ 'x' }}]{{ nothing is defined }}{{ not nothing }}{{ nothing == nothing }}{{ nothing == none }}")
case("undefined in if", "{% if nothing %}yes{% else %}no{% endif %}{% if d.zz %}yes{% else %}no{% endif %}")
case("undefined length and list", "{{ nothing|length }}{{ nothing|list }}{{ nothing|join(',') }}[{{ nothing|first }}]")

# --- globals
case("strftime_now", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S') }}|{{ strftime_now('%A %B %j') }}")
case("strftime_now defined", "{% if strftime_now is defined %}{{ strftime_now('%d %B %Y') }}{% endif %}")
case("raise_exception in branch not taken", "{% if false %}{{ raise_exception('never') }}{% endif %}ok")

# --- errors (the C++ renderer must fail too; UndefinedError / TemplateError messages must match)
case("error: attribute of undefined", "{{ nothing.attr }}")
case("error: attribute of missing key", "line1\n{{ d.zz.y }}")
case("error: call of undefined method", "{{ s.nomethod() }}")
case("error: add str int", "{{ 'a' + 1 }}")
case("error: add int str", "{{ 1 + 'a' }}")
case("error: undefined plus", "{{ nothing + 1 }}")
case("error: compare str int", "{{ 1 < 'a' }}")
case("error: division by zero", "{{ 1 / 0 }}")
case("error: raise_exception", "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}")
case("error: raise_exception line", "ok\n{% if true %}\n{{ raise_exception('bad: ' ~ 3) }}\n{% endif %}")
case("error: list append unsafe", "{{ l.append(4) }}")
case("error: dict update unsafe", "{{ d.update({'c': 3}) }}")
case("error: set attr on dict", "{% set d.x = 1 %}")
case("error: tojson undefined", "{{ nothing|tojson }}")
case("error: iterate int", "{% for x in 5 %}{% endfor %}")
case("error: length of int", "{{ 5|length }}")
case("error: unpack mismatch", "{% for a, b in [[1, 2, 3]] %}{% endfor %}")
case("error: range too big", "{{ range(200000)|length }}")
case("error: int not callable", "{{ i() }}")
case("error: undefined subscript", "{{ nothing[0] }}")
case("error: macro too many args", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}")
case("error: items of list", "{{ l|items|list }}")
case("error: tilde binds tighter than plus", "{{ 1 + 2 ~ 3 }}")
case("error: join non-str method", "{{ ', '.join([1, 2]) }}")
case("error: dunder attribute", "{{ s.__class__() }}")
case("error: in int", "{{ 1 in 5 }}")


# --- second batch: whitespace corners, Unicode, Undefined, loops, more errors
C2 = []
def case2(name, template, **ctx):
    C2.append({"name": name, "template": template, "context": ctx} if ctx else {"name": name, "template": template})
case2("ws: between tags same line", "{% if true %}  {% endif %}|\n  {% if true %}  x  {% endif %}  \n|")
case2("ws: template starts with spaces then tag", "   {% if true %}x{% endif %}")
case2("ws: tag after output then newline", "{{ 'a' }}\n   {% if true %}b{% endif %}")
case2("ws: comment then block", "{# c #}\n   {% if true %}\nx\n   {% endif %}\n")
case2("ws: minus both sides inline", "a {%- if true -%} b {%- endif -%} c")
case2("ws: minus var in loop", "{%- for x in l -%} {{ x }} {%- endfor -%}|{% for x in l %} {{- x -}} {% endfor %}")
case2("ws: tabs", "\t{% if true %}\n\tx\n\t{% endif %}\n")
case2("ws: lone braces in data", "a { b } c }} d %} e #} f {")
case2("ws: strings with tag ends", "{{ '%}' }}{{ '}}' }}{% set x = '%} {{' %}{{ x }}{{ \"{#\" }}")
case2("ws: newline after var end kept", "{{ 'a' }}\n{{ 'b' }}\n")
case2("ws: block end then spaces then newline", "{% set x = 1 %}   \n{{ x }}")
case2("ws: plus on comment", "a\n  {#+ c #}\nb")
case2("ws: lstrip stops at non-space", "a\n  x {% if true %}y{% endif %}")
case2("ws: two tags on a line", "  {% if true %}{% if true %}\nx\n  {% endif %}{% endif %}\ny")
case2("ws: minus strips unicode spaces", "x\u2003\n {%- if true %}y{% endif %}")
case2("ws: lstrip unicode space", "a\n\u3000{% if true %}b{% endif %}")
case2("ws: crlf with minus", "a\r\n  {%- if true -%}\r\n b\r\n{%- endif %}")
case2("ws: cr alone", "a\rb{% if true %}\rc{% endif %}")
case2("ws: trim only one newline", "{% if true %}\n\nx{% endif %}")
case2("lit: trailing commas", "{{ [1, 2,] }}{{ {'a': 1,} }}{{ (1) }}{{ () }}{{ (1,) }}")
case2("lit: is in without parens", "{{ 'a' is in 'abc' }}{{ 'z' is in ['a'] }}")
case2("expr: ternary with concat", "{{ 'a' ~ 'b' if false else 'c' }}|{{ not none is none }}|{{ 'x' if 1 }}")
case2("expr: inf nan", "{{ 1e300 * 1e300 }} {{ -1e300 * 1e300 }} {{ 10 / 4 }} {{ (1e300 * 1e300)|tojson }}")
case2("filter: round edge", "{{ 1.5|round }} {{ 0.5|round }} {{ -0.5|round }} {{ 2.5|round }} {{ 0.1|round(1) }} {{ 15|round(-1) }} {{ 25|round(-1) }} {{ 1234.5678|round(-2) }} {{ 1.005|round(2) }}")
case2("filter: dictsort reverse", "{{ d|dictsort(reverse=true) }}|{{ {'b': 1, 'A': 2, 'a': 3}|dictsort }}|{{ {'x': 2, 'y': 1}|dictsort(by='value') }}")
case2("filter: map chain", "{{ users|map(attribute='name')|map('upper')|join(', ') }}|{{ messages|selectattr('role', 'in', ['user', 'system'])|list|length }}|{{ ['a', 'b']|map('replace', 'a', 'x')|list }}")
case2("filter: title variants", "{{ 'a-b_c d'|title }}|{{ \"it's o'neil\"|title }}|{{ 'x(y)z[w]'|title }}|{{ 'ÉCOLE été'|title }}")
case2("filter: tojson misc", "{{ messages|tojson }}|{{ {'a': none}|tojson }}|{{ [1e-7, 1e22, -0.0, 123.456]|tojson }}|{{ d|tojson(indent=2)|safe }}")
case2("unicode: case mapping", "{{ 'İ'|lower }}|{{ 'ß'|upper }}|{{ 'ﬁx'|upper }}|{{ 'ﬁx'.title() }}|{{ 'ǆ'|capitalize }}|{{ 'ΣΑΣ'|lower }}|{{ 'straße'.upper() }}|{{ 'ǅ'.lower() }}")
case2("unicode: strip split", "[{{ '¡¡hola!!'.strip('¡!') }}][{{ 'a\u2003b\u00a0c'.split() }}][{{ '你好，世界'.split('，') }}][{{ 'ñandú'.find('d') }}][{{ 'ñandú'|length }}]")
case2("unicode: compare sort", "{{ 'é' > 'z' }}{{ ['é', 'z', 'a', 'É']|sort }}{{ ['é', 'z', 'a', 'É']|sort(case_sensitive=true) }}")
case2("undefined: comparisons", "{{ nothing == 1 }}{{ nothing != 1 }}{{ nothing is none }}{{ none is defined }}{{ nothing|default(none) is none }}{{ nothing or 'x' }}{{ nothing in l }}{{ nothing == nothing }}")
case2("undefined: loop on missing key", "{% for x in d.missing %}x{% else %}e{% endfor %}{% for m in messages %}{{ m.tool_calls|length }}{% endfor %}")
case2("undefined: tests on missing", "{{ messages[0].tool_calls is defined }}{{ messages[0].tool_calls is iterable }}{{ messages[0].tool_calls is none }}")
case2("namespace: holds itself", "{% set ns = namespace(a=1) %}{% set ns.me = ns %}{{ ns }}|{{ ns.me.me.a }}|{% set ns2 = namespace(l=[ns]) %}{{ ns2 }}")
case2("namespace: set new attr", "{% set x = namespace() %}{% set x.a = 1 %}{% set x.b = x.a + 1 %}{{ x.a }}{{ x.b }}{{ x }}")
case2("loop: nested loop variable shadowing", "{% for x in [1, 2] %}{% for x in ['a'] %}{{ x }}{% endfor %}{{ x }}{% endfor %}")
case2("loop: loop var unpack string pairs", "{% for a, b in ['xy', 'zw'] %}{{ b }}{{ a }}{% endfor %}")
case2("loop: break in nested", "{% for x in range(3) %}{% for y in range(3) %}{% if y == 1 %}{% break %}{% endif %}{{ x }}{{ y }} {% endfor %}{% endfor %}")
case2("loop: else after break", "{% for x in l %}{% break %}{% else %}E{% endfor %}done")
case2("loop: else after break later", "{% for x in l %}{% if loop.index == 2 %}{% break %}{% endif %}{{ x }}{% else %}E{% endfor %}done")
case2("loop: else after continue always", "{% for x in l %}{% continue %}{% else %}E{% endfor %}|{% for x in l %}{% if loop.last %}{% continue %}{% endif %}{{ x }}{% else %}E{% endfor %}")
case2("loop: revindex with filter", "{% for x in range(6) if x is odd %}{{ x }}:{{ loop.revindex }}:{{ loop.last }} {% endfor %}")
case2("macro: loop inside macro", "{% macro items(xs) %}{% for x in xs %}{{ loop.index }}={{ x }}{{ ', ' if not loop.last }}{% endfor %}{% endmacro %}[{{ items(l) }}][{{ items([]) }}]")
case2("macro: returns string usable in expressions", "{% macro m() %} pad {% endmacro %}[{{ m()|trim }}][{{ m()|length }}][{{ m() ~ '!' }}]")
case2("macro: defined before use in loop", "{% for x in l %}{% macro sq(v) %}{{ v * v }}{% endmacro %}{{ sq(x) }},{% endfor %}")
case2("set: list of dicts built then printed", "{% set out = [] %}{% for m in messages %}{% set out = out + [m.role] %}{% endfor %}{{ out }}")
case2("set: ns list accumulate", "{% set ns = namespace(roles=[]) %}{% for m in messages %}{% set ns.roles = ns.roles + [m.role] %}{% endfor %}{{ ns.roles|join(',') }}")
case2("str: methods on content", "{% for m in messages %}{{ m.content.strip()|lower }}|{{ m.content.startswith(' ') }}|{{ m.content.split()|length }};{% endfor %}")
case2("str: format with numbers", "{{ '{}-{}'.format(1.5, true) }}|{{ '{0!s}'.format(none) }}|{{ '{a}{b}'.format(a=[1], b={'k': 'v'}) }}")
case2("dict: get on messages", "{% for m in messages %}{{ m.get('reasoning_content', 'NA') }}|{% endfor %}")
case2("dict: iteration order and items unpack", "{% for k, v in users[0].items() %}{{ k }}:{{ v }} {% endfor %}")
case2("dict: keys with special names", "{{ {'items': 1, 'get': 2}['items'] }}{{ {'values': 3}.values() }}{{ {'copy': 4}['copy'] }}")
case2("percent format", "{{ '%s and %s' % ('a', 1) }}|{{ '%d%%' % 42.9 }}|{{ '%5.2f|%-6s|%06d|%+d|%x|%X|%#x|%o|%#o|%e|%g|%r|%c' % (3.14159, 'ab', 42, 5, 255, 255, 255, 8, 8, 12345.678, 0.0001, 'q', 65) }}|{{ '%(name)s is %(age)d' % {'name': 'Bo', 'age': 30} }}|{{ '%s' % nothing }}|{{ '%s' % [1, 2] }}|{{ '%.2s' % 'abc' }}|{{ '%5s|%-5s|' % ('é', 'ü') }}|{{ '%s' % {'a': 1} }}")
case2("format filter", "{{ '%s-%s'|format('a', 'b') }}|{{ '%(x)s!'|format(x=1) }}|{{ 'no fields'|format() }}|{{ '%.1f'|format(2.25) }}|{{ '%i'|format(true) }}")
case2("error: percent too few", "{{ '%s %s' % ('a',) }}")
case2("error: percent too many", "{{ '%s' % ('a', 'b') }}")
case2("error: percent d of str", "{{ '%d' % 'x' }}")
case2("error: float mod zero", "{{ 1.5 % 0 }}")
case2("error: int floordiv zero", "{{ 1 // 0 }}")
case2("error: negative unary str", "{{ -'a' }}")
case2("error: sort mixed", "{{ [1, 'a']|sort }}")
case2("error: not enough to unpack", "{% set a, b = [1] %}")
case2("error: macro unknown kwarg", "{% macro m(a) %}{% endmacro %}{{ m(b=1) }}")
case2("error: in string left int", "{{ 1 in 'abc' }}")
case2("error: string index str", "{{ 'abc'['x'] }}x")
case2("error: startswith int", "{{ 'abc'.startswith(1) }}")
case2("error: empty separator", "{{ 'abc'.split('') }}")
case2("error: round bad method", "{{ 1.5|round(0, 'up') }}")
case2("error: int of undefined", "{{ nothing|int }}")

# --- third batch: macro-heavy tool templates (macros calling later macros with keywords, recursion,
# dictsort, vision counters in namespaces, |items, string-or-tojson ternaries, loop.previtem)
TOOL = {"name": "f", "parameters": {"type": "object", "properties": {"loc": {"type": "string", "description": "City", "enum": ["a", "b"]}, "n": {"type": "integer", "Noneable": True}, "flag": {"type": "boolean", "default": False}}}}
VISION_MESSAGES = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": " look "}, {"image_url": "x"}]}, {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f", "arguments": {"loc": "Paris", "n": 3, "obj": {"z": [1, "ü"]}}}}]}, {"role": "tool", "content": "ok"}, {"role": "tool", "content": "ok2"}, {"role": "user", "content": "bye"}]
TOOL_FORMAT_TEMPLATE = '{%- macro fmt_params(props) -%}{%- set ns = namespace(first=true) -%}{%- for key, value in props | dictsort -%}{%- if not ns.first %},{% endif -%}{%- set ns.first = false -%}{{ key }}:{{ fmt_arg(value, escape_keys=false) }}{%- endfor -%}{%- endmacro -%}\n{%- macro fmt_arg(argument, escape_keys=True) -%}\n    {%- if argument is string -%}{{- \'<|"|>\' + argument + \'<|"|>\' -}}\n    {%- elif argument is boolean -%}{{- \'true\' if argument else \'false\' -}}\n    {%- elif argument is mapping -%}{{- \'{\' -}}{%- set ns = namespace(found_first=false) -%}{%- for key, value in argument | dictsort -%}{%- if ns.found_first %},{% endif -%}{%- set ns.found_first = true -%}{%- if escape_keys -%}{{- \'<|"|>\' + key + \'<|"|>\' -}}{%- else -%}{{- key -}}{%- endif -%}:{{- fmt_arg(value, escape_keys=escape_keys) -}}{%- endfor -%}{{- \'}\' -}}\n    {%- elif argument is sequence -%}{{- \'[\' -}}{%- for item in argument -%}{{- fmt_arg(item, escape_keys=escape_keys) -}}{%- if not loop.last %},{% endif -%}{%- endfor -%}{{- \']\' -}}\n    {%- else -%}{{- argument -}}{%- endif -%}\n{%- endmacro -%}\n{{ fmt_params(tool.parameters.properties) }}\n{{ fmt_arg(tool) }}'
VISION_TEMPLATE = '{%- set image_count = namespace(value=0) %}\n{%- macro render_content(content, do_vision_count, is_system_content=false) %}\n    {%- if content is string %}\n        {{- content }}\n    {%- elif content is iterable and content is not mapping %}\n        {%- for item in content %}\n            {%- if \'image\' in item or \'image_url\' in item or item.type == \'image\' %}\n                {%- if do_vision_count %}{%- set image_count.value = image_count.value + 1 %}{%- endif %}\n                {%- if add_vision_id %}{{- \'Picture \' ~ image_count.value ~ \': \' }}{%- endif %}\n                {{- \'<|vision_start|><|image_pad|><|vision_end|>\' }}\n            {%- elif \'text\' in item %}\n                {{- item.text }}\n            {%- endif %}\n        {%- endfor %}\n    {%- elif content is none or content is undefined %}\n        {{- \'\' }}\n    {%- endif %}\n{%- endmacro %}\n{%- for message in messages %}\n    {%- set content = render_content(message.content, true)|trim %}\n    {{- \'<|im_start|>\' + message.role + \'\\n\' + content }}\n    {%- if message.tool_calls and message.tool_calls is iterable and message.tool_calls is not mapping %}\n        {%- for tool_call in message.tool_calls %}\n            {%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}\n            {%- if tool_call.arguments is defined %}\n                {%- for args_name, args_value in tool_call.arguments|items %}\n                    {{- \'<parameter=\' + args_name + \'>\\n\' }}\n                    {%- set args_value = args_value | string if args_value is string else args_value | tojson | safe %}\n                    {{- args_value }}\n                {%- endfor %}\n            {%- endif %}\n        {%- endfor %}\n    {%- endif %}\n    {%- if message.role == "tool" %}\n        {%- if loop.previtem and loop.previtem.role != "tool" %}{{- \'<|im_start|>user\' }}{%- endif %}\n        {%- if not loop.last and loop.nextitem.role != "tool" %}{{- \'<|im_end|>\\n\' }}{%- elif loop.last %}{{- \'<|im_end|>\\n\' }}{%- endif %}\n    {%- endif %}\n    {{- \'<|im_end|>\\n\' }}\n{%- endfor %}'
case2("macros: recursive tool formatting", TOOL_FORMAT_TEMPLATE, tool=TOOL)
case2("macros: vision content and tool arguments", VISION_TEMPLATE, messages=VISION_MESSAGES, add_vision_id=True)
case2("macros: vision content without ids", VISION_TEMPLATE, messages=VISION_MESSAGES)
C.extend(C2)
json.dump({"now": "2026-07-26T14:05:09", "default_context": default_context, "cases": C},
          open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "edge_cases.json"), "w", encoding="utf-8"), ensure_ascii=False, indent=1)
print(len(C))
