import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.ts";
import { createEngineThreads, type EngineThreads } from "../../src/node/engine-threads.ts";
import { loadInput } from "../../src/node/inputs.ts";
import { createNodeEngine } from "../../src/node/node-engine.ts";

const MBOX = fileURLToPath(new URL("../fixtures/map/tee-series.mbox", import.meta.url));

const pools: EngineThreads[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe("reviews in worker threads", () => {
  it("give the review the service's own thread gives, and keep bad input a user error", {
    timeout: 120_000,
  }, async () => {
    const series = await loadInput(MBOX);
    const here = await createNodeEngine();
    const threads = await createEngineThreads({ threads: 1, callTimeoutMs: 100_000, local: here });
    pools.push(threads);
    const against = { kind: "builtin", id: "mainline" } as const;
    const [a, b] = await Promise.all([
      here.reviewPullRequest(series, against, { scenarios: null }),
      threads.reviewPullRequest(series, against, { scenarios: null }),
    ]);
    expect(JSON.parse(JSON.stringify(b))).toEqual(JSON.parse(JSON.stringify(a)));
    expect(b.markdown).toContain(a.checkTitle);
    expect(threads.started).toBe(1);

    const unknown = threads.diff({ kind: "builtin", id: "no-such-version" }, against);
    await expect(unknown).rejects.toBeInstanceOf(InputError);
    await expect(unknown).rejects.toThrow(/unknown built-in version "no-such-version"/);
    // The quick calls are answered here, with no thread involved.
    expect(threads.scenarioIds()).toEqual(here.scenarioIds());
    expect(threads.started).toBe(1);
  });

  it("stops a review past its time limit and takes the next call on a new thread", {
    timeout: 120_000,
  }, async () => {
    const series = await loadInput(MBOX);
    const threads = await createEngineThreads({ threads: 1, callTimeoutMs: 1 });
    pools.push(threads);
    const against = { kind: "builtin", id: "mainline" } as const;
    await expect(threads.reviewPullRequest(series, against, { scenarios: null })).rejects.toThrow(
      /the review ran past its time limit of 1 ms and was stopped/,
    );
    await expect(threads.diff(against, against)).rejects.toThrow(/time limit/);
    expect(threads.started).toBe(2);
  });

  it("fails the pending calls when closed", { timeout: 60_000 }, async () => {
    const threads = await createEngineThreads({ threads: 1, callTimeoutMs: 100_000 });
    const against = { kind: "builtin", id: "mainline" } as const;
    const pending = threads.diff(against, against).catch((e: unknown) => e);
    await threads.close();
    expect(String(await pending)).toMatch(/closed/);
    await expect(threads.diff(against, against)).rejects.toThrow(/closed/);
  });
});
