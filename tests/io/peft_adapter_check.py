#!/usr/bin/env python3
"""Independent check of a PEFT LoRA adapter against the base model it is meant for (numpy only).

  peft_adapter_check.py ADAPTER_DIR BASE_DIR

ADAPTER_DIR holds adapter_model.safetensors + adapter_config.json (what PEFT's save_pretrained
writes, and what `ptft finetune` writes for LoRA runs). BASE_DIR is a Hugging Face model directory
(config.json + model.safetensors, e.g. one written by hf_bert_reference.py make DIR --classifier K)
whose tensor names are the base model's `named_parameters()` (the model PEFT wraps: for task_type
SEQ_CLS a ...ForSequenceClassification, its names with the "bert." prefix). Exit 0 and one line
"ok: ..." when PeftModel.from_pretrained(base, ADAPTER_DIR) would load every tensor into a module
it adapts, with nothing missing and nothing left over; else exit 1, every problem on stderr.

The rules, as PEFT (peft/tuners/tuners_utils.py, peft/utils/save_and_load.py, peft/peft_model.py)
states them:
  * adapter_config.json: peft_type "LORA"; r a positive integer; lora_alpha a positive number;
    task_type null or one of PEFT's TaskType values (SEQ_CLS for a sequence classifier);
    target_modules a list of names or one regular expression; bias "none" (the only kind this
    check handles); fan_in_fan_out false for nn.Linear models (BERT; GPT-2's Conv1D: true);
    modules_to_save null or a list.
  * A module is adapted when its name equals a target_modules entry or ends in "." + entry (a
    string target_modules must re.fullmatch the name); it must be a Linear (a 2-D weight; not an
    embedding, which has its own lora_embedding_A/B). modules_to_save take precedence: a module
    whose name ends with one of them is wrapped for saving instead (SEQ_CLS adds "classifier" and
    "score" to them).
  * adapter_model.safetensors: for each adapted module M with base weight (out, in) ((in, out)
    with fan_in_fan_out), base_model.model.M.lora_A.weight (r, in) and .lora_B.weight (out, r);
    for each parameter P of a modules_to_save module, base_model.model.P with the base shape.
    Any other key is unexpected; a missing one leaves PEFT's random initialisation in place.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from safetensors_np import read_safetensors  # noqa: E402

PREFIX = "base_model.model."
TASK_TYPES = {"SEQ_CLS", "SEQ_2_SEQ_LM", "CAUSAL_LM", "TOKEN_CLS", "QUESTION_ANS", "FEATURE_EXTRACTION"}


def is_target(target_modules, name):
    if isinstance(target_modules, str):
        return re.fullmatch(target_modules, name) is not None
    return any(name == t or name.endswith("." + t) for t in target_modules)


def check(adapter_dir, base_dir):
    problems = []
    with open(os.path.join(adapter_dir, "adapter_config.json")) as f:
        config = json.load(f)
    with open(os.path.join(base_dir, "config.json")) as f:
        base_config = json.load(f)
    base = {n: a for n, a in read_safetensors(os.path.join(base_dir, "model.safetensors")).items()
            if a.dtype.kind == "f"}  # parameters; integer buffers (position_ids) are none
    adapter = read_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"))

    # --- adapter_config.json
    if config.get("peft_type") != "LORA":
        problems.append("peft_type is %r, not \"LORA\"" % config.get("peft_type"))
    r = config.get("r")
    if not isinstance(r, int) or isinstance(r, bool) or r <= 0:
        problems.append("r is %r, not a positive integer" % (r,))
        r = None
    alpha = config.get("lora_alpha")
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or alpha <= 0:
        problems.append("lora_alpha is %r, not a positive number" % (alpha,))
    task = config.get("task_type")
    if task is not None and task not in TASK_TYPES:
        problems.append("task_type %r is none of PEFT's %s" % (task, sorted(TASK_TYPES)))
    if "ForSequenceClassification" in " ".join(base_config.get("architectures", [])) and task != "SEQ_CLS":
        problems.append("task_type is %r for a sequence classifier (PEFT: SEQ_CLS)" % (task,))
    if config.get("bias", "none") != "none":
        problems.append("bias is %r; this check handles \"none\" only" % config.get("bias"))
    for flag in ("use_dora", "use_rslora"):
        if config.get(flag):
            problems.append("%s is set; this check handles plain LoRA only" % flag)
    for pattern in ("rank_pattern", "alpha_pattern"):
        if config.get(pattern):
            problems.append("%s is set; this check handles one r for all modules" % pattern)
    fan_in_fan_out = config.get("fan_in_fan_out", False)
    if base_config.get("model_type") == "bert" and fan_in_fan_out:
        problems.append("fan_in_fan_out is true, but BERT's projections are nn.Linear (weight (out, in))")
    targets = config.get("target_modules")
    if not (isinstance(targets, str) or (isinstance(targets, list) and targets and
                                         all(isinstance(t, str) for t in targets))):
        problems.append("target_modules is %r, not a list of names or a regular expression" % (targets,))
        targets = []
    to_save = config.get("modules_to_save") or []
    if not isinstance(to_save, list) or not all(isinstance(m, str) for m in to_save):
        problems.append("modules_to_save is %r, not null or a list of names" % (to_save,))
        to_save = []
    if task == "SEQ_CLS":
        to_save = list(to_save) + ["classifier", "score"]

    # --- the base model's modules: every dotted prefix of a parameter name
    modules = set()
    for name in base:
        parts = name.split(".")
        for i in range(1, len(parts)):
            modules.add(".".join(parts[:i]))

    saved = {m for m in modules if any(m.endswith(s) for s in to_save)}
    adapted = sorted(m for m in modules if m not in saved and is_target(targets, m))
    if targets and not adapted:
        problems.append("target_modules %r match no module of the base model (PEFT: \"Target modules ... not found\")"
                        % (targets,))
    for s in config.get("modules_to_save") or []:
        if not any(m.endswith(s) for m in modules):
            problems.append("modules_to_save entry %r names no module of the base model" % s)

    # --- the tensors
    expected = {}  # adapter key -> shape
    for m in adapted:
        w = base.get(m + ".weight")
        if w is None or w.ndim != 2 or m.split(".")[-1].endswith("embeddings"):
            problems.append("target module %s is no Linear layer (PEFT cannot adapt it)" % m)
            continue
        out_f, in_f = (w.shape[1], w.shape[0]) if fan_in_fan_out else w.shape
        if r is not None:
            expected[PREFIX + m + ".lora_A.weight"] = (r, in_f)
            expected[PREFIX + m + ".lora_B.weight"] = (out_f, r)
    for name, a in base.items():
        if name.rsplit(".", 1)[0] in saved:
            expected[PREFIX + name] = a.shape
    saved_keys = {PREFIX + n for n in base if n.rsplit(".", 1)[0] in saved}
    for key, array in sorted(adapter.items()):
        if key not in expected:
            why = "no module PEFT adapts or saves" if key.startswith(PREFIX) else "not under " + PREFIX
            problems.append("unexpected tensor %s (%s)" % (key, why))
        elif tuple(array.shape) != tuple(expected[key]):
            problems.append("%s has shape %s, PEFT expects %s" % (key, list(array.shape), list(expected[key])))
        elif array.dtype.kind != "f":
            problems.append("%s has dtype %s, not floating point" % (key, array.dtype))
    for key in sorted(set(expected) - set(adapter)):
        if key not in saved_keys:  # a saved module's tensors are optional (the base's are kept)
            problems.append("missing tensor %s (PEFT would leave it at its initial value)" % key)
    lora = sum(1 for k in adapter if k in expected and k not in saved_keys)
    return problems, "ok: %d adapted modules (%d LoRA tensors), %d saved tensors, target_modules %s" % (
        len(adapted), lora, sum(1 for k in adapter if k in saved_keys), json.dumps(targets))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    problems, summary = check(argv[0], argv[1])
    for p in problems:
        sys.stderr.write("peft_adapter_check: %s\n" % p)
    if problems:
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
