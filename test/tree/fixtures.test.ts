import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applySeriesToTree, resolveKernelTree } from "../../src/node/kernel-tree.ts";
import type { Series } from "../../src/series/index.ts";
import {
  applyWithoutTree,
  loadOrder,
  ranFrom,
  runnableFiles,
  type TreeReport,
} from "../../src/tree/index.ts";
import { BASE_FILES, type Fixture, makeFixture, replace, sh, writeTree } from "./fixture.ts";

const CORE = "drivers/remoteproc/remoteproc_core.c";
const STM32 = "drivers/remoteproc/stm32_rproc.c";
const HDR = "include/linux/remoteproc.h";
const INTERNAL = "drivers/remoteproc/remoteproc_internal.h";
const ELF = "drivers/remoteproc/remoteproc_elf_loader.c";
const VIRTIO = "drivers/remoteproc/remoteproc_virtio.c";
const TEE_C = "drivers/remoteproc/remoteproc_tee.c";
const TEE_H = "include/linux/remoteproc_tee.h";
const IMX = "drivers/remoteproc/imx_rproc.c";

let fx: Fixture;
beforeAll(async () => {
  fx = await makeFixture();
});
afterAll(() => fx?.cleanup());

function file(r: TreeReport, path: string) {
  const f = r.files.find((x) => x.path === path);
  if (f === undefined) throw new Error(`no ${path} in the report`);
  return f;
}

function statuses(r: TreeReport): string[] {
  return r.patches.map((p) => `${p.index}:${p.status}`);
}

describe("a plain directory of sources", () => {
  it("applies every patch, leaving out the file the tree lacks, and says where each text came from", async () => {
    const tree = fx.plainTree("plain-ok", { drop: [IMX] });
    const r = await applySeriesToTree(fx.series, tree);
    expect(r.base).toMatchObject({ kind: "worktree", git: false });
    expect(r.base.kind === "worktree" && r.base.reason).toContain(`base-commit ${fx.baseSha.slice(0, 12)}`);
    expect(statuses(r)).toEqual(["1:applied", "2:applied", "3:applied", "4:applied"]);
    expect(r.patches[0]?.leftOut).toEqual([{ path: IMX, why: "not in the tree" }]);
    expect(r.summary).toEqual({ applied: 4, failed: 0, nothingToApply: 0, total: 4 });
    expect(file(r, CORE).provenance).toEqual({ kind: "patched", patches: [1, 3] });
    expect(file(r, STM32).provenance).toEqual({ kind: "patched", patches: [1, 4] });
    expect(file(r, HDR).provenance).toEqual({ kind: "patched", patches: [1, 3] });
    expect(file(r, INTERNAL).provenance).toEqual({ kind: "base" });
    expect(file(r, TEE_C).provenance).toEqual({ kind: "created", patch: 2, patches: [2, 4] });
    expect(file(r, TEE_H).provenance).toEqual({ kind: "created", patch: 2, patches: [2] });
    expect(file(r, "drivers/remoteproc/remoteproc_elf_helpers.h").provenance).toMatchObject({
      kind: "fallback",
      cause: "not-in-tree",
    });
    // The texts are upstream's after the series (the tree was the base).
    for (const p of [CORE, STM32, HDR, TEE_C, TEE_H]) expect(file(r, p).text).toBe(fx.upstreamText(p));
    expect(file(r, ELF).text).toBe(BASE_FILES[ELF]);
    // The tree itself is not written.
    expect(readFileSync(join(tree, CORE), "utf8")).toBe(BASE_FILES[CORE]);
    expect(ranFrom(r, CORE)).toBe("C");
    expect(ranFrom(r, "drivers/remoteproc/remoteproc_elf_helpers.h")).toBe("model");
    // Headers in the order the sources include them (remoteproc_internal.h relies on <linux/remoteproc.h>).
    expect(loadOrder(r).map((f) => f.path)).toEqual([HDR, INTERNAL, TEE_H, CORE, ELF, VIRTIO, STM32, TEE_C]);
  });

  it("names a patch that does not apply with git's reason; its files fall back, the rest still runs", async () => {
    const tree = fx.plainTree("plain-stm32", {
      drop: [IMX],
      edits: { [STM32]: replace("static int stm32_probe(void)\n", "static int __init stm32_probe(void)\n") },
    });
    const r = await applySeriesToTree(fx.series, tree);
    expect(statuses(r)).toEqual(["1:applied", "2:applied", "3:applied", "4:failed"]);
    const p4 = r.patches[3];
    expect(p4?.title).toBe("remoteproc: stm32: Load the firmware through the TEE");
    expect(p4?.reason).toContain(`${STM32}: patch does not apply`);
    expect(p4?.files.sort()).toEqual([TEE_C, STM32].sort());
    expect(file(r, STM32).provenance).toMatchObject({
      kind: "fallback",
      cause: "patch-failed",
      patches: [4],
    });
    expect(file(r, STM32).text).toBeNull();
    // remoteproc_tee.c is one of patch 4's files: it falls back too, though patch 2 created it.
    expect(file(r, TEE_C).provenance).toMatchObject({ kind: "fallback", cause: "patch-failed" });
    expect(file(r, CORE).provenance).toEqual({ kind: "patched", patches: [1, 3] });
    expect(file(r, TEE_H).provenance).toEqual({ kind: "created", patch: 2, patches: [2] });
    expect(runnableFiles(r).map((f) => f.path)).not.toContain(STM32);
  });

  it("a failed header patch makes every file that includes the header fall back, also through another header", async () => {
    const tree = fx.plainTree("plain-header", {
      drop: [IMX],
      edits: {
        [HDR]: replace("\tconst struct rproc_ops *ops;\n", "\tconst struct rproc_ops *ops;\n\tvoid *priv;\n"),
      },
    });
    const r = await applySeriesToTree(fx.series, tree);
    expect(statuses(r)).toEqual(["1:applied", "2:applied", "3:failed", "4:applied"]);
    expect(r.patches[2]?.reason).toContain(`${HDR}: patch does not apply`);
    expect(file(r, HDR).provenance).toMatchObject({ kind: "fallback", cause: "patch-failed", patches: [3] });
    expect(file(r, CORE).provenance).toMatchObject({ kind: "fallback", cause: "patch-failed", patches: [3] });
    expect(file(r, STM32).provenance).toMatchObject({
      kind: "fallback",
      cause: "header-failed",
      patches: [3],
    });
    expect(file(r, INTERNAL).provenance).toMatchObject({ kind: "fallback", cause: "header-failed" });
    const elf = file(r, ELF).provenance;
    expect(elf).toMatchObject({ kind: "fallback", cause: "header-failed" });
    expect(elf.kind === "fallback" && elf.reason).toContain(`through ${INTERNAL}`);
    // Files that do not include it keep running from C.
    expect(file(r, VIRTIO).provenance).toEqual({ kind: "base" });
    expect(file(r, TEE_C).provenance).toEqual({ kind: "created", patch: 2, patches: [2, 4] });
  });

  it("with --missing fail a change to a file the tree lacks fails the patch, as git am does", async () => {
    const tree = fx.plainTree("plain-strict", { drop: [IMX] });
    const r = await applySeriesToTree(fx.series, tree, { policy: "fail" });
    expect(r.policy).toBe("fail");
    // Patch 3's header hunk has patch 1's line as context: it fails too.
    expect(statuses(r)).toEqual(["1:failed", "2:applied", "3:failed", "4:applied"]);
    expect(r.patches[0]?.reason).toContain(`not in the tree: ${IMX}`);
  });
});

describe("a git tree", () => {
  async function indexHash(repo: string): Promise<string> {
    return createHash("sha256")
      .update(readFileSync(join(repo, ".git", "index")))
      .digest("hex");
  }

  it("with the series' base-commit: blobs of the base, never the user's work tree, index or objects", async () => {
    const user = join(fx.root, "user-with-base");
    sh(fx.root, ["clone", "-q", fx.upstream, user]);
    sh(user, ["checkout", "-q", "-b", "work", fx.baseSha]);
    // A later commit that patch 3 would not apply to, an uncommitted edit and a staged one.
    writeTree(user, {
      [HDR]: replace(
        "\tconst struct rproc_ops *ops;\n",
        "\tconst struct rproc_ops *ops;\n\tvoid *priv;\n",
      )(BASE_FILES[HDR] as string),
    });
    sh(user, ["commit", "-q", "-am", "local change"]);
    writeFileSync(join(user, CORE), `${BASE_FILES[CORE]}/* uncommitted */\n`);
    writeFileSync(join(user, VIRTIO), `${BASE_FILES[VIRTIO]}/* staged */\n`);
    sh(user, ["add", VIRTIO]);
    const before = {
      status: sh(user, ["status", "--porcelain=v1"]),
      head: sh(user, ["rev-parse", "HEAD"]),
      index: await indexHash(user),
      objects: sh(user, ["count-objects", "-v"]),
    };

    const r = await applySeriesToTree(fx.series, user);
    expect(r.base).toEqual({ kind: "commit", tree: user, commit: fx.baseSha, named: fx.baseSha });
    expect(statuses(r)).toEqual(["1:applied", "2:applied", "3:applied", "4:applied"]);
    // imx_rproc.c is in this tree: nothing is left out.
    expect(r.patches[0]?.leftOut).toEqual([]);
    expect(r.patches[0]?.applied.map((a) => a.method)).toEqual([
      "three-way",
      "three-way",
      "three-way",
      "three-way",
    ]);
    for (const p of [CORE, STM32, HDR, TEE_C]) expect(file(r, p).text).toBe(fx.upstreamText(p));
    expect(file(r, VIRTIO).text).toBe(BASE_FILES[VIRTIO]);

    expect(sh(user, ["status", "--porcelain=v1"])).toBe(before.status);
    expect(sh(user, ["rev-parse", "HEAD"])).toBe(before.head);
    expect(await indexHash(user)).toBe(before.index);
    expect(sh(user, ["count-objects", "-v"])).toBe(before.objects);
    expect(readFileSync(join(user, CORE), "utf8")).toContain("/* uncommitted */");
  });

  it("without the base-commit: the tree as it is, and three-way merging from the blobs its history has", async () => {
    const user = join(fx.root, "user-without-base");
    mkdirSync(user);
    const env = { GIT_AUTHOR_DATE: "2025-05-05T00:00:00Z", GIT_COMMITTER_DATE: "2025-05-05T00:00:00Z" };
    const git = (args: string[]) => sh(user, args, { ...process.env, ...gitEnv(), ...env });
    git(["init", "-q", "-b", "main"]);
    writeTree(user, BASE_FILES);
    git(["add", "-A"]);
    git(["commit", "-q", "-m", "import"]);
    // A context line of patch 1's stm32 hunk changes: direct application fails, a three-way merge does not.
    const renamed = replace(
      "static const struct rproc_ops st_ops = {",
      "static const struct rproc_ops st_rproc_ops = {",
    )(BASE_FILES[STM32] as string);
    writeTree(user, { [STM32]: renamed });
    git(["commit", "-q", "-am", "rename the ops table"]);
    const head = git(["rev-parse", "HEAD"]).trim();
    expect(head).not.toBe(fx.baseSha);

    const r = await applySeriesToTree(fx.series, user);
    expect(r.base).toMatchObject({ kind: "worktree", git: true, head });
    expect(r.base.kind === "worktree" && r.base.reason).toBe(
      `the series' base-commit ${fx.baseSha.slice(0, 12)} is not in this repository`,
    );
    expect(statuses(r)).toEqual(["1:applied", "2:applied", "3:applied", "4:applied"]);
    expect(r.patches[0]?.applied.find((a) => a.path === STM32)?.method).toBe("three-way");
    const stm32 = file(r, STM32).text ?? "";
    expect(stm32).toContain("st_rproc_ops = {");
    expect(stm32).toContain(".load_segments = stm32_load,");
    expect(stm32).toContain("return rproc_tee_start(1);");

    // The same files as a plain directory: no history, no three-way merge, patch 1 fails.
    const plain = fx.plainTree("plain-renamed", { edits: { [STM32]: () => renamed } });
    const p = await applySeriesToTree(fx.series, plain);
    expect(p.patches[0]?.status).toBe("failed");
    expect(p.patches[0]?.reason).toContain(`${STM32}: patch does not apply`);
  });
});

function gitEnv(): NodeJS.ProcessEnv {
  return {
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: "Someone Else",
    GIT_AUTHOR_EMAIL: "else@example.org",
    GIT_COMMITTER_NAME: "Someone Else",
    GIT_COMMITTER_EMAIL: "else@example.org",
  };
}

describe("without a kernel tree", () => {
  it("the files the series creates exist, with the later patches to them; the tree's files fall back", () => {
    const r = applyWithoutTree(fx.series);
    expect(r.base.kind).toBe("none");
    expect(statuses(r)).toEqual(["1:nothing-to-apply", "2:applied", "3:nothing-to-apply", "4:applied"]);
    expect(file(r, TEE_C).text).toBe(fx.upstreamText(TEE_C));
    expect(file(r, TEE_C).provenance).toEqual({ kind: "created", patch: 2, patches: [2, 4] });
    expect(file(r, TEE_H).text).toBe(fx.upstreamText(TEE_H));
    expect(file(r, CORE).provenance).toMatchObject({ kind: "fallback", cause: "no-tree" });
    expect(r.patches[3]?.leftOut).toEqual([{ path: STM32, why: "no kernel tree" }]);
    expect(runnableFiles(r).map((f) => f.path)).toEqual([TEE_C, TEE_H]);
  });

  it("gives the created files the same text as git applying the series to a tree", async () => {
    const git = await applySeriesToTree(fx.series, fx.plainTree("plain-same", { drop: [IMX] }));
    const alone = await applySeriesToTree(fx.series, null);
    for (const p of [TEE_C, TEE_H]) expect(file(alone, p).text).toBe(file(git, p).text);
  });
});

describe("an incomplete series", () => {
  it("falls back everywhere, naming the missing patch", async () => {
    const partial: Series = {
      ...fx.series,
      patches: fx.series.patches.filter((p) => p.index !== 3),
      missing: [3],
    };
    const r = await applySeriesToTree(partial, fx.plainTree("plain-partial", { drop: [IMX] }));
    expect(r.missingPatches).toEqual([3]);
    expect(runnableFiles(r)).toEqual([]);
    expect(file(r, CORE).provenance).toMatchObject({
      kind: "fallback",
      cause: "series-incomplete",
      patches: [3],
    });
  });
});

describe("bad input", () => {
  it("refuses a patch naming a path outside the tree", async () => {
    const first = fx.series.patches[0] as Series["patches"][number];
    const evil: Series = {
      ...fx.series,
      patches: [
        {
          ...first,
          files: [
            {
              ...(first.files[0] as (typeof first.files)[number]),
              oldPath: "../outside.c",
              newPath: "../outside.c",
              path: "../outside.c",
            },
          ],
        },
      ],
    };
    await expect(applySeriesToTree(evil, fx.plainTree("plain-evil"))).rejects.toThrow(
      /refusing the path "..\/outside.c"/,
    );
  });
});

describe("which tree", () => {
  it("--kernel-tree, then the environment, then the current directory when it is one", async () => {
    const a = fx.plainTree("choice-a");
    const b = fx.plainTree("choice-b");
    const env = { RPROC_REVIEW_KERNEL_TREE: b };
    expect(await resolveKernelTree({ option: a, env, cwd: fx.root })).toEqual({ dir: a, from: "option" });
    expect(await resolveKernelTree({ env, cwd: a })).toEqual({ dir: b, from: "env" });
    expect(await resolveKernelTree({ env: {}, cwd: a })).toEqual({ dir: a, from: "cwd" });
    expect(await resolveKernelTree({ env: {}, cwd: fx.root })).toBeNull();
    // A subdirectory of a kernel git tree: its top.
    expect(await resolveKernelTree({ env: {}, cwd: join(fx.upstream, "drivers") })).toEqual({
      dir: fx.upstream,
      from: "cwd",
    });
    expect(await resolveKernelTree({ input: `git:${fx.upstream}:a..b`, env, cwd: fx.root })).toEqual({
      dir: fx.upstream,
      from: "git-input",
    });
  });

  it("a directory named explicitly that is missing or not a kernel tree is an error", async () => {
    await expect(resolveKernelTree({ option: join(fx.root, "nope"), env: {} })).rejects.toThrow(
      /no such directory/,
    );
    await expect(resolveKernelTree({ env: { RPROC_REVIEW_KERNEL_TREE: fx.root } })).rejects.toThrow(
      /not a kernel tree/,
    );
  });
});
