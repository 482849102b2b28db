// tests/io/gguf_check.js — @huggingface/gguf (the Hugging Face Hub's JavaScript GGUF parser and
// header writer) as a command, for tests/io/gguf_reference_test.cpp.
//
//   node gguf_check.js ROOT read FILE         prints FILE's header as the reference reads it
//   node gguf_check.js ROOT rewrite IN OUT    reads IN, adds the keys of EXTRA below and writes
//                                             OUT with the package's header writer
//                                             (buildGgufHeader) followed by IN's tensor data
// ROOT is the directory scripts/fetch-gguf-reference.sh filled.
//
// read prints {"version", "tensor_count", "kv_count", "tensor_data_offset",
//              "metadata": [{"key", "type", "sub_type" (arrays), "value"}] (file order),
//              "tensors": [{"name", "n_dims", "shape" (ggml order), "dtype", "offset"}]}
// with every number as a string (bigints exactly; floats as JS prints them, "NaN", "-0"), so
// that JSON loses nothing.
"use strict";
const fs = require("fs");
const path = require("path");

const [root, command, ...args] = process.argv.slice(2);
const ref = require(path.join(root, "node_modules/@huggingface/gguf"));
const T = ref.GGUFValueType;

// Keys the reference writes in `rewrite`; the C++ test expects exactly these values.
const EXTRA = {
  "js.u16": { type: T.UINT16, value: 65535 },
  "js.i32": { type: T.INT32, value: -123456 },
  "js.f32": { type: T.FLOAT32, value: 0.1 },
  "js.bool": { type: T.BOOL, value: false },
  "js.str": { type: T.STRING, value: "h\u00e9llo \u2581" },
  "js.u64": { type: T.UINT64, value: 2n ** 64n - 1n },
  "js.i64": { type: T.INT64, value: -(2n ** 63n) },
  "js.f64": { type: T.FLOAT64, value: -2.5e-300 },
  "js.strs": { type: T.ARRAY, subType: T.STRING, value: ["a", "", "\u00fc"] },
  "js.i16s": { type: T.ARRAY, subType: T.INT16, value: [-1, 2] },
  "js.empty": { type: T.ARRAY, subType: T.UINT32, value: [] },
};

function encode(v) {
  if (Array.isArray(v)) return v.map(encode);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  return v;  // string or boolean
}

async function parse(file) {
  return ref.gguf(file, { allowLocalFile: true, typedMetadata: true });
}

async function read(file) {
  const r = await parse(file);
  const header = new Set(["version", "tensor_count", "kv_count"]);
  const metadata = Object.entries(r.typedMetadata)
    .filter(([key]) => !header.has(key))
    .map(([key, e]) => ({ key, type: e.type, sub_type: e.subType ?? null, value: encode(e.value) }));
  const tensors = r.tensorInfos.map((t) => ({
    name: t.name, n_dims: t.n_dims, shape: t.shape.map(String), dtype: t.dtype, offset: String(t.offset),
  }));
  return {
    version: r.metadata.version, tensor_count: String(r.metadata.tensor_count),
    kv_count: String(r.metadata.kv_count), tensor_data_offset: String(r.tensorDataOffset), metadata, tensors,
  };
}

async function rewrite(input, output) {
  const r = await parse(input);
  const bytes = fs.readFileSync(input);
  const typed = { ...r.typedMetadata, ...EXTRA };
  typed.kv_count = { ...typed.kv_count, value: BigInt(Object.keys(typed).length - 3) };
  const alignment = Number(r.metadata["general.alignment"] ?? 32);
  const header = await ref.buildGgufHeader(new Blob([bytes]), typed, {
    littleEndian: r.littleEndian, tensorInfoByteRange: r.tensorInfoByteRange, alignment,
  });
  const data = bytes.subarray(Number(r.tensorDataOffset));
  fs.writeFileSync(output, Buffer.concat([Buffer.from(await header.arrayBuffer()), data]));
}

(async () => {
  if (command === "read") console.log(JSON.stringify(await read(args[0])));
  else if (command === "rewrite") await rewrite(args[0], args[1]);
  else throw new Error("usage: node gguf_check.js ROOT read FILE | rewrite IN OUT");
})().catch((e) => {
  console.error("gguf_check.js: " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
