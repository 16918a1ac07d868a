import { describe, expect, it } from "vitest";
import { suspensionOf } from "../../src/interp/analysis.ts";
import { BUILTINS } from "../../src/interp/builtins.ts";
import type { EnvFunction, Environment, Gen } from "../../src/interp/env.ts";
import type { Value } from "../../src/interp/memory.ts";
import { int32, VOID } from "../../src/interp/values.ts";
import { machine } from "./helpers.ts";

/**
 * An environment with a logging API that says it never suspends (`note`), one that suspends (`nap`), and one
 * that says it never suspends but does (`liar`: a wrong declaration must be an internal error, not a misrun).
 */
function env(log: string[]): Environment {
  const note: EnvFunction = (call) => {
    log.push(`note ${call.args[0]?.k === "int" ? call.args[0].v : "?"} by ${call.caller}@${call.site.line}`);
    return VOID;
  };
  const nap: EnvFunction = function* (call): Gen<Value> {
    yield { k: "yield", reason: "nap" };
    log.push(`nap by ${call.caller}`);
    return VOID;
  };
  const liar: EnvFunction = function* (): Gen<Value> {
    yield { k: "yield", reason: "liar" };
    return VOID;
  };
  const fns: Record<string, EnvFunction> = { note, nap, liar };
  return { fn: (name) => fns[name], syncApis: SYNC };
}
const SYNC: ReadonlySet<string> = new Set(["note", "liar", "memset"]);

const SRC = `
void note(int x);
void nap(void);
void liar(void);
void *memset(void *p, int c, unsigned long n);
struct s { int a[4]; };
static int sum(const int *a, int n) { int t = 0; for (int i = 0; i < n; i++) t += a[i]; return t; }
static int plain(int x) { struct s v; memset(&v, 0, sizeof(v)); v.a[1] = x; note(x); return sum(v.a, 4); }
static int unwinds(int x) { if (x < 0) goto out; note(x); x = plain(x) + 1; out: return x; }
static int sleepy(int x) { nap(); return plain(x); }
static int through(int (*f)(int), int x) { return f(x); }
static int rec(int n) { return n == 0 ? 0 : rec(n - 1) + 1; }
static int shadowed(int x) { int (*note)(int) = plain; return note(x); }
int entry(int x) { return plain(x) + unwinds(x) + sleepy(x) + through(plain, x) + rec(3) + shadowed(x); }
int lies(void) { liar(); return 1; }
`;

describe("interpreter: what runs without suspending (analysis.ts Suspension)", () => {
  it("decides per function: calls of plain APIs, libc and plain functions (jumps allowed) cannot suspend; a suspending API, a function pointer, recursion and a shadowing variable may", async () => {
    const m = await machine(SRC, env([]));
    const s = suspensionOf(m.program, BUILTINS, SYNC);
    expect(s).toBe(m.sync);
    const fn = (name: string) => m.program.functions[`test.c\u0000${name}`] ?? m.program.functions[name];
    const verdict = Object.fromEntries(
      ["sum", "plain", "unwinds", "sleepy", "through", "rec", "shadowed", "entry"].map((n) => {
        const def = fn(n);
        if (def === undefined) throw new Error(`no ${n}`);
        return [n, s.function(def)];
      }),
    );
    expect(verdict).toEqual({
      sum: true,
      plain: true,
      unwinds: true,
      sleepy: false,
      through: false,
      rec: false,
      shadowed: false,
      entry: false,
    });
    // A body with a goto cannot suspend, yet is not a statement run as a plain function (the generators seek labels).
    const unwinds = fn("unwinds");
    if (unwinds === undefined) throw new Error("no unwinds");
    expect(s.stmt(unwinds.body, unwinds)).toBe(false);
    // Another environment's declaration is another analysis.
    expect(suspensionOf(m.program, BUILTINS, new Set())).not.toBe(s);
  });

  it("runs the plain calls and the suspending ones to the same results, events and trace as before", async () => {
    const log: string[] = [];
    const m = await machine(SRC, env(log), "test.c", { keepEvents: true });
    const th = m.spawn("t", "entry", [int32(5)]);
    const suspends: string[] = [];
    while (!th.done) {
      m.step(th);
      const last = m.events[m.events.length - 1];
      if (last?.type === "suspend") suspends.push(`${last.reason}@${last.site.line}`);
    }
    // plain 5, unwinds 6, sleepy 5, through 5, rec 3, shadowed 5.
    expect(th.result).toMatchObject({ status: "done", value: { v: 29n } });
    expect(suspends).toEqual(["nap@10"]);
    expect(log).toEqual([
      "note 5 by plain@8",
      "note 5 by unwinds@9",
      "note 5 by plain@8",
      "nap by sleepy",
      "note 5 by plain@8",
      "note 5 by plain@8",
      "note 5 by plain@8",
    ]);
    const calls = m.events.filter((e) => e.type === "call").map((e) => (e.type === "call" ? e.fn : ""));
    expect(calls.filter((f) => f === "plain")).toHaveLength(5);
    expect(calls.filter((f) => f === "sum")).toHaveLength(5);
  });

  it("an API declared never to suspend that suspends is an internal error naming it, not a silent misrun", async () => {
    const m = await machine(SRC, env([]));
    expect(() => m.call("lies")).toThrow(
      /liar, which the environment says never suspends, reached a scheduling point/,
    );
  });
});
