import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";

const mbox = (v: number): string =>
  fileURLToPath(new URL(`../fixtures/fxsched/fxsched-v${v}.mbox`, import.meta.url));

describe("explore --interleave and replay --schedule", () => {
  it("explores the glue driver a series creates, prints the shortest schedule and a replay command that reproduces it", async () => {
    const r = await runCli(["explore", "--interleave", "--versions", mbox(1), "--depth", "5", "--unbind"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^drivers\/remoteproc\/fx_rproc.c: interleavings to depth 5 \(sleep-sets\): /);
    expect(r.out).toMatch(/! null-op-call in rproc_fw_boot on t2 firmware rproc-fw/);
    expect(r.out).toMatch(/shortest schedule: t2,t2,t2,t2 \(4 choices/);
    const cmd = /replay: (rproc-review replay .*)/.exec(r.out)?.[1] ?? "";
    expect(cmd).toBe(`rproc-review replay ${mbox(1)} --unbind --schedule t2,t2,t2,t2`);
    const replayed = await runCli(cmd.split(" ").slice(1));
    expect(replayed.code).toBe(0);
    expect(replayed.out).toMatch(/threads:\n {2}t1 insmod\n {2}t2 firmware rproc-fw\n/);
    expect(replayed.out).toMatch(/\[t2 firmware rproc-fw\] rproc_fw_boot finding: null-op-call/);
    expect(replayed.out).toMatch(/findings:\n {2}null-op-call in rproc_fw_boot on t2 firmware rproc-fw/);
  });

  it("the fixed posting reports nothing; bad schedules and inputs without a platform driver are usage and input errors", async () => {
    const fixed = await runCli(["explore", "--interleave", "--versions", mbox(2), "--depth", "4", "--json"]);
    expect(fixed.code).toBe(0);
    const json = JSON.parse(fixed.out) as { inputs: { findings: unknown[]; executions: number }[] };
    expect(json.inputs[0]?.findings).toEqual([]);
    const bad = await runCli(["replay", mbox(1), "--schedule", "t2,t9"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/schedule entry 2 \(t9\) cannot run/);
    const garbled = await runCli(["replay", mbox(1), "--schedule", "two"]);
    expect(garbled.code).toBe(2);
    const tee = fileURLToPath(new URL("../fixtures/map/tee-series.mbox", import.meta.url));
    const none = await runCli(["explore", "--interleave", "--versions", tee, "--depth", "1"]);
    expect(none.code).toBe(3);
    expect(none.err).toMatch(/creates no platform driver whole/);
  });
});
