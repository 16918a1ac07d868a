/**
 * The review's event exploration runs a side's posted C (issue 16): a fixture series of our own whose TEE
 * driver leaks only when it is started again after a stop (a crash's recovery: two events), behaviour no design
 * fact describes (its facts are the fixture's v5's). The exploration of its C finds the leak at the posted
 * line; the facts over the hand model do not, and the report says where the two disagree.
 */

import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadFixtures } from "../../src/emulator/api.ts";
import { explore } from "../../src/explore/explore.ts";
import { mappedSubject, resolveVersion } from "../../src/node/versions.ts";
import { REVIEW_EXPLORE_DEPTH_C, type ReviewSubject, runReview } from "../../src/review/run.ts";
import { FXTEE_C, fxteeSeries } from "../fixtures/fxtee/fxtee.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";
import { seriesOf } from "../map/helpers.ts";

const TEE = "drivers/remoteproc/remoteproc_tee.c";

function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fxtee.c lacks ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

/** fxtee.c, whose start after a stop keeps a note it never frees (a leak only a restart shows). */
const RESTART_C = edit(
  edit(
    edit(
      FXTEE_C,
      "static struct device *fx_dev;\n",
      "static struct device *fx_dev;\nstatic unsigned int fx_stops;\nstatic void *fx_note;\n",
    ),
    "\tif (!e)\n\t\treturn -EINVAL;\n\treturn fx_invoke(e, FX_CMD_START, param, 0);\n}",
    "\tif (!e)\n\t\treturn -EINVAL;\n\tif (fx_stops)\n\t\tfx_note = kzalloc(32, GFP_KERNEL);\n\treturn fx_invoke(e, FX_CMD_START, param, 0);\n}",
  ),
  "\tif (!e)\n\t\treturn -EINVAL;\n\treturn fx_invoke(e, FX_CMD_STOP, param, 0);\n}",
  "\tif (!e)\n\t\treturn -EINVAL;\n\tfx_stops++;\n\treturn fx_invoke(e, FX_CMD_STOP, param, 0);\n}",
);
const LEAK_LINE = RESTART_C.split("\n").findIndex((l) => l.includes("fx_note = kzalloc(")) + 1;

async function restartSubject(): Promise<ReviewSubject> {
  const s = structuredClone(fxteeSeries(5));
  s.version = 8;
  const lines = RESTART_C.replace(/\n$/, "")
    .split("\n")
    .map((l) => `+${l}`);
  for (const p of s.patches)
    for (const f of p.files) if (f.path === TEE) f.hunks = [{ oldStart: 0, section: "", lines }];
  return mappedSubject(await seriesOf(s), "fx-restart.mbox");
}

const mbox5 = join(import.meta.dirname, "..", "fixtures", "fxtee", "fxtee-v5.mbox");

describe("the exploration of a side from C runs its C", () => {
  let v5: ReviewSubject;
  let v8: ReviewSubject;
  beforeAll(async () => {
    v5 = await resolveVersion(mbox5);
    v8 = await restartSubject();
  });

  it("the fixture runs its TEE driver from C, with the same facts as v5", () => {
    expect(v8.design.tee).toBeDefined();
    expect(v8.design.ran?.find((r) => r.file === TEE)?.from).toBe("C");
    expect(v8.design.facts).toEqual(v5.design.facts);
  });

  it("explore() on the C finds the restart's leak at the posted line; the facts over the hand model do not", async () => {
    const fx = await loadFixtures();
    const { id, facts, tee } = v8.design;
    const c = await explore({ id, facts, ...(tee === undefined ? {} : { tee }) }, fx, { depth: 2 });
    expect(c.fromC).toBe(true);
    expect(c.stopped).toEqual([]);
    const leak = c.findings.find((f) => f.finding.kind === "leak" && f.finding.at === "rproc_tee_start");
    // A leak is raised at teardown's leak check; its detail names the posted allocation.
    expect(leak?.finding.detail).toContain(`kzalloc(32) at remoteproc_tee.c:${LEAK_LINE}`);
    expect(leak?.events).toEqual(["start", "crash"]);
    const m = await explore({ id, facts }, fx, { depth: 2 });
    expect(m.fromC).toBe(false);
    expect(m.findings.some((f) => f.finding.at === "rproc_tee_start")).toBe(false);
    // The state hash of a C world includes the C's memory: the audit (teardown after every transition)
    // holds on it.
    await expect(
      explore({ id, facts, ...(tee === undefined ? {} : { tee }) }, fx, { depth: 2, audit: true }),
    ).resolves.toMatchObject({ fromC: true });
  });

  it("the review explores v8 on its C: the leak is introduced at the posted line, judged, and the model's disagreement is said", async () => {
    const { report } = await runReview(v5, v8, { scenarios: ["boot"] });
    const x = report.explore;
    expect(x?.depth).toBe(REVIEW_EXPLORE_DEPTH_C);
    expect(x?.unknown).toBeNull();
    expect(x?.a.fromC).toBe(true);
    expect(x?.b.fromC).toBe(true);
    const leak = x?.introduced.find((f) => f.kind === "leak" && f.at === "rproc_tee_start");
    expect(leak?.detail).toContain(`kzalloc(32) at remoteproc_tee.c:${LEAK_LINE}`);
    expect(leak?.events).toEqual(["start", "crash"]);
    expect(report.notes.join("\n")).not.toContain("exploration: the model only");
    // Both sides' C find what their facts' model does not (v5's too: the fixture's warnings at a TEE unbind);
    // only v8's C leaks at the restart.
    const disagree = report.notes.filter((n) =>
      n.includes("the exploration of its C and that of its design"),
    );
    expect(disagree.map((n) => n.slice(0, n.indexOf(":")))).toEqual([v5.design.id, v8.design.id]);
    const onlyC = (n: string | undefined): string =>
      (n ?? "").split("only its facts over the hand model")[0] ?? "";
    expect(onlyC(disagree[1])).toContain("leak in rproc_tee_start (start,crash)");
    expect(disagree[0]).not.toContain("leak in rproc_tee_start");
    expect(report.verdict.line).toMatch(/explore \(depth 2\): 1 introduced/);
  });
});

const V16 = join(SHARED, "lkml", "v16");
const TREE = join(SHARED, "kernel", "linux-6.12");

describe.runIf(sharedAvailable(V16))("v16's posted C explored", () => {
  it("its TEE driver from C: the audit holds at depth 3 and it raises what its facts over the hand model raise", async () => {
    const fx = await loadFixtures();
    const { design } = await resolveVersion(V16);
    const { id, facts, tee } = design;
    if (tee === undefined) throw new Error("v16's mails gave no TEE driver");
    const c = await explore({ id, facts, tee }, fx, { depth: 3, audit: true });
    const m = await explore({ id, facts }, fx, { depth: 3 });
    expect(c.fromC).toBe(true);
    expect(c.stopped).toEqual([]);
    const keys = (r: typeof c) => r.findings.map((f) => `${f.finding.kind} in ${f.finding.at}`).sort();
    expect(keys(c)).toEqual(keys(m));
  });

  it.runIf(sharedAvailable(TREE))(
    "with the kernel tree (core, virtio, stm32 and TEE driver from C): the audit holds at depth 2",
    async () => {
      const fx = await loadFixtures();
      const { design } = await resolveVersion(V16, undefined, {}, { kernelTree: TREE });
      expect(design.stm32).toBeDefined();
      const { id, facts, tee, stm32 } = design;
      const r = await explore(
        { id, facts, ...(tee === undefined ? {} : { tee }), ...(stm32 === undefined ? {} : { stm32 }) },
        fx,
        { depth: 2, audit: true },
      );
      expect(r.fromC).toBe(true);
      expect(r.stopped).toEqual([]);
      expect(r.states).toBeGreaterThan(1);
    },
  );
});
