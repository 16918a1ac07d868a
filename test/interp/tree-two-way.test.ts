/**
 * Two-way check of the drivers of a kernel tree run from C (src/interp/env/drivers.ts) against the hand model:
 * the posted series applied to ../shared/kernel/linux-6.12, its stm32_rproc.c and the remoteproc_tee.c it
 * creates interpreted with the hand model's core as their environment (asked for: by default the tree's core
 * runs from C too, checked in core-two-way.test.ts), give the hand model's column of the
 * same version (results, TA command sequences, findings by kind and function), except the differences listed
 * here, each explained.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { interpretedTreeDrivers, loadTreeDrivers } from "../../src/interp/env/drivers.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { loadInput } from "../../src/node/inputs.ts";
import { mappedSubject } from "../../src/node/versions.ts";
import type { MatrixResult } from "../../src/scenarios/result.ts";
import { type Design, describeRan, runMatrix } from "../../src/scenarios/run.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";
import { runCli } from "../helpers/cli.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";
import { cellOutcome, mainlineFromTree } from "./helpers.ts";

const TREE = join(SHARED, "kernel", "linux-6.12");
const have =
  sharedAvailable("kernel/linux-6.12/drivers/remoteproc/stm32_rproc.c") && sharedAvailable("lkml/v16");

const outcome = cellOutcome;

/**
 * Cells where the C and the hand model part, with why. Nothing else may differ.
 * - tee-unbind-while-running (v14, v15): unbinding the TEE device runs rproc_tee_remove, which list_del()s
 *   and kfree()s every session entry but leaves rproc->rproc_tee_itf pointing at it; the STM32 driver's
 *   remove then calls rproc_tee_unregister, whose list_del(&trproc->node) reads the freed entry (the use
 *   after free both record) and writes through the LIST_POISON its first list_del left: the C faults (the
 *   kernel would oops; an unknown cell naming the fault and the line), where the hand model records the use
 *   after free and the double free and goes on. Without a tree these versions do not run from C at all
 *   (the environment's own struct rproc has no rproc_tee_itf, the member their remoteproc.h patch adds).
 */
const EXPECTED_DIFFERENCES: Record<string, Record<string, string>> = {
  v16: {},
  v15: { "tee-unbind-while-running": "the posted C's second list_del of a freed entry faults" },
  v14: { "tee-unbind-while-running": "the posted C's second list_del of a freed entry faults" },
  v13: {},
};

async function treeColumn(id: string): Promise<{ design: Design; m: MatrixResult }> {
  const series = await loadInput(join(SHARED, "lkml", id));
  // The drivers from C over the hand model's core (the core from C too: core-two-way.test.ts).
  const { design } = await mappedSubject(series, join(SHARED, "lkml", id), {
    kernelTree: TREE,
    modelCore: true,
  });
  return { design, m: await runMatrix([design]) };
}

/** The hand model's column, with the tree column's CONFIG_REMOTEPROC_TEE=n stubs (posted C either way). */
async function modelColumn(id: string, teeStubs?: Design["teeStubs"]): Promise<MatrixResult> {
  const v = builtinVersion(id);
  if (v === undefined) throw new Error(`no built-in ${id}`);
  return runMatrix([{ id: v.id, title: v.title, facts: v.facts, ...(teeStubs ? { teeStubs } : {}) }]);
}

/** Every cell of `c` has the outcome of the hand model's cell of the same scenario. */
function expectSameCells(c: MatrixResult, model: MatrixResult): void {
  for (const cell of c.results) {
    const m = model.results.find((r) => r.scenario === cell.scenario);
    expect({ scenario: cell.scenario, ...outcome(cell) }).toEqual({
      scenario: m?.scenario,
      ...(m === undefined ? {} : outcome(m)),
    });
  }
}

describe.skipIf(!have)(
  "the drivers of linux-6.12 with the series applied, from C, against the hand model",
  () => {
    const cols = new Map<string, { design: Design; c: MatrixResult; model: MatrixResult }>();
    beforeAll(async () => {
      for (const id of ["v16", "v15", "v14", "v13"]) {
        const { design, m } = await treeColumn(id);
        cols.set(id, { design, c: m, model: await modelColumn(id, design.teeStubs) });
      }
    }, 240_000);

    const column = (id: string) => {
      const col = cols.get(id);
      if (col === undefined) throw new Error(`no column ${id}`);
      return col;
    };

    it("v16 runs the patched stm32_rproc.c, the ELF loader and the posted remoteproc_tee.c from C, the core from the model", () => {
      const { design } = column("v16");
      expect(describeRan(design.ran)).toBe(
        "elf loader, stm32, remoteproc_tee.c from C; core, virtio from the model; with CONFIG_REMOTEPROC_TEE=n: elf loader, stm32 from C with remoteproc_tee.h's stubs inlined",
      );
      const stm32 = design.ran?.find((r) => r.file === "drivers/remoteproc/stm32_rproc.c");
      expect(stm32).toEqual({
        file: "drivers/remoteproc/stm32_rproc.c",
        from: "C",
        why: "patched by patches 5, 6",
      });
      expect(design.stm32?.what).toMatch(/stm32_rproc\.c of the kernel tree, interpreted/);
      // The core is patched (1, 3); this column asks for the hand model's core (its C: core-two-way.test.ts).
      const core = design.ran?.find((r) => r.file === "drivers/remoteproc/remoteproc_core.c");
      expect(core?.from).toBe("model");
      expect(core?.why).toMatch(/patched by patches 1, 3; .*the hand model's core is asked for/);
      // Functions only the C has ran (the hand model has no stm32_rproc_get_syscon, no mailbox index lookup).
      const boot = column("v16").c.results.find((r) => r.scenario === "boot");
      const called = new Set(boot?.trace.filter((s) => s.event === "call").map((s) => `${s.layer} ${s.fn}`));
      for (const fn of [
        "stm32_rproc_get_syscon",
        "stm32_rproc_mbox_idx",
        "stm32_rproc_of_memory_translations",
      ])
        expect(called).toContain(`stm32 ${fn}`);
    });

    it("v14 and v15 are STM32, ELF loader and TEE from C; v13, whose header patch fails on 6.12, is the model's named file by file", () => {
      for (const id of ["v14", "v15"])
        expect(describeRan(column(id).design.ran)).toBe(
          "elf loader, stm32, remoteproc_tee.c from C; core, virtio from the model; with CONFIG_REMOTEPROC_TEE=n: elf loader, stm32 from C with remoteproc_tee.h's stubs inlined",
        );
      const v13 = column("v13").design;
      // Every line saying what ran names why (the text, markdown and mail render describeRan).
      expect(describeRan(v13.ran)).toBe(
        'core from the model (on the tree: 3/7 "remoteproc: core: Refactor resource table cleanup into rproc_release_fw" and 4/7 "remoteproc: Introduce release_fw optional operation" did not apply); elf loader, virtio, stm32, remoteproc_tee.c from the model (on the tree: it includes include/linux/remoteproc.h, which patch 4 changes and did not apply)',
      );
      expect(describeRan(v13.ran, true)).toMatch(
        /^core from the model \(on the tree: 3\/7 .* did not apply\)$/,
      );
      expect(v13.ran?.find((r) => r.file === "drivers/remoteproc/stm32_rproc.c")?.why).toMatch(
        /header-failed|include\/linux\/remoteproc\.h/,
      );
      expect(v13.stm32).toBeUndefined();
    });

    for (const id of ["v16", "v15", "v14", "v13"]) {
      it(`${id}: every cell equals the hand model's but the listed differences`, () => {
        const { c, model } = column(id);
        const expected = EXPECTED_DIFFERENCES[id] ?? {};
        const differing: string[] = [];
        for (const cell of c.results) {
          const m = model.results.find((r) => r.scenario === cell.scenario);
          if (m === undefined) throw new Error(`no model cell ${cell.scenario}`);
          if (JSON.stringify(outcome(cell)) !== JSON.stringify(outcome(m))) differing.push(cell.scenario);
          else expect(outcome(cell)).toEqual(outcome(m));
        }
        expect(differing.sort()).toEqual(Object.keys(expected).sort());
      });
    }

    it("the listed v14/v15 difference is the C's fault at its posted line, not a silent result", () => {
      for (const id of ["v14", "v15"]) {
        const cell = column(id).c.results.find((r) => r.scenario === "tee-unbind-while-running");
        expect(cell?.unknown).toBe(true);
        const why = cell?.unknownBecause?.[0];
        expect(why?.why).toMatch(
          /faulted \(the kernel would oops\) at drivers\/remoteproc\/remoteproc_tee\.c:\d+/,
        );
        expect(why?.what).toMatch(/list_unlink|unmapped address/);
      }
    });

    it("findings raised by the posted C carry its lines", () => {
      const { c } = column("v16");
      const sites = c.results.flatMap((r) => r.findings.flatMap((f) => (f.site ? [f.site.file] : [])));
      expect(sites).toContain("drivers/remoteproc/remoteproc_tee.c");
    });
  },
);

/**
 * Mainline: linux-6.12's own stm32_rproc.c and remoteproc_elf_loader.c (no series) against the hand model of
 * v6.15 without TEE. No cell may differ: between 6.12 and 6.15 neither file changed what these scenarios
 * observe (the hand model's 6.15 facts read nothing 6.12 lacks for the non-TEE compatible).
 */
describe.skipIf(!have)(
  "mainline: linux-6.12's STM32 driver and ELF loader from C against the hand model",
  () => {
    it("every cell equals the hand model's mainline column, and the C's ELF helpers ran", async () => {
      const c = await runMatrix([await mainlineFromTree(TREE, false)]);
      expectSameCells(c, await modelColumn("mainline"));
      const boot = c.results.find((r) => r.scenario === "boot");
      const called = new Set(boot?.trace.filter((s) => s.event === "call").map((s) => `${s.layer} ${s.fn}`));
      for (const fn of [
        "rproc_elf_sanity_check",
        "rproc_elf_load_segments",
        "rproc_elf_load_rsc_table",
        "stm32_rproc_start",
      ])
        expect(called).toContain(fn.startsWith("stm32") ? `stm32 ${fn}` : `core ${fn}`);
      // The C's own helpers (not in the hand model) ran too: the ELF loader's find_table, the driver's syscons.
      expect(called).toContain("core find_table");
      expect(called).toContain("stm32 stm32_rproc_get_syscon");
    }, 120_000);
  },
);

describe.skipIf(!have)(
  "a change to the tree's STM32 driver that no fact describes changes the cells when run from C",
  () => {
    it("a spinlock held across the blocking shutdown message is a sleep in atomic context at the posted line", async () => {
      const read = (p: string) => ({ path: p, text: readFileSync(join(TREE, p), "utf8") });
      const stm32 = read("drivers/remoteproc/stm32_rproc.c");
      const send = '\t\t\terr = mbox_send_message(ddata->mb[idx].chan, "detach");';
      expect(stm32.text).toContain(send);
      // Our own change: a lock taken around the message (and its declaration on the includes' last line, so
      // no line of the file moves).
      const changed = stm32.text
        .replace(
          '#include "remoteproc_internal.h"',
          '#include "remoteproc_internal.h"\nstatic DEFINE_SPINLOCK(fx_lock);',
        )
        .replace(send, `\t\t\tspin_lock(&fx_lock); ${send.trim()} spin_unlock(&fx_lock);`);
      const line = changed.split("\n").findIndex((l) => l.includes("spin_lock(&fx_lock);")) + 1;
      const fx = await mainlineFromTree(TREE, false, () => changed);
      const m = await runMatrix([{ ...fx, id: "fx", title: "fx" }], ["shutdown"]);
      const cell = m.results[0];
      const atomic = cell?.findings.filter((f) => f.kind === "sleep-in-atomic") ?? [];
      expect(atomic.map((f) => [f.at, f.site])).toEqual([
        ["stm32_rproc_stop", { file: "drivers/remoteproc/stm32_rproc.c", line }],
      ]);
      expect(atomic[0]?.detail).toMatch(
        /wait_for_completion_timeout may sleep while holding spinlock fx_lock/,
      );
      // The unchanged driver has none (the mainline column above).
    }, 120_000);
  },
);

describe.skipIf(!have)("v16's STM32 driver from C with the hand model's TEE client driver", () => {
  it("equals the hand model's v16 column: the STM32 C alone, its rproc_tee_* calls served by the hand model", async () => {
    const dir = join(SHARED, "lkml", "v16");
    const { applySeriesToTree } = await import("../../src/node/kernel-tree.ts");
    const { loadOrder, runnableFiles } = await import("../../src/tree/index.ts");
    const report = await applySeriesToTree(await loadInput(dir), TREE);
    const file = (p: string) => {
      const f = runnableFiles(report).find((x) => x.path === p);
      if (f === undefined) throw new Error(`${p} does not run`);
      return { path: f.path, text: f.text };
    };
    const loaded = loadTreeDrivers(await cParser(), {
      headers: loadOrder(report).filter((f) => f.path.endsWith(".h")),
      tee: null,
      stm32: file("drivers/remoteproc/stm32_rproc.c"),
      elf: file("drivers/remoteproc/remoteproc_elf_loader.c"),
    });
    const v = builtinVersion("v16");
    if (v === undefined) throw new Error("no v16");
    const c = await runMatrix([
      { id: "v16", title: v.title, facts: v.facts, ...interpretedTreeDrivers(loaded) },
    ]);
    expectSameCells(c, await modelColumn("v16"));
    // The hand model's TEE driver ran (its frames), called by the C's probe and ops.
    const boot = c.results.find((r) => r.scenario === "boot");
    expect(
      boot?.trace.some((s) => s.layer === "tee" && s.fn === "rproc_tee_register" && s.event === "call"),
    ).toBe(true);
    expect(
      boot?.trace.some((s) => s.layer === "stm32" && s.fn === "stm32_rproc_probe" && s.event === "call"),
    ).toBe(true);
  }, 120_000);
});

describe.skipIf(!have)("the CLI runs a series on a kernel tree", () => {
  const V16 = join(SHARED, "lkml", "v16");
  it("matrix --kernel-tree says what ran per file; RPROC_REVIEW_KERNEL_TREE names the tree too", async () => {
    const a = await runCli(["matrix", "--versions", V16, "--kernel-tree", TREE, "--scenarios", "boot"]);
    expect(a.code).toBe(0);
    expect(a.out).toContain("ran: v16: core, elf loader, virtio, stm32, remoteproc_tee.c from C");
    const saved = process.env.RPROC_REVIEW_KERNEL_TREE;
    process.env.RPROC_REVIEW_KERNEL_TREE = TREE;
    try {
      const b = await runCli(["matrix", "--versions", V16, "--scenarios", "boot"]);
      expect(b.out).toBe(a.out);
      // RPROC_REVIEW_MODEL_CORE keeps the hand model's core and virtio under the drivers' C.
      process.env.RPROC_REVIEW_MODEL_CORE = "1";
      const h = await runCli(["matrix", "--versions", V16, "--scenarios", "boot"]);
      delete process.env.RPROC_REVIEW_MODEL_CORE;
      expect(h.out).toContain(
        "ran: v16: elf loader, stm32, remoteproc_tee.c from C; core, virtio from the model",
      );
      // --model-only keeps the hand model for every file, tree or not.
      const m = await runCli(["matrix", "--versions", V16, "--scenarios", "boot", "--model-only"]);
      expect(m.out).not.toContain("ran:");
    } finally {
      if (saved === undefined) delete process.env.RPROC_REVIEW_KERNEL_TREE;
      else process.env.RPROC_REVIEW_KERNEL_TREE = saved;
    }
  });

  it("diff on the tree says what ran on both sides and reviews from the C", async () => {
    const V15 = join(SHARED, "lkml", "v15");
    const r = await runCli(["diff", V15, V16, "--kernel-tree", TREE, "--explore-depth", "0"]);
    expect(r.out).toContain(
      "What ran: **v15**: core, elf loader, virtio, stm32, remoteproc_tee.c from C; with CONFIG_REMOTEPROC_TEE=n: core, virtio, elf loader, stm32 from C with remoteproc_tee.h's stubs inlined; **v16**: core, elf loader, virtio, stm32, remoteproc_tee.c from C; with CONFIG_REMOTEPROC_TEE=n: core, virtio, elf loader, stm32 from C with remoteproc_tee.h's stubs inlined.",
    );
    // v15's tee-unbind-while-running is the C's fault (an unknown), never the hand model's result.
    expect(r.out).toMatch(/faulted \(the kernel would oops\) at drivers\/remoteproc\/remoteproc_tee\.c:\d+/);
  }, 120_000);

  it("review of v16 on the tree against the built-in v16 (the model kernel) judges no difference of the two bases", async () => {
    const onTree = (...more: string[]) =>
      runCli(["review", V16, "--against", "v16", "--kernel-tree", TREE, ...more]);
    const r = await onTree("--explore-depth", "0", "--json");
    const j = JSON.parse(r.out) as { counts: Record<string, number>; verdict: { line: string } };
    // 6.12's rproc_shutdown stops a crashed rproc, 6.15's (the model's) refuses it; the C names leaks after
    // the core's helpers, the model after their callers (core-two-way.test.ts): none of it is v16's.
    expect(j.counts).toMatchObject({ introduced: 0, fixed: 0, different: 0 });
    expect(j.counts.unknown).toBeGreaterThan(0);
    expect(j.verdict.line).toContain(
      "because v16 (B) ran core, elf loader, virtio, stm32 from C on the kernel tree, v16 from the hand model: a difference may be the base's",
    );
    // The exploration likewise: what only the tree's C raises is not judged against the model kernel.
    const e = await onTree("--explore-depth", "1");
    expect(e.out).toMatch(
      /explore \(depth 1\): not judged, core, elf loader, virtio, stm32 ran on two bases/,
    );
  }, 120_000);

  it("review on the tree takes the tree without the series, from C, as the baseline: pre-existing and interleavings on one core", async () => {
    const V15 = join(SHARED, "lkml", "v15");
    const r = await runCli([
      "review",
      V16,
      "--against",
      V15,
      "--kernel-tree",
      TREE,
      "--explore-depth",
      "0",
      "--interleave-depth",
      "1",
      "--format",
      "markdown",
    ]);
    expect(r.out).toContain(
      "mainline (the baseline: the kernel tree without the series): core, elf loader, virtio, stm32 from C",
    );
    // With the hand model's mainline the three sides ran two cores, and the interleavings were not judged.
    expect(r.out).not.toContain("different remoteproc cores");
    expect(r.out).toMatch(
      /searched to 1 scheduling choice on v15, v16, mainline \(v15 \d+, v16 \d+, mainline \d+ executions\)/,
    );
  }, 120_000);

  it("review --against mainline on the tree compares with the tree without the series, from C: one base", async () => {
    const r = await runCli([
      "review",
      V16,
      "--against",
      "mainline",
      "--kernel-tree",
      TREE,
      "--explore-depth",
      "0",
    ]);
    expect(r.out).toMatch(/^ran: mainline: core, elf loader, virtio, stm32 from C;/m);
    expect(r.out).not.toContain("two bases");
    expect(r.out).toMatch(/^verdict: fail: mainline → v16: 17 of 17 scenarios behave differently/m);
  }, 120_000);

  it("a --kernel-tree that is not a kernel tree is bad input (exit 3) naming it", async () => {
    const r = await runCli([
      "matrix",
      "--versions",
      V16,
      "--kernel-tree",
      join(SHARED, "lkml"),
      "--scenarios",
      "boot",
    ]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/not a kernel tree \(--kernel-tree\)/);
  });

  it("built-in ids keep the hand model whatever the tree", async () => {
    const r = await runCli(["matrix", "--versions", "v16", "--kernel-tree", TREE, "--scenarios", "boot"]);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("ran:");
  });
});
