import { mkdir, readdir, realpath, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { type Command, Option } from "commander";
import { UsageError } from "../../errors.ts";
import type { MissingFilePolicy, TreeReport } from "../../tree/types.ts";
import { jsonText, printJson, printText } from "../output.ts";
import { type GivenPath, inputPaths, requirePaths } from "../paths.ts";

/** An output directory must be new or empty, and outside the kernel tree (which is never written). */
async function checkOut(out: string, tree: string | null): Promise<string> {
  const full = resolve(out);
  const entries = await readdir(full).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return [];
    throw new UsageError(`--out ${out}: ${e.code === "ENOTDIR" ? "not a directory" : e.message}`);
  });
  if (entries.length > 0) throw new UsageError(`--out ${out}: the directory is not empty`);
  if (tree !== null) {
    const real = await realpath(tree);
    // The nearest existing directory of the output, resolved (the output itself may not exist yet).
    let probe = full;
    let at = await realpath(probe).catch(() => null);
    while (at === null && dirname(probe) !== probe) {
      probe = dirname(probe);
      at = await realpath(probe).catch(() => null);
    }
    const inside = relative(real, join(at ?? probe, relative(probe, full)));
    if (!inside.startsWith("..") && !inside.startsWith("/"))
      throw new UsageError(`--out ${out}: inside the kernel tree ${tree}, which is never written`);
  }
  return full;
}

async function writeOut(dir: string, report: TreeReport, json: string): Promise<string[]> {
  const { runnableFiles } = await import("../../tree/index.ts");
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const f of runnableFiles(report)) {
    const path = join(dir, f.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.text);
    written.push(f.path);
  }
  await writeFile(join(dir, "tree.json"), json);
  return written;
}

export function register(program: Command): void {
  program
    .command("tree")
    .description(
      "apply a series to the modelled files of a kernel tree (never writing the tree) and say, per file, what the interpreter runs: its text and provenance, the base used, the patches applied and failed",
    )
    .argument("<input>", "mbox, .eml, directory of mails/patches, pr:owner/repo#n or git:<dir>:<a>..<b>")
    .option(
      "--kernel-tree <dir>",
      "kernel sources, a git repository or a plain directory (default: the git: input's repository, $RPROC_REVIEW_KERNEL_TREE, or the current directory when it is one)",
    )
    .addOption(
      new Option(
        "--missing <policy>",
        "a change to a file the tree lacks: left out, or the patch fails (as git am)",
      )
        .choices(["leave-out", "fail"])
        .default("leave-out"),
    )
    .option("--json", "print the report as JSON (file texts included)")
    .option("--out <dir>", "write the files that run from C and tree.json into this new or empty directory")
    .action(
      async (
        input: string,
        opts: { kernelTree?: string; missing: MissingFilePolicy; json?: boolean; out?: string },
      ) => {
        const given: GivenPath[] = await inputPaths([input]);
        if (opts.kernelTree !== undefined)
          given.push({ path: opts.kernelTree, what: "--kernel-tree", kind: "directory" });
        await requirePaths(given);
        const { loadInput } = await import("../../node/inputs.ts");
        const { applySeriesToTree, resolveKernelTree } = await import("../../node/kernel-tree.ts");
        const { treeText } = await import("../../tree/index.ts");
        const series = await loadInput(input);
        const tree = await resolveKernelTree({ option: opts.kernelTree, input });
        const out = opts.out !== undefined ? await checkOut(opts.out, tree?.dir ?? null) : null;
        const report = await applySeriesToTree(series, tree?.dir ?? null, { policy: opts.missing });
        const value = { kernelTree: tree, ...report };
        const written = out !== null ? await writeOut(out, report, jsonText(value)) : [];
        if (opts.json) printJson(value);
        else {
          const from = tree === null ? "" : `kernel tree ${tree.dir} (from ${tree.from})\n`;
          printText(from + treeText(report));
          if (out !== null) printText(`wrote ${written.length} files and tree.json to ${out}\n`);
        }
      },
    );
}
