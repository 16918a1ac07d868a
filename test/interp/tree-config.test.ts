/**
 * The config scenario on a kernel tree: the tree's stm32_rproc.c (the series applied) is lowered a second
 * time with CONFIG_REMOTEPROC_TEE=n, so its calls to rproc_tee_*() are remoteproc_tee.h's static inline
 * stubs, part of its own program; rproc-remove@REMOTEPROC_TEE=n runs that build (src/node/versions.ts
 * treeDesign, src/interp/env/drivers.ts). A header of our own shows the stubs' C decides the cell; the real
 * v16 on linux-6.12 gives the model column's config cell (the hand model's STM32 driver over the posted
 * stubs).
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  interpretedTreeDrivers,
  loadTreeDrivers,
  TREE_CONFIG_WITHOUT_TEE,
} from "../../src/interp/env/drivers.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { loadInput } from "../../src/node/inputs.ts";
import { applySeriesToTree } from "../../src/node/kernel-tree.ts";
import { mappedSubject } from "../../src/node/versions.ts";
import type { CellResult } from "../../src/scenarios/result.ts";
import { type Design, describeRan, runMatrix, runScenario } from "../../src/scenarios/run.ts";
import type { Stm32DriverImpl } from "../../src/scenarios/world.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";
import { loadOrder, runnableFiles } from "../../src/tree/index.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";
import { cellOutcome } from "./helpers.ts";

const TREE = join(SHARED, "kernel", "linux-6.12");
const V16 = join(SHARED, "lkml", "v16");
const have =
  sharedAvailable("kernel/linux-6.12/drivers/remoteproc/stm32_rproc.c") && sharedAvailable("lkml/v16");
const SCENARIO = "rproc-remove@REMOTEPROC_TEE=n";
const STUBS_H = "include/linux/remoteproc_tee.h";

/**
 * Our own remoteproc_tee.h: the client API the STM32 driver calls, with CONFIG_REMOTEPROC_TEE=n stubs. The
 * unregister stub's body is `unregister` (line 17 of the header), so a test decides whether it warns.
 */
function stubsHeader(unregister: string): string {
  return `/* rproc-review fixture: the TEE client API of remoteproc_tee.h, with its stubs */
#ifndef FIXTURE_REMOTEPROC_TEE_H
#define FIXTURE_REMOTEPROC_TEE_H
struct rproc;
#if IS_ENABLED(CONFIG_REMOTEPROC_TEE)
int rproc_tee_register(struct device *dev, struct rproc *rproc, unsigned int rproc_id);
int rproc_tee_unregister(struct device *dev, struct rproc *rproc);
int rproc_tee_parse_fw(struct rproc *rproc, const struct firmware *fw);
int rproc_tee_load_fw(struct rproc *rproc, const struct firmware *fw);
void rproc_tee_release_fw(struct rproc *rproc);
struct resource_table *rproc_tee_find_loaded_rsc_table(struct rproc *rproc, const struct firmware *fw);
int rproc_tee_start(struct rproc *rproc);
int rproc_tee_stop(struct rproc *rproc);
#else
static inline int rproc_tee_unregister(struct device *dev, struct rproc *rproc)
{
	${unregister}
	return 0;
}
static inline int rproc_tee_register(struct device *dev, struct rproc *rproc, unsigned int rproc_id)
{ return -ENODEV; }
static inline int rproc_tee_parse_fw(struct rproc *rproc, const struct firmware *fw) { return -EINVAL; }
static inline int rproc_tee_load_fw(struct rproc *rproc, const struct firmware *fw) { return -EINVAL; }
static inline void rproc_tee_release_fw(struct rproc *rproc) { }
static inline struct resource_table *rproc_tee_find_loaded_rsc_table(struct rproc *rproc,
								     const struct firmware *fw)
{ return NULL; }
static inline int rproc_tee_start(struct rproc *rproc) { return -EINVAL; }
static inline int rproc_tee_stop(struct rproc *rproc) { return -EINVAL; }
#endif
#endif
`;
}

const outcome = cellOutcome;

describe.skipIf(!have)(
  "the config scenario on a kernel tree (the STM32 C built with CONFIG_REMOTEPROC_TEE=n)",
  () => {
    let tree: { headers: { path: string; text: string }[]; stm32: { path: string; text: string } };
    let elf: { path: string; text: string } | null;
    let design: Design;
    let model: CellResult;
    beforeAll(async () => {
      const series = await loadInput(V16);
      const report = await applySeriesToTree(series, TREE);
      const files = runnableFiles(report);
      const stm32 = files.find((f) => f.path === "drivers/remoteproc/stm32_rproc.c");
      if (stm32 === undefined) throw new Error("v16's stm32_rproc.c does not run from C on linux-6.12");
      const e = files.find((f) => f.path === "drivers/remoteproc/remoteproc_elf_loader.c");
      elf = e === undefined ? null : { path: e.path, text: e.text };
      tree = {
        headers: loadOrder(report).filter((f) => f.path.endsWith(".h")),
        stm32: { path: stm32.path, text: stm32.text },
      };
      design = (await mappedSubject(series, V16, { kernelTree: TREE })).design;
      // The model column's cell: the hand model's STM32 driver over the posted stubs (interpreted).
      const v = builtinVersion("v16");
      if (v === undefined) throw new Error("no built-in v16");
      const m = await runMatrix([{ id: "v16", title: v.title, facts: v.facts, teeStubs: design.teeStubs }]);
      const cell = m.results.find((r) => r.scenario === SCENARIO);
      if (cell === undefined) throw new Error(`no model cell ${SCENARIO}`);
      model = cell;
    }, 120_000);

    /** The tree's STM32 driver built with CONFIG_REMOTEPROC_TEE=n over our own remoteproc_tee.h. */
    async function withOwnStubs(unregister: string): Promise<Stm32DriverImpl> {
      const headers = tree.headers.map((h) =>
        h.path === STUBS_H ? { path: h.path, text: stubsHeader(unregister) } : h,
      );
      const loaded = loadTreeDrivers(await cParser(), {
        headers,
        tee: null,
        stm32: tree.stm32,
        elf,
        config: TREE_CONFIG_WITHOUT_TEE,
      });
      expect(loaded.problems).toEqual([]);
      const stm32 = interpretedTreeDrivers(loaded).stm32;
      if (stm32 === undefined) throw new Error("no STM32 driver");
      expect(stm32.what).toMatch(/with CONFIG_REMOTEPROC_TEE=n/);
      return stm32;
    }

    const runWith = async (n: Stm32DriverImpl): Promise<CellResult> => {
      const v = builtinVersion("v16");
      if (v === undefined) throw new Error("no built-in v16");
      // No TEE stubs beside the driver: a call that reached them would be an unknown, not the cell below.
      return runScenario({ id: "v16", title: v.title, facts: v.facts }, SCENARIO, undefined, {
        stm32: { ...n, withoutTee: n },
      });
    };

    it("a stub of our own that warns is the cell's warn, on the header's line, from the STM32 C's remove", async () => {
      const cell = await runWith(await withOwnStubs("WARN_ON(1);"));
      expect(cell.unknown).toBe(false);
      expect(cell.ok).toBe(true);
      const warns = cell.findings.filter((f) => f.kind === "warn");
      expect(warns.map((f) => f.at)).toEqual(["rproc_tee_unregister"]);
      expect(warns[0]?.site).toEqual({ file: STUBS_H, line: 17 });
      // The stub ran inside the C driver's program: its caller is the tree's stm32_rproc.c.
      const calls = cell.trace.filter((s) => s.event === "call").map((s) => `${s.layer} ${s.fn}`);
      expect(calls).toContain("stm32 stm32_rproc_remove");
      expect(calls).toContain("tee rproc_tee_unregister");
    });

    it("the same stub without the WARN_ON leaves no finding: the header's C decides, not a model of it", async () => {
      const cell = await runWith(await withOwnStubs("/* nothing to undo */"));
      expect(cell.unknown).toBe(false);
      expect(cell.ok).toBe(true);
      expect(cell.findings).toEqual([]);
    });

    it("v16 on linux-6.12: the design runs the CONFIG_REMOTEPROC_TEE=n build and says so", () => {
      expect(design.stm32?.withoutTee?.what).toBe(
        "drivers/remoteproc/stm32_rproc.c of the kernel tree with CONFIG_REMOTEPROC_TEE=n (remoteproc_tee.h's stubs inlined), interpreted",
      );
      expect(describeRan(design.ran)).toBe(
        "core, elf loader, virtio, stm32, remoteproc_tee.c from C; with CONFIG_REMOTEPROC_TEE=n: core, virtio, elf loader, stm32 from C with remoteproc_tee.h's stubs inlined",
      );
      expect(design.ran?.filter((r) => r.config !== undefined).map((r) => r.file)).toEqual([
        "drivers/remoteproc/remoteproc_core.c",
        "drivers/remoteproc/remoteproc_virtio.c",
        "drivers/remoteproc/remoteproc_elf_loader.c",
        "drivers/remoteproc/stm32_rproc.c",
        STUBS_H,
      ]);
    });

    it("v16 on linux-6.12: the config cell ran the posted stubs' WARN_ON and equals the model column's", async () => {
      const m = await runMatrix([design], [SCENARIO]);
      const cell = m.results[0];
      if (cell === undefined) throw new Error("no cell");
      expect(cell.unknown).toBe(false);
      expect(model.unknown).toBe(false);
      expect(outcome(cell)).toEqual(outcome(model));
      const warn = cell.findings.find((f) => f.kind === "warn");
      expect(warn?.at).toBe("rproc_tee_unregister");
      expect(warn?.site?.file).toBe(STUBS_H);
      // The C's own functions ran (the hand model's STM32 driver has no stm32_rproc_get_syscon).
      const calls = new Set(cell.trace.filter((s) => s.event === "call").map((s) => `${s.layer} ${s.fn}`));
      expect(calls).toContain("stm32 stm32_rproc_get_syscon");
    });
  },
);
