/**
 * The posted series on the real 6.12 sources of ../shared/kernel (a plain directory, not git). The kernel
 * README's figures are those of `git am --3way`, which fails a patch touching a file the tree lacks: that
 * is `--missing fail` here. By default such changes are left out (the rename of an op in every driver
 * applies to the modelled files), which lets v14/v15 apply whole.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadInput } from "../../src/node/inputs.ts";
import { applySeriesToTree } from "../../src/node/kernel-tree.ts";
import { applyWithoutTree, runnableFiles, type TreeReport } from "../../src/tree/index.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";

const TREE = join(SHARED, "kernel", "linux-6.12");
const LKML = join(SHARED, "lkml");
const has =
  sharedAvailable("kernel/linux-6.12/drivers/remoteproc/remoteproc_core.c") &&
  sharedAvailable("lkml/v16/0.eml");

const CORE = "drivers/remoteproc/remoteproc_core.c";
const STM32 = "drivers/remoteproc/stm32_rproc.c";
const HDR = "include/linux/remoteproc.h";
const TEE_C = "drivers/remoteproc/remoteproc_tee.c";
const TEE_H = "include/linux/remoteproc_tee.h";

function failed(r: TreeReport): number[] {
  return r.patches.filter((p) => p.status === "failed").map((p) => p.index);
}

function prov(r: TreeReport, path: string) {
  return r.files.find((f) => f.path === path)?.provenance;
}

describe.skipIf(!has)("the posted series on ../shared/kernel/linux-6.12", () => {
  it("v16 applies 6 of 6; the core, the STM32 driver and the headers are patched, the TEE files created", async () => {
    const series = await loadInput(join(LKML, "v16"));
    const r = await applySeriesToTree(series, TREE);
    expect(r.base).toMatchObject({ kind: "worktree", git: false, tree: TREE });
    expect(r.base.kind === "worktree" && r.base.reason).toContain(
      "base-commit 0a0ba9924445 cannot be looked up",
    );
    expect(r.summary).toEqual({ applied: 6, failed: 0, nothingToApply: 0, total: 6 });
    expect(prov(r, CORE)).toEqual({ kind: "patched", patches: [1, 3] });
    expect(prov(r, STM32)).toEqual({ kind: "patched", patches: [5, 6] });
    expect(prov(r, HDR)).toEqual({ kind: "patched", patches: [1, 3] });
    expect(prov(r, "drivers/remoteproc/remoteproc_internal.h")).toEqual({ kind: "patched", patches: [3] });
    expect(prov(r, "drivers/remoteproc/remoteproc_elf_loader.c")).toEqual({ kind: "base" });
    expect(prov(r, "drivers/remoteproc/remoteproc_virtio.c")).toEqual({ kind: "base" });
    expect(prov(r, TEE_C)).toEqual({ kind: "created", patch: 2, patches: [2] });
    expect(prov(r, TEE_H)).toEqual({ kind: "created", patch: 2, patches: [2] });
    expect(runnableFiles(r)).toHaveLength(9);
    // What the posted code says is in the result.
    const stm32 = r.files.find((f) => f.path === STM32)?.text ?? "";
    expect(stm32).toContain("rproc_tee_register");
    // The created files are the same without any tree.
    const alone = applyWithoutTree(series);
    for (const p of [TEE_C, TEE_H])
      expect(alone.files.find((f) => f.path === p)?.text).toBe(r.files.find((f) => f.path === p)?.text);
  });

  it("the v16 RESEND applies 6 of 6 too", async () => {
    const r = await applySeriesToTree(await loadInput(join(LKML, "v16-resend")), TREE);
    expect(r.summary.applied).toBe(6);
    expect(failed(r)).toEqual([]);
  });

  it("v13 applies 5 of 7: patches 3 and 4 fail on remoteproc_core.c; the files including remoteproc.h fall back", async () => {
    const r = await applySeriesToTree(await loadInput(join(LKML, "v13")), TREE);
    expect(r.summary).toMatchObject({ applied: 5, failed: 2, total: 7 });
    expect(failed(r)).toEqual([3, 4]);
    for (const i of [3, 4]) {
      const p = r.patches[i - 1];
      expect(p?.reason).toContain(`${CORE}: patch does not apply`);
      expect(p?.reason).toContain("no three-way merge");
    }
    expect(r.patches[2]?.title).toBe(
      "remoteproc: core: Refactor resource table cleanup into rproc_release_fw",
    );
    expect(r.patches[3]?.title).toBe("remoteproc: Introduce release_fw optional operation");
    expect(prov(r, CORE)).toMatchObject({ kind: "fallback", cause: "patch-failed", patches: [3, 4] });
    expect(prov(r, HDR)).toMatchObject({ kind: "fallback", cause: "patch-failed", patches: [4] });
    for (const p of [STM32, TEE_C, TEE_H, "drivers/remoteproc/remoteproc_virtio.c"])
      expect(prov(r, p)).toMatchObject({ kind: "fallback", cause: "header-failed", patches: [4] });
  });

  for (const v of ["v14", "v15"]) {
    it(`${v} as git am does it (--missing fail): 6 of 8, patches 4 and 5 fail`, async () => {
      const r = await applySeriesToTree(await loadInput(join(LKML, v)), TREE, { policy: "fail" });
      expect(r.summary).toMatchObject({ applied: 6, failed: 2, total: 8 });
      expect(failed(r)).toEqual([4, 5]);
      expect(r.patches[3]?.title).toBe(
        "remoteproc: Rename load() operation to load_segments() in rproc_ops struct",
      );
      expect(r.patches[3]?.reason).toContain("not in the tree: drivers/remoteproc/imx_dsp_rproc.c");
      expect(r.patches[4]?.reason).toContain(`${HDR}: patch does not apply`);
      expect(prov(r, STM32)).toMatchObject({ kind: "fallback", cause: "patch-failed", patches: [4] });
    });

    it(`${v} leaving out the drivers the tree lacks: patch 4 applies to the modelled files, then 5 too`, async () => {
      const r = await applySeriesToTree(await loadInput(join(LKML, v)), TREE);
      expect(failed(r)).toEqual([]);
      expect(r.summary.applied).toBe(8);
      const p4 = r.patches[3];
      expect(p4?.files).toEqual(expect.arrayContaining([CORE, STM32, HDR]));
      expect(p4?.leftOut.map((l) => l.path)).toContain("drivers/remoteproc/imx_rproc.c");
      expect(p4?.leftOut.every((l) => l.why === "not in the tree")).toBe(true);
      expect(prov(r, STM32)).toEqual({ kind: "patched", patches: [4, 7, 8] });
      expect(r.files.find((f) => f.path === HDR)?.text).toContain("(*load_segments)(");
    });
  }

  it("names the one hunk git applies inside another function: v14/v15's rproc_shutdown change lands in rproc_detach", async () => {
    const moved = async (v: string) =>
      (await applySeriesToTree(await loadInput(join(LKML, v)), TREE)).patches.flatMap((p) =>
        p.applied.flatMap((f) => (f.moved ?? []).map((m) => ({ patch: p.index, path: f.path, ...m }))),
      );
    for (const v of ["v14", "v15"])
      expect(await moved(v)).toEqual([
        {
          patch: 3,
          path: CORE,
          hunk: 4,
          section: "int rproc_shutdown(struct rproc *rproc)",
          landed: "int rproc_detach(struct rproc *rproc)",
          offset: 98,
        },
      ]);
    // The other hunks moved too (offsets up to 268 lines) but stayed in their functions.
    for (const v of ["v13", "v16"]) expect(await moved(v)).toEqual([]);
  });
});
