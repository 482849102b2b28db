// Abuse of a running `ptft serve` for a bounded time (issue 21, item 5), with Node's own http and
// net modules only. ROUNDS rounds of:
//   malformed  bodies that are not valid requests (broken JSON, deep nesting, wrong types,
//              invalid UTF-8, NUL bytes): every answer must be a 4xx with an OpenAI error body;
//   huge       bodies over --max-body-bytes (Content-Length, chunked, a lying Content-Length):
//              413 or a closed connection, never 200;
//   slow       connections that send part of the headers or part of the body, or trickle a byte
//              every 2 s, and stall; /health is timed meanwhile;
//   flood      hundreds of connections at once: /health, and completions beyond the queue (503);
//   cancelled  streamed completions whose socket is destroyed after the first event.
// After the rounds, bodies nested 100k-200k deep where the server reports the wrong value.
// Before and after: a greedy completion whose text must stay the same, and the server's VmRSS.
// Prints one JSON line: counts of each kind and answer, RSS (MB) before / peak / after each
// round, /health latency during the slow phase, and `failures` (a list; empty when all is well).
//
//   node bench/serve_abuse.mjs PORT PID [ROUNDS=2] [MAX_BODY_BYTES=1048576]
//   ABUSE_PHASES=malformed,huge  only these phases (default: all; "deep" is the final probe)
import http from "node:http";
import net from "node:net";
import fs from "node:fs";

const [port, pid, roundsArg = "2", maxBodyArg = "1048576"] = process.argv.slice(2);
const PORT = Number(port), ROUNDS = Number(roundsArg), MAX_BODY = Number(maxBodyArg);
const PHASES = (process.env.ABUSE_PHASES || "malformed,huge,slow,flood,cancelled,deep").split(",");
const failures = [];
const fail = (what) => { if (failures.length < 50) failures.push(what); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const rssMb = () => {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch { return null; }  // the process is gone
};
let peak = 0;
const sampler = setInterval(() => { const r = rssMb(); if (r !== null && r > peak) peak = r; }, 50);

// One request on a fresh connection; resolves {status, body} or {error}.
function request(method, path, body, {headers = {}, timeoutMs = 30000} = {}) {
  return new Promise((resolve) => {
    const req = http.request({host: "127.0.0.1", port: PORT, method, path, agent: false, timeout: timeoutMs,
      headers: {"Content-Type": "application/json", ...headers}}, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({status: res.statusCode, body: Buffer.concat(chunks).toString("utf8")}));
      res.on("error", (e) => resolve({error: e.code || e.message}));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({error: e.code || e.message}));
    if (body !== undefined) req.write(body);
    req.end();
  });
}
const count = (tally, key) => { tally[key] = (tally[key] || 0) + 1; };
const keyOf = (r) => (r.error ? `error ${r.error}` : String(r.status));

const NORMAL = JSON.stringify({prompt: "This License applies to", max_tokens: 12, temperature: 0});
async function normal() {
  const r = await request("POST", "/v1/completions", NORMAL);
  if (r.status !== 200) return {ok: false, detail: keyOf(r) + " " + (r.body || "").slice(0, 200)};
  try { return {ok: true, text: JSON.parse(r.body).choices[0].text}; }
  catch (e) { return {ok: false, detail: "not JSON: " + r.body.slice(0, 200)}; }
}

// ---- malformed
function malformedBodies() {
  const deep = (n) => "[".repeat(n) + "]".repeat(n);
  return [
    ["truncated", '{"prompt": "abc", "max_tokens": 4'],
    ["not json", "hello there"],
    ["empty", ""],
    ["array", "[1, 2, 3]"],
    ["number", "12"],
    ["null", "null"],
    ["prompt number", '{"prompt": 12}'],
    ["prompt object", '{"prompt": {"a": 1}}'],
    ["prompt 2 strings", '{"prompt": ["a", "b"]}'],
    ["max_tokens string", '{"prompt": "a", "max_tokens": "7"}'],
    ["max_tokens huge", '{"prompt": "a", "max_tokens": 1e300}'],
    ["max_tokens negative", '{"prompt": "a", "max_tokens": -5}'],
    ["temperature nan-ish", '{"prompt": "a", "temperature": 1e999}'],
    ["top_p 0", '{"prompt": "a", "top_p": 0}'],
    ["stop 5", '{"prompt": "a", "stop": ["a","b","c","d","e"]}'],
    ["n 2", '{"prompt": "a", "n": 2}'],
    ["tools", '{"prompt": "a", "tools": [{"type": "function", "function": {"name": "f"}}]}'],
    ["invalid utf8", Buffer.from([0x7b, 0x22, 0x70, 0x72, 0x6f, 0x6d, 0x70, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    ["raw NUL in a string", '{"prompt": "a\0b", "max_tokens": 1}'],
    ["deep array 1000 as prompt", `{"prompt": ${deep(1000)}}`],
    ["deep array 400k in an unknown field", `{"prompt": "a", "max_tokens": 1, "x": ${deep(400000)}}`],
    ["deep object 100k", '{"a":'.repeat(100000) + "1" + "}".repeat(100000)],
    ["deep array 10k as chat content", `{"messages": [{"role": "user", "content": ${deep(10000)}}]}`],
    ["chat no messages", '{"messages": []}'],
    ["chat bad role", '{"messages": [{"role": "robot", "content": "x"}]}'],
    ["long prompt", JSON.stringify({prompt: "word ".repeat(100000), max_tokens: 1})],
    ["many keys", "{" + Array.from({length: 40000}, (_, i) => `"k${i}": ${i}`).join(",") + ', "prompt": "a", "max_tokens": 1}'],
  ];
}
async function malformed(tally) {
  for (const [name, body] of malformedBodies()) {
    const path = name.includes("chat") || name.includes("messages") ? "/v1/chat/completions" : "/v1/completions";
    const r = await request("POST", path, body);
    count(tally, keyOf(r));
    if (r.error || r.status >= 500) fail(`malformed '${name}': ${keyOf(r)} ${(r.body || "").slice(0, 160)}`);
    else if (r.status === 200 && name !== "many keys" && !name.includes("unknown field"))
      fail(`malformed '${name}': 200`);
    else if (r.status !== 200) {
      try { if (!JSON.parse(r.body).error) fail(`malformed '${name}': ${r.status} without an error object`); }
      catch { fail(`malformed '${name}': ${r.status} body not JSON: ${r.body.slice(0, 100)}`); }
    }
  }
}

// ---- huge
function rawExchange(write, {timeoutMs = 20000} = {}) {
  // Opens a socket, lets `write(sock)` send; resolves with the status line read back (or how it ended).
  return new Promise((resolve) => {
    const sock = net.connect(PORT, "127.0.0.1");
    let data = "", done = false;
    const finish = (v) => { if (!done) { done = true; clearTimeout(t); sock.destroy(); resolve(v); } };
    const t = setTimeout(() => finish("timeout"), timeoutMs);
    sock.on("connect", () => write(sock));
    sock.on("data", (d) => {
      data += d.toString("latin1");
      const m = data.match(/^HTTP\/1\.1 (\d{3})/);
      if (m && data.includes("\r\n\r\n")) finish(m[1]);
    });
    sock.on("error", (e) => finish(data.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? `error ${e.code}`));
    sock.on("close", () => finish(data.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? "closed"));
  });
}
async function huge(tally) {
  const big = Buffer.alloc(MAX_BODY * 4, 0x61);
  const bodyOver = Buffer.concat([Buffer.from('{"prompt": "'), big, Buffer.from('"}')]);
  const kinds = [
    ["content-length 4x", (s) => { s.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${bodyOver.length}\r\n\r\n`); s.write(bodyOver); }],
    ["lying content-length 1 GB", (s) => { s.write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"); s.write(big.subarray(0, 65536)); s.end(); }],
    ["chunked 4x", (s) => {
      s.write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (let o = 0; o < bodyOver.length; o += 65536) {
        const c = bodyOver.subarray(o, o + 65536);
        s.write(c.length.toString(16) + "\r\n"); s.write(c); s.write("\r\n");
      }
      s.write("0\r\n\r\n");
    }],
    ["header line 100 KB", (s) => { s.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(100000)}\r\n\r\n`); }],
    ["10000 headers", (s) => { s.write("GET /health HTTP/1.1\r\nHost: x\r\n" + Array.from({length: 10000}, (_, i) => `X-H${i}: v`).join("\r\n") + "\r\n\r\n"); }],
    ["uri 100 KB", (s) => { s.write(`GET /health?${"q".repeat(100000)} HTTP/1.1\r\nHost: x\r\n\r\n`); }],
  ];
  for (let i = 0; i < 3; i++)
    for (const [name, write] of kinds) {
      const st = await rawExchange(write);
      count(tally, `${name}: ${st}`);
      if (st === "200" && !name.includes("headers")) fail(`huge '${name}': 200`);
      if (st === "timeout") fail(`huge '${name}': no answer and no close in 20 s`);
      if (/^5/.test(st)) fail(`huge '${name}': ${st}`);
    }
}

// ---- slow
async function slow(tally, seconds) {
  const socks = [];
  const open = (first, trickle) => {
    const s = net.connect(PORT, "127.0.0.1");
    s.on("error", () => {});
    s.on("close", () => count(tally, "closed by server"));
    s.on("connect", () => {
      s.write(first);
      if (trickle) s.timer = setInterval(() => s.write("X-A: b\r\n"), 2000);
    });
    socks.push(s);
  };
  for (let i = 0; i < 20; i++) open("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Le", false);    // half a header
  for (let i = 0; i < 20; i++) open("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"prompt\":", false);  // half a body
  for (let i = 0; i < 20; i++) open("GET /health HTTP/1.1\r\nHost: x\r\n", true);                         // a header every 2 s
  for (let i = 0; i < 20; i++) open("", false);                                                            // connect, send nothing
  tally.opened = socks.length;
  await sleep(300);
  const lat = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const t0 = performance.now();
    const r = await request("GET", "/health", undefined, {timeoutMs: 15000});
    const ms = Math.round(performance.now() - t0);
    lat.push(r.status === 200 ? ms : `${keyOf(r)} after ${ms}`);
    await sleep(500);
  }
  for (const s of socks) { clearInterval(s.timer); s.destroy(); }
  return lat;
}

// ---- flood
async function flood(tally) {
  const health = Array.from({length: 400}, () => request("GET", "/health", undefined, {timeoutMs: 60000}));
  const comps = Array.from({length: 200}, () => request("POST", "/v1/completions",
    JSON.stringify({prompt: "You may", max_tokens: 2, temperature: 0}), {timeoutMs: 60000}));
  for (const r of await Promise.all(health)) count(tally, `health ${keyOf(r)}`);
  for (const r of await Promise.all(comps)) {
    count(tally, `completion ${keyOf(r)}`);
    if (r.status >= 500 && r.status !== 503) fail(`flood completion: ${r.status} ${r.body.slice(0, 160)}`);
  }
  if ((tally["health 200"] || 0) === 0) fail("flood: no /health answered");
}

// ---- cancelled mid-stream
async function cancelled(tally, n) {
  for (let i = 0; i < n; i++) {
    await new Promise((resolve) => {
      const req = http.request({host: "127.0.0.1", port: PORT, method: "POST", path: "/v1/completions", agent: false,
        headers: {"Content-Type": "application/json"}}, (res) => {
        res.once("data", () => { req.destroy(); count(tally, "cancelled after the first event"); resolve(); });
        res.on("end", () => { count(tally, "ended before cancel"); resolve(); });
      });
      req.on("error", () => resolve());
      req.end(JSON.stringify({prompt: "This", max_tokens: 2000, temperature: 1, stream: true}));
    });
  }
  // The next request must not wait for the cancelled generations to run out.
  const t0 = performance.now();
  const r = await normal();
  const ms = Math.round(performance.now() - t0);
  if (!r.ok) fail(`after cancellations: ${r.detail}`);
  return ms;
}

// ---- deep nesting where the server names the wrong value (after the rounds: these may kill it)
async function deepNesting() {
  const deep = (n) => "[".repeat(n) + "]".repeat(n);
  const probes = [
    ["chat content, 100k nested arrays", "/v1/chat/completions", `{"messages": [{"role": "user", "content": ${deep(100000)}}]}`],
    ["messages, 200k nested arrays", "/v1/chat/completions", `{"messages": ${deep(200000)}}`],
    ["stop, 200k nested arrays", "/v1/completions", `{"prompt": "a", "stop": ${deep(200000)}}`],
  ];
  const out = {};
  for (const [name, path, body] of probes) {
    if (rssMb() === null) { out[name] = "not sent: the server is gone"; continue; }
    const r = await request("POST", path, body);
    await sleep(300);
    const alive = rssMb() !== null;
    out[name] = `${keyOf(r)}${alive ? "" : ", server died"}`;
    if (!alive) fail(`deep nesting '${name}' (${body.length} bytes, POST ${path}) killed the server`);
    else if (r.status !== 400) fail(`deep nesting '${name}': ${keyOf(r)}`);
  }
  return out;
}

// ---- main
const result = {rounds: [], failures};
for (let i = 0; i < 10; i++) await normal();  // warm-up: allocator pools of the first requests
const reference = await normal();
if (!reference.ok) { console.log(JSON.stringify({failures: ["the first normal request: " + reference.detail]})); process.exit(1); }
result.rss_mb_before = rssMb();
for (let round = 1; round <= ROUNDS; round++) {
  peak = 0;
  const t0 = performance.now();
  const r = {round, malformed: {}, huge: {}, slow: {}, flood: {}, cancelled: {}};
  if (PHASES.includes("malformed")) await malformed(r.malformed);
  if (PHASES.includes("huge")) await huge(r.huge);
  if (PHASES.includes("slow")) r.health_ms_during_slow = await slow(r.slow, 8);
  if (PHASES.includes("flood")) await flood(r.flood);
  if (PHASES.includes("cancelled")) r.next_request_after_cancels_ms = await cancelled(r.cancelled, 30);
  await sleep(1500);
  const after = await normal();
  if (!after.ok) fail(`round ${round}: normal request after: ${after.detail}`);
  else if (after.text !== reference.text) fail(`round ${round}: greedy text changed: ${JSON.stringify(after.text)} vs ${JSON.stringify(reference.text)}`);
  r.seconds = Math.round((performance.now() - t0) / 100) / 10;
  r.rss_mb_peak = peak;
  r.rss_mb_after = rssMb();
  if (r.rss_mb_after === null) fail(`round ${round}: the server process is gone`);
  result.rounds.push(r);
}
if (PHASES.includes("deep")) result.deep_nesting = await deepNesting();
clearInterval(sampler);
result.text = reference.text;
console.log(JSON.stringify(result));
