import { describe, expect, it } from "vitest";
import { ENV_HEADERS } from "../../src/interp/env/headers.ts";
import { type EnvFunction, layered, tableEnvironment } from "../../src/interp/env.ts";
import { heapEnvironment } from "../../src/interp/heap.ts";
import { instantiate, loadProgram } from "../../src/interp/index.ts";
import type { IoHooks } from "../../src/interp/memory.ts";
import { T } from "../../src/interp/types.ts";
import { int32, ptrInto, Unsupported, VOID } from "../../src/interp/values.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { machine } from "./helpers.ts";

const HEAD = `int printf(const char *fmt, ...);
void *memcpy(void *d, const void *s, unsigned long n);
struct regs { unsigned int ctrl; unsigned short status; unsigned char flags[2]; struct regs *next; const char *name; };
struct regs *get_regs(void);
`;

/** Registers kept outside the interpreter's memory: each access goes through the hooks (a device, a kernel struct). */
function device(log: string[]): { env: EnvFunction; backing: Uint8Array } {
  const backing = new Uint8Array(24);
  const io: IoHooks = {
    read: (off, n) => {
      log.push(`r${off}+${n}`);
      return backing.slice(off, off + n);
    },
    write: (off, bytes) => {
      log.push(`w${off}+${bytes.length}`);
      if (off === 4) throw new Unsupported("status is read-only for the driver");
      backing.set(bytes, off);
    },
  };
  let p: ReturnType<typeof ptrInto> | null = null;
  return {
    backing,
    env: (_call, m) => {
      const q = p ?? ptrInto(m.object({ size: 24, label: "regs", kind: "env", io }), 0, T.void);
      p = q;
      return q;
    },
  };
}

describe("interpreter: objects of the environment", () => {
  it("reads and writes integers, pointers, struct copies and memcpy through an object's hooks", async () => {
    const log: string[] = [];
    const dev = device(log);
    new DataView(dev.backing.buffer).setUint32(0, 0x1234, true);
    dev.backing[6] = 7;
    const m = await machine(
      `${HEAD}
static struct regs shadow;
int f(void)
{
	struct regs *r = get_regs();
	unsigned char b[2];

	r->ctrl |= 0x10000;
	r->next = r;
	shadow = *r;
	memcpy(b, r->flags, 2);
	return shadow.ctrl == 0x11234 && shadow.next == r && b[0] == 7 && r->next->flags[0] == 7;
}`,
      tableEnvironment({ get_regs: dev.env }),
    );
    expect(m.call("f")).toMatchObject({ status: "done", value: { v: 1n } });
    expect(new DataView(dev.backing.buffer).getUint32(0, true)).toBe(0x11234);
    expect(log).toEqual(["r0+4", "w0+4", "w8+8", "r0+24", "r6+2", "r8+8", "r6+1"]);
  });

  it("a hook that refuses an access ends the thread unknown at the line of the C, naming why", async () => {
    const dev = device([]);
    const m = await machine(
      `${HEAD}
int f(void)
{
	struct regs *r = get_regs();

	r->ctrl = 1;
	r->status = 2;
	return 0;
}`,
      tableEnvironment({ get_regs: dev.env }),
    );
    expect(m.call("f")).toMatchObject({
      status: "unknown",
      what: "status is read-only for the driver",
      site: { file: "test.c", line: 11 },
    });
  });

  it("an object sharing the environment's bytes sees the environment's changes and the C's", async () => {
    const data = new TextEncoder().encode("fw!\u0000");
    const m = await machine(
      `${HEAD}
const char *fw_data(void);
int f(void) { const char *d = fw_data(); return d[0] == 'f' && d[2] == '?'; }
void g(void) { char *d = (char *)fw_data(); d[1] = 'W'; }`,
      tableEnvironment({
        fw_data: (_c, mm) =>
          ptrInto(mm.object({ size: data.length, label: "fw", kind: "env", bytes: data }), 0, T.char),
      }),
    );
    data[2] = "?".charCodeAt(0);
    expect(m.call("f")).toMatchObject({ status: "done", value: { v: 1n } });
    m.call("g");
    expect(new TextDecoder().decode(data.subarray(0, 3))).toBe("fW?");
  });

  it("the environment calls back into the C through a function pointer, on the calling thread", async () => {
    const seen: string[] = [];
    const each: EnvFunction = function* (call, m) {
      const [fn, data] = call.args;
      let n = 0;
      for (const v of [3, 5, 8]) {
        const r = yield* m.callFunction(fn ?? VOID, [int32(v), data ?? VOID]);
        if (r.k === "int" && r.v !== 0n) n++;
        seen.push(`${v}@${m.where()?.caller}:${m.where()?.site.line}`);
      }
      return int32(n);
    };
    const m = await machine(
      `int for_each(int (*fn)(int, void *), void *data);
static int odd(int v, void *data) { return (v & 1) && data; }
int f(void) { int x; return for_each(odd, &x); }`,
      layered(tableEnvironment({ for_each: each }), heapEnvironment),
      "test.c",
      { keepEvents: true },
    );
    expect(m.call("f")).toMatchObject({ status: "done", value: { v: 2n } });
    expect(seen).toEqual(["3@f:3", "5@f:3", "8@f:3"]);
    const calls = m.events.filter((e) => e.type === "call").map((e) => (e.type === "call" ? e.fn : ""));
    expect(calls).toEqual(["f", "odd", "odd", "odd"]);
  });

  it("an observer of some event types sees only those; without a log, nothing is kept", async () => {
    const m = await machine(
      `int twice(int v);
static int one(void) { return 1; }
int f(void) { return twice(one()); }`,
      tableEnvironment({ twice: (call) => int32(2n * (call.args[0]?.k === "int" ? call.args[0].v : 0n)) }),
    );
    const seen: string[] = [];
    const all: string[] = [];
    const stop = m.subscribeTo(["call", "env-call"], (e) =>
      seen.push(`${e.type}${e.type === "call" ? ` ${e.fn}` : ""}`),
    );
    m.subscribe((e) => all.push(e.type));
    expect(m.call("f")).toMatchObject({ status: "done", value: { v: 2n } });
    expect(seen).toEqual(["call f", "call one", "env-call"]);
    expect(all).toEqual(["call", "call", "return", "env-call", "env-return", "return", "end"]);
    stop();
    seen.length = 0;
    m.call("f");
    expect(seen).toEqual([]);
    expect(m.events).toEqual([]);
  });

  it("the environment's headers lower with the prelude, and predefined macros reach the files", async () => {
    const { program, problems } = loadProgram(
      await cParser(),
      [
        {
          path: "drv.c",
          text: "static const char *mod = KBUILD_MODNAME;\nint size(void) { return sizeof(struct tee_param); }",
        },
      ],
      { envHeaders: ENV_HEADERS, defines: { KBUILD_MODNAME: '"drv"' } },
    );
    expect(problems).toEqual([]);
    const m = instantiate(program, tableEnvironment({}));
    expect(m.call("size")).toMatchObject({ status: "done", value: { v: 32n } });
    expect(m.structOf("rproc")).not.toBeNull();
    expect(m.structOf("tee_context")).toBeNull();
    expect(m.enumValue("RPROC_DETACHED")).toBe(6n);
    // The headers are not posted code: their inline helpers and macros leave no call step of their own.
    expect(program.preludeFiles).toEqual(expect.arrayContaining(ENV_HEADERS.map((h) => h.path)));
  });
});
