#!/usr/bin/env python3
"""Renders chat templates with Python's jinja2 exactly as transformers' apply_chat_template does.

The reference of tests/jinja/*_test.cpp. Environment as in transformers'
utils/chat_template_utils.py (_compile_jinja_template): ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks and the loopcontrols extension; its own `tojson` filter (json.dumps,
no HTML escaping, ensure_ascii/indent/separators/sort_keys exposed); globals raise_exception
(TemplateError) and strftime_now; a `{% generation %}` block that renders its body (transformers'
AssistantTracker, inactive). strftime_now reads a fixed clock here so that outputs are stable.

    render_reference.py CASES.json
        CASES.json: {"now": "2026-07-26T14:05:09", "default_context": {...},
                     "cases": [{"name": N, "template": T, "context": {...}}, ...]}
        (a case's context is default_context updated with its own)
        stdout: a JSON list, one entry per case: {"output": S, "generation_spans": [[B, E], ...]}
                or {"error": TYPE, "message": S}; spans are UTF-8 byte offsets into S
"""
import datetime
import json
import sys

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment


class GenerationBlock(jinja2.ext.Extension):
    """`{% generation %}...{% endgeneration %}`: renders its body and, while a render is being
    tracked, records the span of that body in the output, as transformers' AssistantTracker does
    (apply_chat_template(return_assistant_tokens_mask=True)): the length of the output rendered
    so far, then that plus the body's length."""

    tags = {"generation"}

    def __init__(self, environment):
        super().__init__(environment)
        self.rendered_blocks = None
        self.spans = None

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render_body"), [], [], body).set_lineno(lineno)

    def _render_body(self, caller):
        rv = caller()
        if self.rendered_blocks is not None:
            start = len("".join(self.rendered_blocks))
            self.spans.append((start, start + len(rv)))
        return rv


def make_environment(now):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def strftime_now(format):
        return now.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationBlock, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render_case(env, case, default_context=None):
    context = dict(default_context or {})
    context.update(case.get("context", {}))
    try:
        template = env.from_string(case["template"])
        tracker = next(e for e in env.extensions.values() if isinstance(e, GenerationBlock))
        blocks, spans = [], []
        tracker.rendered_blocks, tracker.spans = blocks, spans
        try:
            for block in template.generate(**context):
                blocks.append(block)
        finally:
            tracker.rendered_blocks, tracker.spans = None, None
        output = "".join(blocks)
        to_bytes = lambda i: len(output[:i].encode("utf-8"))
        return {"output": output, "generation_spans": [[to_bytes(b), to_bytes(e)] for b, e in spans]}
    except Exception as e:  # every failure is an expected outcome the C++ side must match
        return {"error": type(e).__name__, "message": str(e),
                "line": getattr(e, "lineno", None)}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    now = datetime.datetime.fromisoformat(spec.get("now", "2026-07-26T14:05:09"))
    env = make_environment(now)
    results = [render_case(env, case, spec.get("default_context")) for case in spec["cases"]]
    sys.stdout.write(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
