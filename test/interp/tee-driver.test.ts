import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type Fixtures, loadFixtures } from "../../src/emulator/api.ts";
import type { KConfig } from "../../src/interp/cpp.ts";
import { interpretedTeeDriver, loadTeeDriver } from "../../src/interp/env/remoteproc_tee.ts";
import { cParser } from "../../src/node/c-parser.ts";
import type { CellResult } from "../../src/scenarios/result.ts";
import { type Design, runScenario } from "../../src/scenarios/run.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";

/** A TEE client driver of this project's own (test/fixtures/interp/fixture_tee.c), run from C. */
const PATH = "test/fixtures/interp/fixture_tee.c";
const TEXT = readFileSync(join(import.meta.dirname, "..", "fixtures", "interp", "fixture_tee.c"), "utf8");
const LINES = TEXT.split("\n");

/** The 1-based line of the first line of the fixture containing `text` (after line `after`). */
function lineOf(text: string, after = 0): number {
  const i = LINES.findIndex((l, n) => n >= after && l.includes(text));
  if (i < 0) throw new Error(`${text} is not in the fixture`);
  return i + 1;
}

const v16 = builtinVersion("v16");
if (v16 === undefined) throw new Error("no built-in v16");
/** The rest of the kernel: the hand model of v16's core and STM32 driver. */
const DESIGN: Design = { id: "v16", title: v16.title, facts: v16.facts };

let fixtures: Fixtures;
beforeAll(async () => {
  fixtures = await loadFixtures();
});

async function cell(scenario: string, switches: readonly string[] = []): Promise<CellResult> {
  const config: Record<string, "y"> = { CONFIG_REMOTEPROC_TEE: "y" };
  for (const s of switches) config[s] = "y";
  const loaded = loadTeeDriver(await cParser(), {
    source: { path: PATH, text: TEXT },
    config: config as KConfig,
  });
  expect(loaded.problems).toEqual([]);
  return runScenario(DESIGN, scenario, fixtures, { tee: interpretedTeeDriver(loaded) });
}

/** The TA commands of a boot through the fixture driver: parse_fw and load each load, then start, stop, release. */
const BOOT_TA = ["LOAD_FW", "GET_RSC_TABLE", "LOAD_FW", "GET_RSC_TABLE", "START_FW", "STOP_FW", "RELEASE_FW"];

const steps = (r: CellResult): string[] => r.trace.map((s) => `${s.layer} ${s.fn} ${s.event} ${s.detail}`);

describe("a TEE client driver run from C with the hand model as the kernel (fixture of our own)", () => {
  it("boots: module_tee_client_driver registers it, probe opens the context, the STM32 model drives its API", async () => {
    const r = await cell("boot");
    expect(r).toMatchObject({ ok: true, errno: 0, finalState: "running", unknown: false, findings: [] });
    expect(r.tee).toEqual(BOOT_TA);
    const s = steps(r);
    expect(s).toContain(
      "core really_probe call fixture_tee on optee-ta-80a4c275-0a47-4905-8285-1486a9771a08",
    );
    for (const fn of ["fx_probe", "rproc_tee_register", "rproc_tee_parse_fw", "rproc_tee_start", "fx_remove"])
      expect(s).toContain(`tee ${fn} call `);
    // The table the C kmemdup'd is the core's cached table: the core frees it at shutdown.
    expect(s).toContain(`core rproc_shutdown free mem kmemdup(140) at fixture_tee.c:${lineOf("kmemdup(va")}`);
  });

  it("names its entry with the kernel's string helpers, FIELD_PREP/FIELD_GET and a __free() scratch string, and leaks nothing", async () => {
    const r = await cell("boot", ["CONFIG_FIXTURE_NAMED"]);
    expect(r).toMatchObject({ ok: true, errno: 0, finalState: "running", unknown: false, findings: [] });
    const s = steps(r);
    // strscpy cut the tag (-E2BIG), scnprintf and sprintf wrote the line, the field came back as packed.
    expect(s).toContain("tee fx_name log info: entry fx-0-tee (fx-0-te/-7:5)");
    // The scratch string is freed as fx_name returns (its __free), the name by unregister: nothing leaks.
    const kasprintf = `kasprintf(9) at fixture_tee.c:${lineOf("kasprintf(")}`;
    expect(s).toContain(`core fx_name free mem ${kasprintf}`);
    expect(s).toContain(
      `core rproc_tee_unregister free mem kstrdup(9) at fixture_tee.c:${lineOf("kstrdup(")}`,
    );
  });

  it("a TEE transport failure of START is returned by this driver's start: the boot fails, nothing is swallowed", async () => {
    const r = await cell("tee-start-fails");
    expect(r.errno).toBe(-5);
    expect(r.findings.filter((f) => f.kind === "error-swallowed")).toEqual([]);
    expect(steps(r)).toContain("tee rproc_tee_start return -EIO");
  });

  it("an allocation under a spinlock is a sleep-in-atomic finding at the fixture's line", async () => {
    const r = await cell("shutdown", ["CONFIG_FIXTURE_SPINLOCK"]);
    expect(r.ok).toBe(true);
    expect(r.findings).toEqual([
      expect.objectContaining({
        kind: "sleep-in-atomic",
        detail: "kzalloc may sleep while holding spinlock fx_spin (held by rproc_tee_register)",
        at: "rproc_tee_register",
        site: { file: PATH, line: lineOf("e = kzalloc(", lineOf("spin_lock(&fx_spin)")) },
      }),
    ]);
  });

  it("an entry read after kfree is the hand model's use-after-free at the line that reads it", async () => {
    const r = await cell("shutdown", ["CONFIG_FIXTURE_UAF"]);
    expect(r.findings).toEqual([
      expect.objectContaining({
        kind: "use-after-free",
        detail: `read of mem "kzalloc(32) at fixture_tee.c:${lineOf("e = kzalloc(", lineOf("#else"))}" freed in rproc_tee_unregister`,
        at: "rproc_tee_unregister",
        site: { file: PATH, line: lineOf("ret = e->session") },
      }),
    ]);
  });

  it("an API the environment lacks makes the cell unknown, naming the API and the line; what ran before stays", async () => {
    const r = await cell("boot", ["CONFIG_FIXTURE_GET_VERSION"]);
    expect(r.unknown).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.unknownBecause?.[0]).toEqual({
      what: "tee_client_get_version(): not defined in the files and not provided by the environment",
      files: [PATH],
      why: `the posted C stopped at ${PATH}:${lineOf("tee_client_get_version(fx_ctx")}: tee_client_get_version(): not defined in the files and not provided by the environment`,
      at: { file: PATH, line: lineOf("tee_client_get_version(fx_ctx") },
    });
    expect(r.tee).toEqual(["LOAD_FW", "GET_RSC_TABLE", "LOAD_FW", "GET_RSC_TABLE"]);
    // The teardown never ran on the hand model's behaviour: no leak verdicts from a run that stopped.
    expect(r.findings).toEqual([]);
  });

  it("a member of struct rproc the hand model does not keep is an unknown naming the member", async () => {
    const r = await cell("shutdown", ["CONFIG_FIXTURE_PRIV"]);
    expect(r.unknownBecause?.[0]).toMatchObject({
      what: "a read of rproc m4->priv: the environment does not provide member priv of struct rproc",
      at: { file: PATH, line: lineOf("if (rproc->priv)") },
    });
  });

  it("a NULL dereference is a fault of the posted C (the kernel would oops), never a completed cell", async () => {
    const r = await cell("shutdown", ["CONFIG_FIXTURE_OOPS"]);
    expect(r.unknown).toBe(true);
    expect(r.unknownBecause?.[0]).toMatchObject({
      what: "null-deref: read of address 0x1c (NULL)",
      // The statement that dereferences it: the declaration whose initialiser reads e->session.
      at: { file: PATH, line: lineOf("struct tee_ioctl_invoke_arg arg = {") },
    });
    expect(r.unknownBecause?.[0]?.why).toMatch(/faulted \(the kernel would oops\)/);
  });
});

describe("a member the series adds to struct rproc, used by its TEE driver with no tree", () => {
  // fx_find() first looks at a link kept in the rproc, which fx's register sets.
  const text = TEXT.replace(
    "\tguard(mutex)(&fx_lock);\n\tlist_for_each_entry",
    "\tif (rproc->fx_link)\n\t\treturn rproc->fx_link;\n\tguard(mutex)(&fx_lock);\n\tlist_for_each_entry",
  ).replace("\te->rproc = rproc;\n", "\te->rproc = rproc;\n\trproc->fx_link = e;\n");
  const load = async (rprocMembers: readonly string[]) =>
    loadTeeDriver(await cParser(), { source: { path: PATH, text }, rprocMembers });

  it("is declared last in the environment's struct rproc, its bytes the C's own", async () => {
    expect(text).not.toBe(TEXT);
    const loaded = await load(["struct fx_entry *fx_link;"]);
    expect(loaded.problems).toEqual([]);
    const r = await runScenario(DESIGN, "boot", fixtures, { tee: interpretedTeeDriver(loaded) });
    expect(r).toMatchObject({ ok: true, finalState: "running", unknown: false, findings: [] });
    expect(r.tee).toEqual(BOOT_TA);
  });

  it("keeps the members that declare when another is of a type the environment lacks", async () => {
    const loaded = await load(["frobnicator_t frob;", "struct fx_entry *fx_link;"]);
    const r = await runScenario(DESIGN, "boot", fixtures, { tee: interpretedTeeDriver(loaded) });
    expect(r).toMatchObject({ ok: true, finalState: "running", unknown: false });
  });

  it("is unknown, naming the member and the posted line, when the series' header is not read", async () => {
    const r = await runScenario(DESIGN, "boot", fixtures, { tee: interpretedTeeDriver(await load([])) });
    expect(r.unknown).toBe(true);
    expect(r.unknownBecause?.[0]?.what).toBe("struct rproc has no member fx_link");
    expect(text.split("\n")[(r.unknownBecause?.[0]?.at?.line ?? 0) - 1]).toContain("rproc->fx_link");
  });
});
