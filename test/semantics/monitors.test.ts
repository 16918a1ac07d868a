import { beforeAll, describe, expect, it } from "vitest";
import { type Fixtures, loadFixtures, TA_CMD } from "../../src/emulator/api.ts";
import type { FindingKind } from "../../src/scenarios/result.ts";
import { World } from "../../src/scenarios/world.ts";
import { EIO, SpinLock } from "../../src/semantics/kernel.ts";
import type { FwObj } from "../../src/semantics/remoteproc_core.ts";
import { MAINLINE } from "../../src/semantics/versions.ts";

let fixtures: Fixtures;
beforeAll(async () => {
  fixtures = await loadFixtures();
});

async function bound(): Promise<World> {
  const w = await World.create(MAINLINE, { platform: "stm32mp15", dt: "reference", fixtures });
  expect(await w.bindDrivers()).toBe(0);
  return w;
}

const kinds = (w: World): FindingKind[] => [...new Set(w.monitors.findings.map((f) => f.kind))].sort();

describe("monitors on mainline with deliberately broken test doubles", () => {
  it("raise nothing on a clean boot, shutdown and teardown", async () => {
    const w = await bound();
    expect(await w.start()).toBe(0);
    expect(await w.stop()).toBe(0);
    await w.teardown();
    expect(w.monitors.findings).toEqual([]);
  });

  it("state-mismatch: an ops->start that returns 0 without starting the coprocessor", async () => {
    const w = await bound();
    w.rproc!.ops.start = async () => 0;
    expect(await w.start()).toBe(0);
    const f = w.monitors.findings.find((x) => x.kind === "state-mismatch");
    expect(f?.detail).toBe("after start: rproc is running but the coprocessor is halted");
    expect(f?.at).toBe("start");
  });

  it("use-after-free: a driver that keeps the firmware buffer past rproc_boot and reads it at stop", async () => {
    const w = await bound();
    const r = w.rproc!;
    const parse = r.ops.parse_fw!;
    const stop = r.ops.stop!;
    let kept: FwObj | null = null;
    r.ops.parse_fw = (k, rp, fw) => {
      kept = fw;
      return parse(k, rp, fw);
    };
    r.ops.stop = (k, rp) =>
      k.call("stm32", "broken_stop", () => {
        if (kept) k.use(kept, "broken_stop", "read");
        return stop(k, rp);
      });
    await w.start();
    await w.stop();
    const f = w.monitors.findings.find((x) => x.kind === "use-after-free");
    expect(f).toMatchObject({
      at: "broken_stop",
      detail: 'read of firmware "rproc-m4-fw" freed in release_firmware',
    });
    expect(w.k.trace[f!.step]?.fn).toBe("broken_stop");
  });

  it("double-free (and use-after-free): an ops->stop that frees the cached table the core frees again", async () => {
    const w = await bound();
    const r = w.rproc!;
    const stop = r.ops.stop!;
    r.ops.stop = async (k, rp) => {
      k.kfree(rp.cached_table, "broken_stop");
      return stop(k, rp);
    };
    await w.start();
    await w.stop();
    expect(kinds(w)).toEqual(["double-free", "use-after-free"]);
    expect(w.monitors.findings.find((x) => x.kind === "double-free")?.at).toBe("rproc_shutdown");
  });

  it("sleep-in-atomic: an ops->prepare that allocates with GFP_KERNEL under a spinlock", async () => {
    const w = await bound();
    const r = w.rproc!;
    const prepare = r.ops.prepare!;
    const lock = new SpinLock(w.k, "test_lock");
    r.ops.prepare = async (k, rp) => {
      lock.spin_lock("broken_prepare");
      k.mightSleep("kzalloc", "broken_prepare");
      lock.unlock("broken_prepare");
      return prepare(k, rp);
    };
    await w.start();
    expect(kinds(w)).toEqual(["sleep-in-atomic"]);
    expect(w.monitors.findings[0]?.at).toBe("broken_prepare");
  });

  it("leak: an ops->prepare that allocates an object nobody frees", async () => {
    const w = await bound();
    const r = w.rproc!;
    const prepare = r.ops.prepare!;
    r.ops.prepare = async (k, rp) => {
      k.alloc("mem", "forgotten", new Uint8Array(4), "broken_prepare");
      return prepare(k, rp);
    };
    await w.start();
    await w.stop();
    await w.teardown();
    expect(w.monitors.findings).toEqual([expect.objectContaining({ kind: "leak", at: "broken_prepare" })]);
  });

  it("error-swallowed: an op whose callee fails while it reports success", async () => {
    const w = await bound();
    const r = w.rproc!;
    const start = r.ops.start!;
    r.ops.start = (k, rp) =>
      k.call("stm32", "broken_start", async () => {
        await k.call("stm32", "failing_callee", () => -EIO);
        return start(k, rp);
      });
    expect(await w.start()).toBe(0);
    expect(w.monitors.findings).toEqual([
      expect.objectContaining({
        kind: "error-swallowed",
        at: "broken_start",
        detail: "failing_callee failed (-EIO) but broken_start returned 0",
      }),
    ]);
  });

  it("warn: a kick of a virtqueue the driver does not have", async () => {
    const w = await bound();
    await w.start();
    await w.rproc!.ops.kick!(w.k, w.rproc!, 2);
    expect(w.monitors.findings).toEqual([expect.objectContaining({ kind: "warn", at: "stm32_rproc_kick" })]);
  });

  it("double-release: a client that sends RELEASE_FW twice with nothing loaded in between", async () => {
    const w = await bound();
    const ta = w.platform.ta;
    const { session } = await ta.openSession(w.platform.procId);
    const proc = { type: "value-in" as const, a: w.platform.procId, b: 0 };
    await ta.invoke(session, TA_CMD.RELEASE_FW, [proc]);
    expect(kinds(w)).toEqual([]);
    await ta.invoke(session, TA_CMD.RELEASE_FW, [proc]);
    expect(kinds(w)).toEqual(["double-release"]);
  });

  it("unauthenticated-start: authenticated memory changed by Linux between LOAD_FW and START_FW", async () => {
    const w = await bound();
    const ta = w.platform.ta;
    const { session } = await ta.openSession(w.platform.procId);
    const proc = { type: "value-in" as const, a: w.platform.procId, b: 0 };
    const load = await ta.invoke(session, TA_CMD.LOAD_FW, [
      proc,
      { type: "memref-in", data: fixtures.stm32mp15.good },
    ]);
    expect(load.result).toBe(0);
    w.platform.nsWrite(0x10000040, Uint8Array.of(0xde, 0xad));
    await ta.invoke(session, TA_CMD.START_FW, [proc]);
    expect(w.monitors.findings).toEqual([
      expect.objectContaining({
        kind: "unauthenticated-start",
        detail: expect.stringContaining("0x10000040"),
      }),
    ]);
  });

  it("report identical findings once per cell", async () => {
    const w = await bound();
    await w.start();
    await w.rproc!.ops.kick!(w.k, w.rproc!, 3);
    await w.rproc!.ops.kick!(w.k, w.rproc!, 3);
    expect(w.monitors.findings.length).toBe(1);
  });
});
