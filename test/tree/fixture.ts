/**
 * A tiny invented "kernel" (not kernel code: a few lines shaped like the remoteproc files) in an upstream
 * git repository, a four-patch series on it written with git format-patch, and trees made from its base:
 *   1 rename ops->load to load_segments in every driver (imx_rproc.c, which the test trees lack, too)
 *   2 create remoteproc_tee.c and include/linux/remoteproc_tee.h, add them to the Makefile
 *   3 add a release_fw op and a member of struct rproc to include/linux/remoteproc.h (two hunks), call it
 *     from the core
 *   4 stm32 uses the TEE driver; remoteproc_tee.c gains a function (a patch to a created file)
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseMbox, type Series } from "../../src/series/index.ts";

const filler = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => `/* ${tag} note ${i + 1} */`).join("\n");

export const BASE_FILES: Record<string, string> = {
  "include/linux/remoteproc.h": `#ifndef FAKE_REMOTEPROC_H
#define FAKE_REMOTEPROC_H
${filler("header", 6)}
struct rproc;

struct rproc_ops {
	int (*start)(struct rproc *rproc);
	int (*stop)(struct rproc *rproc);
	int (*load)(struct rproc *rproc, const void *fw);
};
${filler("between", 12)}
struct rproc {
	const struct rproc_ops *ops;
	int state;
};

int rproc_boot(struct rproc *rproc);
void rproc_shutdown(struct rproc *rproc);
#endif
`,
  "drivers/remoteproc/remoteproc_internal.h": `#ifndef FAKE_INTERNAL_H
#define FAKE_INTERNAL_H
#include <linux/remoteproc.h>

int rproc_fake_helper(struct rproc *rproc);
#endif
`,
  "drivers/remoteproc/remoteproc_core.c": `#include <linux/remoteproc.h>
#include "remoteproc_internal.h"
${filler("core", 4)}
int rproc_boot(struct rproc *rproc)
{
	int ret;

	ret = rproc->ops->load(rproc, 0);
	if (ret)
		return ret;
	return rproc->ops->start(rproc);
}
${filler("middle", 12)}
void rproc_shutdown(struct rproc *rproc)
{
	rproc->ops->stop(rproc);
	rproc->state = 0;
}
`,
  "drivers/remoteproc/remoteproc_elf_loader.c": `#include "remoteproc_internal.h"

int rproc_fake_helper(struct rproc *rproc)
{
	return rproc->state;
}
`,
  "drivers/remoteproc/remoteproc_virtio.c": `#include <linux/virtio.h>

int rproc_fake_virtio(void)
{
	return 0;
}
`,
  "drivers/remoteproc/stm32_rproc.c": `#include <linux/remoteproc.h>
${filler("stm32 top", 3)}
static int stm32_start(struct rproc *rproc)
{
	return 0;
}

static const struct rproc_ops st_ops = {
	.start = stm32_start,
	.load = stm32_load,
};
${filler("stm32 probe", 12)}
static int stm32_probe(void)
{
	return 0;
}
`,
  "drivers/remoteproc/imx_rproc.c": `#include <linux/remoteproc.h>

static const struct rproc_ops imx_ops = {
	.load = imx_load,
};
`,
  "drivers/remoteproc/Makefile": `obj-y += remoteproc_core.o
obj-y += stm32_rproc.o
`,
};

type Edit = (text: string) => string;

function replace(from: string, to: string): Edit {
  return (t) => {
    if (!t.includes(from)) throw new Error(`fixture edit: "${from}" not found`);
    return t.replace(from, to);
  };
}

export const TEE_C = `#include <linux/remoteproc_tee.h>

int rproc_tee_start(int id)
{
	return id;
}
`;

const PATCHES: Array<{ title: string; files: Record<string, Edit | string> }> = [
  {
    title: "remoteproc: Rename load() to load_segments() in every driver",
    files: {
      "include/linux/remoteproc.h": replace("int (*load)(", "int (*load_segments)("),
      "drivers/remoteproc/remoteproc_core.c": replace("ops->load(rproc, 0)", "ops->load_segments(rproc, 0)"),
      "drivers/remoteproc/stm32_rproc.c": replace(".load = stm32_load,", ".load_segments = stm32_load,"),
      "drivers/remoteproc/imx_rproc.c": replace(".load = imx_load,", ".load_segments = imx_load,"),
    },
  },
  {
    title: "remoteproc: Add TEE support",
    files: {
      "drivers/remoteproc/remoteproc_tee.c": TEE_C,
      "include/linux/remoteproc_tee.h": "int rproc_tee_start(int id);\n",
      "drivers/remoteproc/Makefile": (t) => `${t}obj-y += remoteproc_tee.o\n`,
    },
  },
  {
    title: "remoteproc: Introduce release_fw optional operation",
    files: {
      "include/linux/remoteproc.h": (t) =>
        replace(
          "\tint state;\n",
          "\tint state;\n\tbool fw_released;\n",
        )(
          replace(
            "\tint (*load_segments)(struct rproc *rproc, const void *fw);\n",
            "\tint (*load_segments)(struct rproc *rproc, const void *fw);\n\tvoid (*release_fw)(struct rproc *rproc);\n",
          )(t),
        ),
      "drivers/remoteproc/remoteproc_core.c": replace(
        "\trproc->ops->stop(rproc);\n",
        "\trproc->ops->stop(rproc);\n\tif (rproc->ops->release_fw)\n\t\trproc->ops->release_fw(rproc);\n",
      ),
    },
  },
  {
    title: "remoteproc: stm32: Load the firmware through the TEE",
    files: {
      "drivers/remoteproc/stm32_rproc.c": replace(
        "static int stm32_probe(void)\n{\n\treturn 0;",
        "static int stm32_probe(void)\n{\n\treturn rproc_tee_start(1);",
      ),
      "drivers/remoteproc/remoteproc_tee.c": (t) => `${t}\nint rproc_tee_stop(int id)\n{\n\treturn -id;\n}\n`,
    },
  },
];

export const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Fixture Author",
  GIT_AUTHOR_EMAIL: "author@example.org",
  GIT_COMMITTER_NAME: "Fixture Author",
  GIT_COMMITTER_EMAIL: "author@example.org",
  GIT_AUTHOR_DATE: "2024-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2024-01-01T00:00:00Z",
  LC_ALL: "C",
};

export function sh(cwd: string, args: string[], env: NodeJS.ProcessEnv = GIT_ENV): string {
  return execFileSync("git", args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

export interface Fixture {
  root: string;
  upstream: string;
  baseSha: string;
  headSha: string;
  mbox: string;
  series: Series;
  /** A plain directory copy of the base; `edits` change files, `drop` removes them. */
  plainTree(name: string, opts?: { drop?: string[]; edits?: Record<string, Edit> }): string;
  /** Text of a path at upstream's head (after all four patches). */
  upstreamText(path: string): string;
  cleanup(): void;
}

export async function makeFixture(): Promise<Fixture> {
  const root = mkdtempSync(join(tmpdir(), "rproc-tree-test-"));
  const upstream = join(root, "upstream");
  mkdirSync(upstream);
  sh(upstream, ["init", "-q", "-b", "main"]);
  writeTree(upstream, BASE_FILES);
  sh(upstream, ["add", "-A"]);
  sh(upstream, ["commit", "-q", "-m", "base"]);
  const baseSha = sh(upstream, ["rev-parse", "HEAD"]).trim();
  for (const p of PATCHES) {
    for (const [path, edit] of Object.entries(p.files)) {
      const full = join(upstream, path);
      const before = typeof edit === "string" ? "" : readFileSync(full, "utf8");
      writeTree(upstream, { [path]: typeof edit === "string" ? edit : edit(before) });
    }
    sh(upstream, ["add", "-A"]);
    sh(upstream, ["commit", "-q", "-m", p.title, "-m", "Signed-off-by: Fixture Author <author@example.org>"]);
  }
  const headSha = sh(upstream, ["rev-parse", "HEAD"]).trim();
  const text = sh(upstream, [
    "format-patch",
    "--stdout",
    "--cover-letter",
    "--numbered",
    `--base=${baseSha}`,
    "--subject-prefix=PATCH v1",
    `${baseSha}..HEAD`,
  ]);
  const mbox = join(root, "series.mbox");
  writeFileSync(mbox, text);
  const [series] = await parseMbox(new TextEncoder().encode(text), mbox);
  if (series === undefined) throw new Error("fixture: no series parsed");
  return {
    root,
    upstream,
    baseSha,
    headSha,
    mbox,
    series,
    plainTree(name, opts = {}) {
      const dir = join(root, name);
      mkdirSync(dir);
      writeTree(dir, BASE_FILES);
      for (const p of opts.drop ?? []) rmSync(join(dir, p));
      for (const [p, edit] of Object.entries(opts.edits ?? {}))
        writeFileSync(join(dir, p), edit(readFileSync(join(dir, p), "utf8")));
      return dir;
    },
    upstreamText(path) {
      return sh(upstream, ["show", `${headSha}:${path}`]);
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export { cpSync, replace };
