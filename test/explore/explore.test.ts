import { beforeAll, describe, expect, it } from "vitest";
import { type Fixtures, loadFixtures } from "../../src/emulator/api.ts";
import { UsageError } from "../../src/errors.ts";
import {
  classify,
  EVENT_IDS,
  type Explorable,
  explore,
  exploreAndClassify,
  parseEvents,
  RunMemo,
  renderExploreText,
  replay,
  type VersionReport,
} from "../../src/explore/index.ts";
import { BUILTIN_VERSIONS, builtinVersion } from "../../src/semantics/versions.ts";

const design = (id: string): Explorable => {
  const v = builtinVersion(id);
  if (v === undefined) throw new Error(`no built-in version ${id}`);
  return { id: v.id, facts: v.facts };
};
const baseline = design("mainline");
const earlierThan = (id: string): Explorable[] =>
  BUILTIN_VERSIONS.slice(
    1,
    BUILTIN_VERSIONS.findIndex((v) => v.id === id),
  ).map((v) => design(v.id));

let fx: Fixtures;
const reports = new Map<string, VersionReport>();
async function explored(id: string, depth = 2): Promise<VersionReport> {
  const key = `${id}@${depth}`;
  const known = reports.get(key);
  if (known) return known;
  const r = await exploreAndClassify(design(id), { baseline, earlier: earlierThan(id) }, fx, { depth });
  reports.set(key, r);
  return r;
}
const findingIn = (r: VersionReport, kind: string, at: string) =>
  r.findings.find((f) => f.finding.kind === kind && f.finding.at === at);

beforeAll(async () => {
  fx = await loadFixtures();
});

describe("explore", () => {
  it.each(["v13", "v14", "v15"])(
    "%s: finds the TEE-unbind use-after-free in rproc_tee_stop with a shortest sequence, introduced in v13",
    async (id) => {
      const r = await explored(id);
      const f = findingIn(r, "use-after-free", "rproc_tee_stop");
      expect(f?.events).toEqual(["start", "tee-unbind"]);
      expect(f?.classification).toEqual({
        status: "introduced",
        baseline: "inexpressible",
        introducedIn: "v13",
      });
      expect(f?.replay).toBe(`rproc-review replay --version ${id} --events start,tee-unbind`);
      // The bare unbind already uses the freed context when the STM32 driver goes away.
      expect(findingIn(r, "use-after-free", "rproc_tee_unregister")?.events).toEqual(["tee-unbind"]);
    },
  );

  it("v16 orders the unbind: no use-after-free at all", async () => {
    const r = await explored("v16");
    expect(r.findings.filter((f) => f.finding.kind === "use-after-free")).toEqual([]);
    expect(r.states).toBeGreaterThan(1);
  });

  it.each(["v14", "v15"])(
    "%s: leaks the firmware buffer after image-tamper, start (introduced in v14)",
    async (id) => {
      const f = findingIn(await explored(id), "leak", "request_firmware");
      expect(f?.events).toEqual(["image-tamper", "start"]);
      expect(f?.finding.detail).toMatch(/firmware "rproc-m4-fw"/);
      expect(f?.classification).toEqual({
        status: "introduced",
        baseline: "inexpressible",
        introducedIn: "v14",
      });
    },
  );

  it("v13 releases the firmware after a refused image", async () => {
    expect(findingIn(await explored("v13"), "leak", "request_firmware")).toBeUndefined();
  });

  it("classifies a leak that mainline has with the same events as pre-existing", async () => {
    const r = await exploreAndClassify(design("v16"), { baseline, earlier: earlierThan("v16") }, fx, {
      depth: 3,
      events: ["start"],
    });
    const f = findingIn(r, "leak", "rproc_handle_vdev");
    expect(f?.events).toEqual(["start", "start", "start"]);
    expect(f?.classification).toEqual({ status: "pre-existing", baseline: "present", introducedIn: null });
    expect(renderExploreText([r], "mainline")).toMatch(
      /pre-existing \(mainline raises it with the same events\)/,
    );
  });

  it("replay prints the trace explore recorded", async () => {
    const r = await explored("v14");
    for (const f of r.findings) {
      const again = await replay(design("v14"), f.events, fx);
      expect(again.trace).toEqual(f.trace);
      expect(again.findings.map((x) => [x.kind, x.at])).toContainEqual([f.finding.kind, f.finding.at]);
    }
  });

  it("replays each sequence once per design while classifying", async () => {
    const r = await explored("v14");
    const memo = new RunMemo(fx);
    const classes = [];
    for (const f of r.findings)
      classes.push(await classify(f, design("v14"), baseline, earlierThan("v14"), memo));
    expect(classes).toEqual(r.findings.map((f) => f.classification));
    const sequences = new Set(r.findings.map((f) => f.events.join(",")));
    // At most the baseline and v13 per distinct sequence, although several findings share each sequence.
    expect(memo.executed).toBeLessThanOrEqual(2 * sequences.size);
    expect(sequences.size).toBeLessThan(r.findings.length);
  });

  it("skips states already seen and events that make no sense", async () => {
    const r = await explored("mainline");
    // mainline has no TEE: only start, stop, crash, recovery, firmware-change and the STM32 bind/unbind apply.
    expect(r.transitions).toBeLessThan(EVENT_IDS.length * EVENT_IDS.length);
    expect(r.statesPerDepth[0]).toBe(1);
    expect(r.states).toBe(r.statesPerDepth.reduce((a, b) => a + b, 0));
    expect(r.findings).toEqual([]);
  });

  it.each(["mainline", ...BUILTIN_VERSIONS.map((v) => v.id)])(
    "%s: the state hash decides what teardown finds (audit: teardown after every transition, depth 4)",
    async (id) => {
      const audited = await explore(design(id), fx, { depth: 4, audit: true });
      const plain = await explore(design(id), fx, { depth: 4 });
      expect(audited.teardowns).toBe(audited.transitions + 1);
      expect(plain.teardowns).toBeLessThan(audited.teardowns);
      const keys = (r: typeof plain) =>
        r.findings.map((f) => [f.finding.kind, f.finding.at, f.events.join(",")]);
      expect(keys(plain)).toEqual(keys(audited));
    },
  );

  it("past keepWorlds, frontier states rebuild their world by replay and the search finds the same", async () => {
    const kept = await explore(design("v13"), fx, { depth: 3 });
    const bounded = await explore(design("v13"), fx, { depth: 3, keepWorlds: 5 });
    expect(kept.replayed).toBe(0);
    expect(bounded.replayed).toBeGreaterThan(0);
    expect(bounded.eventsRun).toBeGreaterThan(bounded.transitions);
    expect(bounded.states).toBe(kept.states);
    const keys = (r: typeof kept) =>
      r.findings.map((f) => [f.finding.kind, f.finding.at, f.events.join(",")]);
    expect(keys(bounded)).toEqual(keys(kept));
    expect(bounded.findings.map((f) => f.trace)).toEqual(kept.findings.map((f) => f.trace));
  });

  it("refuses unknown events and sequences that do not apply", async () => {
    expect(() => parseEvents("start,explode")).toThrow(UsageError);
    expect(parseEvents("start, stop")).toEqual(["start", "stop"]);
    await expect(replay(design("mainline"), ["tee-unbind"], fx)).rejects.toThrow(
      /makes no sense on mainline/,
    );
    await expect(replay(design("v14"), ["start", "rproc-unbind", "start"], fx)).rejects.toThrow(
      /event 3 "start"/,
    );
    await expect(exploreAndClassify(baseline, { baseline, earlier: [] }, fx, { depth: -1 })).rejects.toThrow(
      UsageError,
    );
  });
});
