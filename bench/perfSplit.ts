/**
 * Where a process's CPU goes, by thread and by kind of work, from Linux `perf` samples: an
 * on-CPU view that V8's own sampler (`--cpu-prof`) does not give on a loaded 2-core machine
 * (there a descheduled thread records its next sample where it resumes, so syscalls and
 * allocations that reach the kernel look expensive: bench/results/NOTES.md, sessions 31-32).
 *
 *   node --perf-basic-prof dist/bench/groupsDev.js --groups 1000 --rounds 14 &
 *   perf record -F 1999 -e cpu-clock -g -p <pid> -o /tmp/p.data -- sleep 8
 *   perf script -i /tmp/p.data | node dist/bench/perfSplit.js --pid <pid> [--top 15]
 *
 * Threads are classed by what any of their samples' stacks hold (`node::worker::Worker::Run`:
 * a pool worker; `v8::platform`: V8's helpers, garbage collection and compilation; `uv__worker`:
 * libuv's pool); the process's own pid is the main thread. Each sample counts once, for the
 * first frame from the leaf up that a {@link CATEGORIES} rule or a JavaScript frame names
 * (frame pointers end a stack early in libraries built without them, so the leaf decides).
 *
 * @module
 */
import { readFileSync } from "node:fs";

/** One `perf script` sample: its thread and its frames, leaf first. */
export interface PerfSample {
  readonly tid: number;
  readonly frames: readonly string[];
}

/** Kinds of native work, tried in order on each frame from the leaf up. */
export const CATEGORIES: ReadonlyArray<readonly [string, RegExp]> = [
  ["ed25519", /crypto_sign|ge25519_|fe25519_|sc25519_|crypto_hash_sha512|ed25519/i],
  ["x25519", /ladder|crypto_scalarmult|x25519/i],
  ["gc", /Heap::|Scaveng|MarkCompact|Marking|Sweeper|GlobalHandles/],
  ["compile", /compiler::|Compil|Maglev|Deoptimiz/],
  ["malloc", /^(_int_malloc|_int_free|_int_realloc|malloc|free|cfree|__libc_|__GI___libc_|malloc_consolidate|unlink_chunk|calloc|realloc|operator new|operator delete)/],
  ["leveldb", /leveldb::|batch_put|batch_write|batch_del|snappy::|crc32c/],
  ["aead/hash", /aesni|gcm|chacha|poly1305|EVP_|SHA256|sha256|HMAC|hmac|blake3/i],
  ["messages", /ValueSerializer|ValueDeserializer|MessagePort::PostMessage/],
  ["kernel", /^(_raw_spin|finish_task_switch|do_syscall|entry_SYSCALL|__x64_sys|clear_page|do_user_addr_fault|handle_mm_fault|__schedule)/],
];

/**
 * Parses `perf script` output (the default fields, with call graphs): one sample per block.
 *
 * @example
 * ```ts
 * const samples = parsePerfScript(text); // [{ tid: 4413, frames: ["ge25519_double_scalarmult_vartime", ...] }]
 * ```
 */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  let tid: number | undefined;
  let frames: string[] = [];
  const end = (): void => {
    if (tid !== undefined) samples.push({ tid, frames });
    tid = undefined;
    frames = [];
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") end();
    else if (!/^\s/.test(line)) {
      end();
      const t = Number(line.trim().split(/\s+/)[1]);
      if (Number.isInteger(t)) tid = t;
    } else {
      // "\t    7fdbf0324865 JS:*digest file:///.../hash.js:104:21+0x3a5 (/tmp/perf-4413.map)"
      const m = /^\s*[0-9a-f]+ (.*) \(([^)]*)\)$/.exec(line.trimEnd());
      if (m !== null && tid !== undefined) frames.push((m[1] as string).replace(/\+0x[0-9a-f]+$/, ""));
    }
  }
  end();
  return samples;
}

/** The class of each thread: main (`pid`), worker, v8, libuv or other. */
export function threadClasses(samples: readonly PerfSample[], pid: number): Map<number, string> {
  const classes = new Map<number, string>();
  for (const { tid, frames } of samples) {
    if (tid === pid) classes.set(tid, "main");
    if (classes.has(tid) && classes.get(tid) !== "other") continue;
    const stack = frames.join("\n");
    classes.set(tid, stack.includes("node::worker::Worker::Run") ? "worker" : stack.includes("v8::platform") ? "v8" : stack.includes("uv__worker") ? "libuv" : "other");
  }
  return classes;
}

/** A JavaScript frame's place: a package of node_modules, a folder of ours, or Node's own. */
function jsPlace(frame: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame);
  if (pkg !== null) return `js ${pkg[1]}`;
  const ours = /dist\/(src|bench|workers|machines)\/([^/:]+)/.exec(frame);
  if (ours !== null) return `js ours/${ours[1] === "src" ? ours[2] : ours[1]}`;
  return frame.includes("node:") ? "js node" : "js other";
}

/**
 * The category of one sample: the first frame from the leaf up that a rule or a JavaScript
 * frame names; else its leaf.
 *
 * @example
 * ```ts
 * categoryOf(["_int_malloc", "JS:*seal file:///x/dist/src/engine/store/seal.js:1:1"]) // "malloc"
 * ```
 */
export function categoryOf(frames: readonly string[]): string {
  for (const frame of frames) {
    for (const [name, rule] of CATEGORIES) if (rule.test(frame)) return name;
    if (frame.startsWith("JS:")) return jsPlace(frame);
  }
  return `native ${frames[0] ?? "?"}`;
}

/**
 * Samples per thread class and, within each, per category and per leaf symbol.
 *
 * @example
 * ```ts
 * const split = splitSamples(samples, pid); split.get("main")?.categories.get("gc")
 * ```
 */
export function splitSamples(samples: readonly PerfSample[], pid: number): Map<string, { total: number; categories: Map<string, number>; leaves: Map<string, number> }> {
  const classes = threadClasses(samples, pid);
  const out = new Map<string, { total: number; categories: Map<string, number>; leaves: Map<string, number> }>();
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  for (const s of samples) {
    const cls = classes.get(s.tid) ?? "other";
    let entry = out.get(cls);
    if (entry === undefined) out.set(cls, (entry = { total: 0, categories: new Map(), leaves: new Map() }));
    entry.total++;
    bump(entry.categories, categoryOf(s.frames));
    bump(entry.leaves, s.frames[0] ?? "?");
  }
  return out;
}

const top = (m: Map<string, number>, n: number): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);

function main(): void {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const pid = Number(arg("--pid"));
  if (!Number.isInteger(pid)) throw new Error("usage: perf script | node dist/bench/perfSplit.js --pid <pid> [--top N] [file]");
  const n = Number(arg("--top") ?? 15);
  const file = process.argv.slice(2).find((a, i, all) => !a.startsWith("--") && !all[i - 1]?.startsWith("--"));
  const samples = parsePerfScript(readFileSync(file ?? 0, "utf8"));
  const split = splitSamples(samples, pid);
  const all = samples.length;
  for (const [cls, { total, categories, leaves }] of [...split].sort((a, b) => b[1].total - a[1].total)) {
    console.log(`== ${cls}: ${total} samples (${((100 * total) / all).toFixed(1)}% of the process's)`);
    for (const [k, v] of top(categories, n)) console.log(`  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
    console.log("  leaves:");
    for (const [k, v] of top(leaves, Math.min(n, 10))) console.log(`  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k.slice(0, 110)}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
