import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { type Fixture, makeFixture } from "./fixture.ts";

let fx: Fixture;
let saved: string | undefined;
beforeAll(async () => {
  fx = await makeFixture();
  saved = process.env.RPROC_REVIEW_KERNEL_TREE;
  delete process.env.RPROC_REVIEW_KERNEL_TREE;
});
afterAll(() => {
  fx?.cleanup();
  if (saved !== undefined) process.env.RPROC_REVIEW_KERNEL_TREE = saved;
});

describe("rproc-review tree", () => {
  it("prints the base, each patch and each file's provenance", async () => {
    const tree = fx.plainTree("cli-text", { drop: ["drivers/remoteproc/imx_rproc.c"] });
    const r = await runCli(["tree", fx.mbox, "--kernel-tree", tree]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`kernel tree ${tree} (from option)`);
    expect(r.out).toContain("patches: 4 of 4 applied");
    expect(r.out).toContain("left out (1): drivers/remoteproc/imx_rproc.c (not in the tree)");
    expect(r.out).toContain("C     drivers/remoteproc/remoteproc_core.c: patched by patches 1, 3");
    expect(r.out).toContain("C     drivers/remoteproc/remoteproc_tee.c: created by patch 2, patched by 4");
  });

  it("--json carries the texts; the environment names the tree", async () => {
    const tree = fx.plainTree("cli-json");
    process.env.RPROC_REVIEW_KERNEL_TREE = tree;
    try {
      const r = await runCli(["tree", fx.mbox, "--json"]);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out) as {
        kernelTree: { dir: string; from: string };
        files: Array<{ path: string; text: string | null }>;
        summary: { applied: number };
      };
      expect(j.kernelTree).toEqual({ dir: tree, from: "env" });
      expect(j.summary.applied).toBe(4);
      expect(j.files.find((f) => f.path === "drivers/remoteproc/remoteproc_tee.c")?.text).toBe(
        fx.upstreamText("drivers/remoteproc/remoteproc_tee.c"),
      );
    } finally {
      delete process.env.RPROC_REVIEW_KERNEL_TREE;
    }
  });

  it("a git: input is its own kernel tree, based on the range's start", async () => {
    const r = await runCli(["tree", `git:${fx.upstream}:${fx.baseSha}..${fx.headSha}`, "--json"]);
    expect(r.err).toBe("");
    const j = JSON.parse(r.out) as { kernelTree: { from: string }; base: { kind: string; commit: string } };
    expect(j.kernelTree.from).toBe("git-input");
    expect(j.base).toMatchObject({ kind: "commit", commit: fx.baseSha });
  });

  it("without a tree, the created files only", async () => {
    const r = await runCli(["tree", fx.mbox]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("no kernel tree: none was given");
    expect(r.out).toContain("model drivers/remoteproc/remoteproc_core.c: fallback (no-tree)");
    expect(r.out).toContain("C     include/linux/remoteproc_tee.h: created by patch 2");
  });

  it("--out writes the files that run from C and tree.json, into a new or empty directory outside the tree", async () => {
    const tree = fx.plainTree("cli-out");
    const out = join(fx.root, "out");
    const r = await runCli(["tree", fx.mbox, "--kernel-tree", tree, "--out", out]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`wrote 8 files and tree.json to ${out}`);
    expect(readFileSync(join(out, "drivers/remoteproc/stm32_rproc.c"), "utf8")).toBe(
      fx.upstreamText("drivers/remoteproc/stm32_rproc.c"),
    );
    expect(JSON.parse(readFileSync(join(out, "tree.json"), "utf8")).series).toBe("v1");

    const again = await runCli(["tree", fx.mbox, "--kernel-tree", tree, "--out", out]);
    expect(again.code).toBe(2);
    expect(again.err).toContain("the directory is not empty");
    const inside = await runCli(["tree", fx.mbox, "--kernel-tree", tree, "--out", join(tree, "new", "dir")]);
    expect(inside.code).toBe(2);
    expect(inside.err).toContain("inside the kernel tree");
    expect(existsSync(join(tree, "new"))).toBe(false);
  });

  it("a kernel tree that is not one, or absent, is bad input (exit 3); a bad --missing is usage (exit 2)", async () => {
    const notTree = join(fx.root, "not-a-tree");
    mkdirSync(notTree);
    writeFileSync(join(notTree, "README"), "hello\n");
    const a = await runCli(["tree", fx.mbox, "--kernel-tree", notTree]);
    expect(a.code).toBe(3);
    expect(a.err).toContain("not a kernel tree (--kernel-tree)");
    const b = await runCli(["tree", fx.mbox, "--kernel-tree", join(fx.root, "absent")]);
    expect(b.code).toBe(3);
    expect(b.err).toContain("no such directory (--kernel-tree)");
    const c = await runCli(["tree", fx.mbox, "--missing", "sometimes"]);
    expect(c.code).toBe(2);
  });
});
