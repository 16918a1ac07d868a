import { describe, expect, it } from "vitest";
import type { EnvFunction, Gen } from "../../src/interp/env.ts";
import { layered, tableEnvironment } from "../../src/interp/env.ts";
import { heapEnvironment } from "../../src/interp/heap.ts";
import type { Scheduler } from "../../src/interp/interp.ts";
import type { Value } from "../../src/interp/memory.ts";
import { int32, VOID } from "../../src/interp/values.ts";
import { machine } from "./helpers.ts";

/** Sleeping mutexes for the test: lock is a scheduling point and blocks while another thread holds it. */
function mutexes(log: string[]) {
  const owner = new Map<bigint, number>();
  const addr = (v: Value | undefined): bigint => (v?.k === "ptr" ? v.addr : -1n);
  const lock: EnvFunction = function* (call): Gen<Value> {
    const a = addr(call.args[0]);
    yield { k: "yield", reason: "mutex_lock might sleep" };
    while (owner.has(a) && owner.get(a) !== call.thread.id)
      yield {
        k: "wait",
        reason: `mutex at line ${call.site.line} held by thread ${owner.get(a)}`,
        ready: () => !owner.has(a),
      };
    owner.set(a, call.thread.id);
    log.push(`t${call.thread.id} lock@${call.site.line}`);
    return VOID;
  };
  const unlock: EnvFunction = (call) => {
    owner.delete(addr(call.args[0]));
    log.push(`t${call.thread.id} unlock@${call.site.line}`);
    return VOID;
  };
  const msleep: EnvFunction = function* (): Gen<Value> {
    yield { k: "yield", reason: "msleep" };
    return VOID;
  };
  return layered(tableEnvironment({ mutex_lock: lock, mutex_unlock: unlock, msleep }), heapEnvironment);
}

const WORKERS = `
int printf(const char *fmt, ...);
struct mutex { int x; };
void mutex_lock(struct mutex *m);
void mutex_unlock(struct mutex *m);
void msleep(unsigned int ms);
static struct mutex lock;
static int shared;
int worker(int id)
{
	int mine = 0;

	for (int i = 0; i < 3; i++) {
		mutex_lock(&lock);
		shared = shared * 10 + id;
		mine += id;
		mutex_unlock(&lock);
		msleep(1);
	}
	return mine;
}
int result(void) { return shared; }
`;

describe("interpreter: resumable kernel threads", () => {
  it("suspends a thread in an environment call and resumes it later: two threads interleave deterministically", async () => {
    const runOnce = async (): Promise<{ log: string[]; shared: bigint; mine: bigint[] }> => {
      const log: string[] = [];
      const m = await machine(WORKERS, mutexes(log));
      const t1 = m.spawn("worker1", "worker", [int32(1)]);
      const t2 = m.spawn("worker2", "worker", [int32(2)]);
      expect(m.run()).toEqual({ finished: true, blocked: [] });
      const r = m.call("result");
      const v = (x: unknown): bigint => (x as { value: { v: bigint } }).value.v;
      return { log, shared: v(r), mine: [v(t1.result), v(t2.result)] };
    };
    const a = await runOnce();
    expect(a.shared).toBe(121212n);
    expect(a.mine).toEqual([3n, 6n]);
    expect(a.log.slice(0, 4)).toEqual(["t1 lock@14", "t1 unlock@17", "t2 lock@14", "t2 unlock@17"]);
    expect(await runOnce()).toEqual(a);
  });

  it("runs the schedule it is given: a scheduler that prefers thread 2 gives another, equally repeatable, order", async () => {
    const log: string[] = [];
    const m = await machine(WORKERS, mutexes(log), "test.c", { keepEvents: true });
    m.spawn("worker1", "worker", [int32(1)]);
    m.spawn("worker2", "worker", [int32(2)]);
    const prefer2: Scheduler = (runnable) => runnable.find((t) => t.id === 2) ?? (runnable[0] as never);
    m.run(prefer2);
    expect(m.call("result")).toMatchObject({ value: { v: 222111n } });
    const events = m.events.filter((e) => e.type === "suspend" || e.type === "resume").slice(0, 4);
    expect(events.map((e) => `${e.type} t${e.thread}@${e.site.line}`)).toEqual([
      "suspend t2@14",
      "resume t2@14",
      "suspend t2@18",
      "resume t2@18",
    ]);
  });

  it("blocks a thread on a lock another thread holds until it is released, and reports a deadlock with what each waits for", async () => {
    const log: string[] = [];
    const m = await machine(
      `
struct mutex { int x; };
void mutex_lock(struct mutex *m);
void mutex_unlock(struct mutex *m);
void msleep(unsigned int ms);
static struct mutex a, b;
void ab(void) { mutex_lock(&a); msleep(1); mutex_lock(&b); mutex_unlock(&b); mutex_unlock(&a); }
void ba(void) { mutex_lock(&b); msleep(1); mutex_lock(&a); mutex_unlock(&a); mutex_unlock(&b); }`,
      mutexes(log),
    );
    m.spawn("ab", "ab");
    m.spawn("ba", "ba");
    const out = m.run();
    expect(out.finished).toBe(false);
    expect(out.blocked).toEqual([
      { thread: "ab", reason: "mutex at line 7 held by thread 2" },
      { thread: "ba", reason: "mutex at line 8 held by thread 1" },
    ]);
    expect(log).toEqual(["t1 lock@7", "t2 lock@8"]);
  });

  it("a thread that blocks with no other thread to wake it ends unknown, naming what it waits for", async () => {
    const log: string[] = [];
    const m = await machine(
      `
struct mutex { int x; };
void mutex_lock(struct mutex *m);
static struct mutex a;
int twice(void) { mutex_lock(&a); return 0; }`,
      mutexes(log),
    );
    const holder = m.spawn("holder", "twice");
    while (!holder.done) m.step(holder);
    expect(m.call("twice")).toMatchObject({
      status: "unknown",
      what: "blocked forever (mutex at line 5 held by thread 1) with no other thread",
      site: { line: 5 },
    });
  });
});
