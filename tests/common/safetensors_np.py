"""safetensors <-> numpy for the reference scripts of golden tests (no torch, no safetensors package).

  from safetensors_np import read_safetensors, write_safetensors
  write_safetensors("m.safetensors", [("w", np.zeros((2, 3), np.float32))])
  tensors = read_safetensors("m.safetensors")   # {name: numpy array}
"""
import json
import struct

import numpy as np

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
          "U8": np.uint8, "BOOL": np.bool_}


# ------------------------------------------------------------------------------------------------
# safetensors: [u64 LE header length N][N bytes of JSON header][data]

def write_safetensors(path, tensors):
    """tensors: list of (name, numpy array); written in this order, tightly packed."""
    header = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, array in tensors:
        array = np.asarray(array, order="C")  # keeps 0-d arrays 0-d (ascontiguousarray would not)
        dtype = {np.dtype(v): k for k, v in DTYPES.items()}[array.dtype]
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
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
            bits = np.frombuffer(chunk, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        else:
            array = np.frombuffer(chunk, dtype=np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
        out[name] = array.reshape(info["shape"])
    return out
