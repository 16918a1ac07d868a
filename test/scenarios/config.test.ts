/**
 * The config axis: rproc-remove@REMOTEPROC_TEE=n runs the same design on a kernel built without the TEE
 * client driver, where the STM32 driver calls the stubs of the series' own remoteproc_tee.h, interpreted
 * with that config. Fixture series of our own: the fxtee posting with a header written here, in variants
 * that differ only in the stubs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { interpretedTeeStubs, loadTeeStubs } from "../../src/interp/env/remoteproc_tee.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { builtinWithStubs, mappedSubject } from "../../src/node/versions.ts";
import { builtinSubject, runReview } from "../../src/review/run.ts";
import type { CellResult } from "../../src/scenarios/result.ts";
import { runMatrix, runScenario } from "../../src/scenarios/run.ts";
import { scenarioById } from "../../src/scenarios/scenarios.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";
import { parseMbox } from "../../src/series/ingest.ts";
import type { Series } from "../../src/series/types.ts";
import { fxteeSeries } from "../fixtures/fxtee/fxtee.ts";
import { renderMbox } from "../fixtures/map/build.ts";

const CONFIG_N = "rproc-remove@REMOTEPROC_TEE=n";
const HEADER = "include/linux/remoteproc_tee.h";
const TEE = "drivers/remoteproc/remoteproc_tee.c";

/** The fixture's client API header; `unregisterStub` is the body of rproc_tee_unregister's stub. */
function header(unregisterStub: string | null): string {
  const stubs =
    unregisterStub === null
      ? ""
      : `#else

static inline int rproc_tee_register(struct device *dev, struct rproc *rproc, unsigned int proc_id)
{
	return -ENODEV;
}

static inline int rproc_tee_unregister(struct device *dev, struct rproc *rproc)
{
${unregisterStub}
}
`;
  return `/* SPDX-License-Identifier: GPL-2.0 */
/* Fixture: the client API of the fixture TEE driver, with stubs for a kernel built without it. */
#ifndef FX_REMOTEPROC_TEE_H
#define FX_REMOTEPROC_TEE_H

struct device;
struct rproc;
struct firmware;

#if IS_ENABLED(CONFIG_REMOTEPROC_TEE)

int rproc_tee_register(struct device *dev, struct rproc *rproc, unsigned int proc_id);
int rproc_tee_unregister(struct device *dev, struct rproc *rproc);

${stubs}#endif
#endif
`;
}

const WARNS = "\t/* no TEE driver: nothing registered */\n\tWARN_ON(1);\n\treturn 0;";
const QUIET = "\treturn 0;";

/** fxtee v5 with the header (null: without one), as a parsed series of version `version`. */
async function series(version: 5 | 6, text: string | null): Promise<Series> {
  const s = fxteeSeries(version);
  if (text !== null) {
    const patch = s.patches.find((p) => p.files.some((f) => f.path === TEE));
    patch?.files.push({
      path: HEADER,
      added: true,
      hunks: [
        {
          oldStart: 0,
          section: "",
          lines: text
            .replace(/\n$/, "")
            .split("\n")
            .map((l) => `+${l}`),
        },
      ],
    });
  }
  const [one] = await parseMbox(new TextEncoder().encode(renderMbox(s)), `fxtee-v${version}.mbox`);
  if (one === undefined) throw new Error("the fixture did not parse");
  return one;
}

const lineIn = (text: string, needle: string): number =>
  text.split("\n").findIndex((l) => l.includes(needle)) + 1;

describe("rproc-remove@REMOTEPROC_TEE=n runs the posted header's stubs", () => {
  let warns: CellResult;
  let quiet: CellResult;
  beforeAll(async () => {
    warns = await runScenario(
      (await mappedSubject(await series(5, header(WARNS)), "warns")).design,
      CONFIG_N,
    );
    quiet = await runScenario(
      (await mappedSubject(await series(5, header(QUIET)), "quiet")).design,
      CONFIG_N,
    );
  });

  it("is a scenario of the matrix whose id names the config", () => {
    expect(scenarioById(CONFIG_N)?.config).toEqual({ REMOTEPROC_TEE: false });
  });

  it("a WARN_ON stub shows in the result, on the posted line, and in the trace", () => {
    expect(warns.unknown).toBe(false);
    expect(warns.ok).toBe(true);
    expect(warns.finalState).toBe("absent");
    // No TEE driver is built: nothing talks to the TA.
    expect(warns.tee).toEqual([]);
    const line = lineIn(header(WARNS), "WARN_ON(1)");
    expect(warns.findings.map((f) => ({ kind: f.kind, at: f.at, site: f.site }))).toEqual([
      { kind: "warn", at: "rproc_tee_unregister", site: { file: HEADER, line } },
    ]);
    // remove calls the stub, which warns: both are steps of the trace, in that order.
    const call = warns.trace.findIndex((s) => s.event === "call" && s.fn === "rproc_tee_unregister");
    const warn = warns.trace.findIndex((s) => s.event === "warn");
    expect(call).toBeGreaterThan(0);
    expect(warn).toBeGreaterThan(call);
    expect(warns.trace.some((s) => s.fn === "stm32_rproc_remove")).toBe(true);
  });

  it("follows the posted code: a stub that does not warn gives a clean cell", () => {
    expect(quiet.unknown).toBe(false);
    expect(quiet.ok).toBe(true);
    expect(quiet.findings).toEqual([]);
    expect(quiet.trace.some((s) => s.event === "call" && s.fn === "rproc_tee_unregister")).toBe(true);
  });

  it("the review of a version that adds the WARN says so, with the header's line", async () => {
    const a = await mappedSubject(await series(5, header(QUIET)), "quiet.mbox");
    const b = await mappedSubject(await series(6, header(WARNS)), "warns.mbox");
    const { report } = await runReview(a, b, { scenarios: [CONFIG_N], exploreDepth: 0 });
    const cause = report.causes.find((c) => c.kind === "warn");
    expect(cause).toMatchObject({ class: "introduced", functions: ["rproc_tee_unregister"] });
    expect(cause?.where).toMatchObject({ file: HEADER, line: lineIn(header(WARNS), "WARN_ON(1)") });
    expect(cause?.excerpt?.lines.some((l) => l.text.includes("WARN_ON(1)"))).toBe(true);
  });

  it("a header without stubs for that config is unknown naming the function, never the hand model", async () => {
    const c = await runScenario(
      (await mappedSubject(await series(5, header(null)), "nostubs")).design,
      CONFIG_N,
    );
    expect(c.unknown).toBe(true);
    expect(c.unknownBecause?.[0]?.what).toBe(
      `rproc_tee_unregister() is not defined by ${HEADER} with CONFIG_REMOTEPROC_TEE=n`,
    );
    expect(c.findings).toEqual([]);
  });

  it("a series that posts no such header is unknown naming that", async () => {
    const c = await runScenario((await mappedSubject(await series(5, null), "noheader")).design, CONFIG_N);
    expect(c.unknown).toBe(true);
    expect(c.unknownBecause?.[0]?.why).toMatch(/posts no header that declares the TEE client API/);
  });

  it("a design no stubs were read for is unknown (a built-in without its mails), n/a without a TEE loader", async () => {
    const v16 = builtinVersion("v16");
    const mainline = builtinVersion("mainline");
    if (v16 === undefined || mainline === undefined) throw new Error("no built-in v16/mainline");
    const m = await runMatrix([builtinSubject(v16).design, builtinSubject(mainline).design], [CONFIG_N]);
    const [b, main] = m.results;
    expect(b?.unknown).toBe(true);
    expect(b?.unknownBecause?.[0]?.why).toMatch(/no stubs were read for this design/);
    expect(main?.applicable).toBe(false);
    expect(main?.reason).toMatch(/^the design has no TEE loader \(fact tee: none\)/);
  });

  it("a built-in version runs the stubs of the mails it is given", async () => {
    const v16 = builtinVersion("v16");
    if (v16 === undefined) throw new Error("no built-in v16");
    // The fixture's header stands in for v16's mails: the stubs are whatever the given mails post.
    const withMails = await builtinWithStubs(v16, null, await series(5, header(WARNS)));
    const c = await runScenario(withMails.design, CONFIG_N);
    expect(c.unknown).toBe(false);
    expect(c.findings.map((f) => [f.kind, f.site?.file])).toEqual([["warn", HEADER]]);
  });

  it("the stubs run from the header alone (loadTeeStubs), the TEE driver not built", async () => {
    const loaded = loadTeeStubs(await cParser(), [{ path: HEADER, text: header(WARNS) }], HEADER);
    const v16 = builtinVersion("v16");
    if (v16 === undefined) throw new Error("no built-in v16");
    const c = await runScenario(
      { ...builtinSubject(v16).design, teeStubs: interpretedTeeStubs(loaded) },
      CONFIG_N,
    );
    expect(c.findings.map((f) => f.kind)).toEqual(["warn"]);
    expect(c.trace.some((s) => s.fn === "rproc_tee_remove" || s.layer === "ta")).toBe(false);
  });
});
