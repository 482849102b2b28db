"""safetensors <-> numpy for the reference scripts of golden tests (no torch, no safetensors package).

  from safetensors_np import read_safetensors, write_safetensors
  write_safetensors("m.safetensors", [("w", np.zeros((2, 3), np.float32))])
  tensors = read_safetensors("m.safetensors")   # {name: numpy array}

bfloat16 (numpy has none):
  write_safetensors(path, [("w", x, "BF16")])   # x float: rounded to bf16 (round-to-nearest-even, as
                                                 # torch's .to(torch.bfloat16)); x uint16: taken as bit patterns
  f32_to_bf16_bits(x) -> uint16 bit patterns;  bf16_bits_to_f32(bits) -> float32;  round_to_bf16(x) -> float32
  read_safetensors() returns BF16 tensors as float32 (exact: bf16 is the upper half of a float32);
  read_safetensors(path, raw_bf16=True) returns them as their uint16 bit patterns instead.

Sharded checkpoints (Hugging Face's layout):
  write_sharded(dir, tensors, max_shard_bytes)  # model-0000i-of-0000N.safetensors + model.safetensors.index.json
  read_model_dir(dir)                           # model.safetensors, or every shard named by the index
  read_header(path)                             # {name: {"dtype", "shape", "data_offsets"}} (+ "__metadata__")
"""
import json
import os
import struct

import numpy as np

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
          "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}
ITEM_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}

INDEX_NAME = "model.safetensors.index.json"
SINGLE_NAME = "model.safetensors"


# ------------------------------------------------------------------------------------------------
# bfloat16 as uint16 bit patterns

def f32_to_bf16_bits(x):
    """float array -> uint16 bf16 bit patterns, round-to-nearest-even on the dropped 16 bits (torch's
    rule); NaN -> 0x7FC0 (quiet, sign dropped, as torch does); +-inf stay inf; overflow rounds to inf."""
    f = np.asarray(x, dtype=np.float32)
    bits = f.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    out = rounded.astype(np.uint16)
    return np.where(np.isnan(f), np.uint16(0x7FC0), out).astype(np.uint16)


def bf16_bits_to_f32(bits):
    b = np.asarray(bits, dtype=np.uint16)
    return (b.astype(np.uint32) << 16).view(np.float32)


def round_to_bf16(x):
    """The float32 value x takes after a round trip through bfloat16."""
    return bf16_bits_to_f32(f32_to_bf16_bits(x))


# ------------------------------------------------------------------------------------------------
# safetensors: [u64 LE header length N][N bytes of JSON header][data]

def _items(tensors):
    return list(tensors.items()) if isinstance(tensors, dict) else list(tensors)


def _encode(entry):
    """(name, array) or (name, array, "BF16") -> (name, dtype string, shape, bytes)."""
    if len(entry) == 3:
        name, array, tag = entry
    else:
        (name, array), tag = entry, None
    array = np.asarray(array, order="C")  # keeps 0-d arrays 0-d (ascontiguousarray would not)
    if tag == "BF16":
        bits = array if array.dtype == np.uint16 else f32_to_bf16_bits(array)
        return name, "BF16", list(array.shape), np.asarray(bits, dtype="<u2", order="C").tobytes()
    dtype = {np.dtype(v): k for k, v in DTYPES.items()}.get(array.dtype)
    if dtype is None or (tag is not None and tag != dtype):
        raise ValueError("%s: cannot store numpy %s as %s" % (name, array.dtype, tag or "safetensors"))
    data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return name, dtype, list(array.shape), data


def tensor_nbytes(entry):
    return len(_encode(entry)[3])


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, numpy array) or (name, array, "BF16"), or a dict name -> array; written in
    this order, tightly packed. metadata: the "__metadata__" strings (default {"format": "pt"})."""
    header = {"__metadata__": dict(metadata) if metadata is not None else {"format": "pt"}}
    blobs, offset = [], 0
    for entry in _items(tensors):
        name, dtype, shape, data = _encode(entry)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


def read_safetensors(path, raw_bf16=False):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        chunk = data[begin:end]
        if info["dtype"] == "BF16":  # the upper half of a float32
            bits = np.frombuffer(chunk, dtype="<u2")
            array = bits.astype(np.uint16) if raw_bf16 else bf16_bits_to_f32(bits)
        else:
            array = np.frombuffer(chunk, dtype=np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
        out[name] = array.reshape(info["shape"])
    return out


# ------------------------------------------------------------------------------------------------
# Hugging Face sharded checkpoints

def shard_file_name(i, n):
    """Hugging Face's name for shard i (1-based) of n: model-00001-of-00003.safetensors."""
    return "model-%05d-of-%05d.safetensors" % (i, n)


def plan_shards(sizes, max_shard_bytes):
    """Hugging Face's greedy split (huggingface_hub.split_state_dict_into_shards_factory): tensors in
    order; a tensor larger than max_shard_bytes gets a shard of its own; otherwise the current shard is
    closed when this tensor would take it past max_shard_bytes. sizes: list of (name, bytes) -> list of
    lists of names."""
    shards, current, current_size = [], [], 0
    for name, size in sizes:
        if size > max_shard_bytes:
            shards.append([name])
            continue
        if current and current_size + size > max_shard_bytes:
            shards.append(current)
            current, current_size = [], 0
        current.append(name)
        current_size += size
    if current:
        shards.append(current)
    return shards


def write_sharded(out_dir, tensors, max_shard_bytes, metadata=None):
    """Writes tensors (list of (name, array[, "BF16"]) or a dict, in state-dict order) as Hugging Face does
    with save_pretrained(max_shard_size=...): model-0000i-of-0000N.safetensors and
    model.safetensors.index.json = {"metadata": {"total_size": bytes of all tensor data},
    "weight_map": {name: file}} (indent 2, keys sorted, as transformers writes it). With a single shard
    HF writes model.safetensors and no index; so does this. Returns the list of file names written."""
    entries = _items(tensors)
    by_name = {e[0]: e for e in entries}
    sizes = [(e[0], tensor_nbytes(e)) for e in entries]
    shards = plan_shards(sizes, max_shard_bytes)
    os.makedirs(out_dir, exist_ok=True)
    if len(shards) == 1:
        write_safetensors(os.path.join(out_dir, SINGLE_NAME), entries, metadata)
        return [SINGLE_NAME]
    files, weight_map = [], {}
    for i, names in enumerate(shards):
        fname = shard_file_name(i + 1, len(shards))
        write_safetensors(os.path.join(out_dir, fname), [by_name[n] for n in names], metadata)
        files.append(fname)
        for n in names:
            weight_map[n] = fname
    index = {"metadata": {"total_size": sum(s for _, s in sizes)}, "weight_map": weight_map}
    with open(os.path.join(out_dir, INDEX_NAME), "w") as f:
        f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return files


def max_shard_bytes_for(sizes, n_shards):
    """The smallest max_shard_bytes for which plan_shards gives exactly n_shards shards (None if none does).
    sizes: list of (name, bytes)."""
    lo, hi = 1, max(1, sum(s for _, s in sizes))
    while lo < hi:  # fewest bytes with <= n_shards shards (the count falls as the limit grows)
        mid = (lo + hi) // 2
        if len(plan_shards(sizes, mid)) <= n_shards:
            hi = mid
        else:
            lo = mid + 1
    return lo if len(plan_shards(sizes, lo)) == n_shards else None


def model_files(model_dir):
    """The safetensors files of a Hugging Face model directory: the shards the index names (in order), or
    model.safetensors."""
    index = os.path.join(model_dir, INDEX_NAME)
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        return sorted(set(weight_map.values()))
    return [SINGLE_NAME]


def read_model_dir(model_dir, raw_bf16=False):
    """{name: array} of a Hugging Face model directory, single file or sharded."""
    out = {}
    for fname in model_files(model_dir):
        for name, array in read_safetensors(os.path.join(model_dir, fname), raw_bf16).items():
            if name in out:
                raise ValueError("%s: tensor %s appears in two files" % (model_dir, name))
            out[name] = array
    return out


def read_model_dir_header(model_dir):
    """{name: {"dtype", "shape", "file"}} of a Hugging Face model directory, single file or sharded."""
    out = {}
    for fname in model_files(model_dir):
        for name, info in read_header(os.path.join(model_dir, fname)).items():
            if name == "__metadata__":
                continue
            out[name] = {"dtype": info["dtype"], "shape": list(info["shape"]), "file": fname,
                         "nbytes": info["data_offsets"][1] - info["data_offsets"][0]}
    return out
