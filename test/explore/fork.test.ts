/**
 * A fork of a world must behave exactly as the world rebuilt by replaying its events, and the two copies
 * must not touch each other (a closure left capturing the original would make the copy act on it).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type Fixtures, loadFixtures } from "../../src/emulator/api.ts";
import { type EventId, runEvents, Session } from "../../src/explore/session.ts";
import { forkGraph, rebuildable, staticFn } from "../../src/fork.ts";
import { BUILTIN_VERSIONS, MAINLINE } from "../../src/semantics/versions.ts";

let fx: Fixtures;
beforeAll(async () => {
  fx = await loadFixtures();
});

const DESIGNS = [{ id: "mainline", facts: MAINLINE }, ...BUILTIN_VERSIONS];

/** Every sequence of enabled events of length `depth` (no state deduplication: all of them). */
async function sequences(facts: (typeof DESIGNS)[number]["facts"], depth: number): Promise<EventId[][]> {
  let level: EventId[][] = [[]];
  const all: EventId[][] = [];
  for (let d = 0; d < depth; d++) {
    const next: EventId[][] = [];
    for (const seq of level) {
      const s = await Session.start({ facts }, fx);
      for (const e of seq) await s.apply(e);
      for (const e of s.enabledEvents()) next.push([...seq, e]);
    }
    all.push(...next);
    level = next;
  }
  return all;
}

describe("Session.fork", () => {
  it.each(DESIGNS.map((d) => [d.id, d] as const))(
    "%s: every sequence of two events gives, forked before its last event, the replay's state, trace and findings",
    async (_id, design) => {
      for (const seq of await sequences(design.facts, 2)) {
        const replayed = await Session.start({ facts: design.facts }, fx);
        for (const e of seq) await replayed.apply(e);
        const base = await Session.start({ facts: design.facts }, fx);
        for (const e of seq.slice(0, -1)) await base.apply(e);
        const before = { hash: base.hash(), steps: base.w.k.trace.length };
        const forked = base.fork();
        await forked.apply(seq[seq.length - 1] as EventId);
        expect(forked.hash(), seq.join(",")).toBe(replayed.hash());
        const a = await forked.finish();
        const b = await replayed.finish();
        expect(a.trace, seq.join(",")).toEqual(b.trace);
        expect(a.findings, seq.join(",")).toEqual(b.findings);
        // The original saw nothing of the fork's event and teardown.
        expect({ hash: base.hash(), steps: base.w.k.trace.length }, seq.join(",")).toEqual(before);
      }
    },
  );

  it("the original runs on unchanged after a fork ran events, and a fork of a fork too (v16)", async () => {
    const v16 = BUILTIN_VERSIONS.find((v) => v.id === "v16");
    if (v16 === undefined) throw new Error("no built-in v16");
    const seq: EventId[] = ["start", "crash", "firmware-change", "stop", "tee-unbind", "tee-bind"];
    const expected = await runEvents({ facts: v16.facts }, seq, fx);
    expect(expected).not.toHaveProperty("notEnabled");
    const s = await Session.start({ facts: v16.facts }, fx);
    await s.apply("start");
    const f1 = s.fork();
    await f1.apply("crash");
    const f2 = f1.fork();
    await f1.apply("stop");
    await f1.finish();
    for (const e of seq.slice(2)) await f2.apply(e);
    for (const e of seq.slice(1)) await s.apply(e);
    expect(await s.finish()).toEqual(expected);
    expect(await f2.finish()).toEqual(expected);
  });

  it("refuses to fork while a C function runs", async () => {
    const v14 = BUILTIN_VERSIONS.find((v) => v.id === "v14");
    if (v14 === undefined) throw new Error("no built-in v14");
    const s = await Session.start({ facts: v14.facts }, fx);
    let message = "";
    await s.w.k.call("core", "rproc_boot", () => {
      try {
        s.fork();
      } catch (e) {
        message = (e as Error).message;
      }
      return 0;
    });
    expect(message).toMatch(/fork inside rproc_boot/);
  });

  it("finds no closure in a world that a fork could not rebuild, on every design after its findings' sequences", async () => {
    const suspects = new Set<string>();
    for (const design of DESIGNS) {
      for (const seq of [
        ["start", "crash"],
        ["tee-unbind", "start"],
        ["rproc-unbind"],
        ["start", "tee-fail-next"],
      ]) {
        const s = await Session.start({ facts: design.facts }, fx);
        for (const e of seq as EventId[]) if (s.enabled(e)) await s.apply(e);
        forkGraph(s, {
          shared: (x) => s.w.isShared(x),
          strict: {
            // Function declarations (module level in this model) capture no world object.
            isStatic: (f) => /^(async )?function\b/.test(f.toString()),
            report: (f, path) => suspects.add(`${design.id} ${path}: ${f.toString().slice(0, 80)}`),
          },
        });
      }
    }
    expect([...suspects]).toEqual([]);
  });
});

describe("forkGraph", () => {
  const plain = { shared: () => false };
  it("copies cycles, maps, sets and typed arrays, and keeps prototypes", () => {
    class Node {
      next: Node | null = null;
      constructor(readonly bytes: Uint8Array) {}
      first(): number {
        return this.bytes[0] ?? -1;
      }
    }
    const a = new Node(new Uint8Array([7]));
    a.next = a;
    const root = { a, m: new Map([["k", a]]), s: new Set([a]) };
    const c = forkGraph(root, plain);
    expect(c.a).not.toBe(a);
    expect(c.a.next).toBe(c.a);
    expect(c.m.get("k")).toBe(c.a);
    expect([...c.s][0]).toBe(c.a);
    expect(c.a.first()).toBe(7);
    c.a.bytes[0] = 9;
    expect(a.first()).toBe(7);
  });

  it("rebuilds closures made rebuildable over the copies, and shares static ones", () => {
    const box = { n: 1 };
    const inc = rebuildable([box] as const, (b) => () => {
      b.n += 1;
    });
    const pure = staticFn((x: number) => x + 1);
    const c = forkGraph({ box, inc, pure }, plain);
    c.inc();
    expect(c.box.n).toBe(2);
    expect(box.n).toBe(1);
    expect(c.pure).toBe(pure);
  });

  it("in strict mode names a closure it cannot rebuild, with its path", () => {
    const box = { n: 1 };
    const paths: string[] = [];
    forkGraph(
      { handlers: [() => box.n] },
      { shared: () => false, strict: { isStatic: () => false, report: (_f, p) => paths.push(p) } },
    );
    expect(paths).toEqual([".handlers[0]"]);
  });

  it("shares what the caller declares shared and refuses promises", () => {
    const key = { secret: 1 };
    const c = forkGraph({ key }, { shared: (x) => x === key });
    expect(c.key).toBe(key);
    expect(() => forkGraph({ p: Promise.resolve(1) }, plain)).toThrow(/cannot fork a Promise/);
  });
});
