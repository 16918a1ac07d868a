/**
 * Differential test against the system's C compiler (gcc): C programs are compiled with gcc and run natively,
 * and the interpreter must print exactly the same. The programs are of this project: fixed ones (integer
 * arithmetic with C's widths, pointers, structs, lists, goto unwinding, switch, function pointers) and
 * random ones in the manner of Csmith (expressions over every integer type, free of undefined behaviour by
 * construction). gcc compiles with -fwrapv, as the kernel builds with -fno-strict-overflow.
 *
 * Without gcc the test is skipped with a message; in CI (CI=true) a missing gcc fails it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { heapEnvironment } from "../../src/interp/heap.ts";
import { instantiate, loadProgram } from "../../src/interp/index.ts";
import { cParser } from "../../src/node/c-parser.ts";

function haveGcc(): boolean {
  const r = spawnSync("gcc", ["--version"], { encoding: "utf8" });
  if (r.status === 0) return true;
  if (process.env.CI === "true" || process.env.CI === "1")
    throw new Error(
      "CI=true but gcc is not installed: the differential test must run in CI (.ci/run installs gcc)",
    );
  console.warn("skipping the differential test against gcc: no gcc on PATH");
  return false;
}

const GCC = haveGcc();
const dir = GCC ? mkdtempSync(join(tmpdir(), "interp-diff-")) : "";
afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

function native(name: string, text: string): string {
  const src = join(dir, `${name}.c`);
  const bin = join(dir, name);
  writeFileSync(src, text);
  const cc = spawnSync("gcc", ["-std=gnu11", "-O0", "-fwrapv", "-w", "-o", bin, src], { encoding: "utf8" });
  if (cc.status !== 0) throw new Error(`gcc failed on ${name}.c:\n${cc.stderr}`);
  const run = spawnSync(bin, [], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`${name} exited with ${run.status}: ${run.stderr}`);
  return run.stdout;
}

async function interpreted(name: string, text: string): Promise<string> {
  const { program, problems } = loadProgram(await cParser(), [{ path: `${name}.c`, text }], {
    noPrelude: true,
  });
  if (problems.length > 0) throw new Error(`lowering ${name}.c: ${JSON.stringify(problems)}`);
  const m = instantiate(program, heapEnvironment);
  const r = m.call("main");
  if (r.status !== "done")
    throw new Error(`${name}.c did not complete: ${JSON.stringify(r)}\noutput so far:\n${m.output}`);
  return m.output;
}

const FIXED = join(import.meta.dirname, "c");

// ---- random programs ---------------------------------------------------------------------------------

/** mulberry32: a small deterministic PRNG, so a failing program is reproduced from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VARS: [string, string, () => string][] = [
  ["signed char", "a", () => "-100"],
  ["unsigned char", "b", () => "200"],
  ["short", "c", () => "-31000"],
  ["unsigned short", "d", () => "65000"],
  ["int", "e", () => "-2147483000"],
  ["unsigned int", "f", () => "4000000000u"],
  ["long", "g", () => "-9000000000000000000L"],
  ["unsigned long", "h", () => "18000000000000000000UL"],
  ["long long", "i", () => "-12345678901234LL"],
  ["unsigned long long", "j", () => "0x8000000000000001ULL"],
];
const TYPES = VARS.map(([t]) => t);

/** A random expression free of undefined behaviour: divisors positive, shift counts below 16. */
function expr(rnd: () => number, depth: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  if (depth === 0 || rnd() < 0.25) {
    if (rnd() < 0.7) return pick(VARS)[1];
    return pick(["0", "1", "7", "-3", "255", "0x7fffffff", "0xffffffffu", "-1L", "3000000000", "1ULL"]);
  }
  const l = expr(rnd, depth - 1);
  const r = expr(rnd, depth - 1);
  switch (Math.floor(rnd() * 9)) {
    case 0:
      return `(${l} ${pick(["+", "-", "*"])} ${r})`;
    case 1:
      return `(${l} ${pick(["&", "|", "^"])} ${r})`;
    case 2:
      return `(${l} ${pick(["<", ">", "<=", ">=", "==", "!="])} ${r})`;
    case 3:
      return `(${l} ${pick(["/", "%"])} ((${r}) % 7 + 8))`;
    case 4:
      return `(${l} ${pick(["<<", ">>"])} ((${r}) & 15))`;
    case 5:
      return `(${pick(["-", "~", "!"])} ${l})`;
    case 6:
      return `((${pick(TYPES)})${l})`;
    case 7:
      return `(${l} ? ${r} : ${expr(rnd, depth - 1)})`;
    default:
      return `(${l} ${pick(["&&", "||"])} ${r})`;
  }
}

function randomProgram(seed: number): string {
  const rnd = prng(seed);
  const lines = ["#include <stdio.h>", "int main(void)", "{"];
  for (const [t, n, init] of VARS) lines.push(`\t${t} ${n} = ${init()};`);
  for (let k = 0; k < 40; k++) {
    if (rnd() < 0.3) {
      const [, v] = VARS[Math.floor(rnd() * VARS.length)] as [string, string, () => string];
      const op = ["+=", "-=", "*=", "^=", "|=", "&="][Math.floor(rnd() * 6)] as string;
      lines.push(`\t${v} ${op} ${expr(rnd, 2)};`);
    }
    lines.push(`\tprintf("${k} %lld\\n", (long long)${expr(rnd, 3)});`);
  }
  lines.push(
    '\tprintf("%d %u %d %u %d %u %ld %lu %lld %llu\\n", a, b, c, d, e, f, g, h, i, j);',
    "\treturn 0;",
    "}",
  );
  return `${lines.join("\n")}\n`;
}

describe.skipIf(!GCC)("interpreter against gcc", () => {
  const files = GCC ? readdirSync(FIXED).filter((f) => f.endsWith(".c")) : [];

  it("has the fixed programs", () => {
    expect(files.sort()).toEqual(["arith.c", "control.c", "fnptr.c", "lists.c", "structs.c"]);
  });

  for (const f of files) {
    it(`prints what gcc's build of ${f} prints`, async () => {
      const text = readFileSync(join(FIXED, f), "utf8");
      const name = f.replace(/\.c$/, "");
      const expected = native(name, text);
      expect(expected.length).toBeGreaterThan(0);
      expect(await interpreted(name, text)).toBe(expected);
    });
  }

  it("prints what gcc prints for random integer programs (seeds 1..25)", async () => {
    for (let seed = 1; seed <= 25; seed++) {
      const text = randomProgram(seed);
      const expected = native(`random${seed}`, text);
      const got = await interpreted(`random${seed}`, text);
      if (got !== expected) {
        const a = expected.split("\n");
        const b = got.split("\n");
        const k = a.findIndex((line, n) => line !== b[n]);
        throw new Error(
          `seed ${seed}: first difference at output line ${k}: gcc "${a[k]}", interpreter "${b[k]}"\n` +
            `${text.split("\n").find((l) => l.includes(`"${a[k]?.split(" ")[0]} %lld`)) ?? ""}`,
        );
      }
    }
  });
});
