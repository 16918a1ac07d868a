import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import type { Command } from "commander";
import { InputError, isUserError, UsageError } from "../../errors.ts";
import { REVIEW_INTERLEAVE_DEPTH } from "../../review/depth.ts";
import type { Design } from "../../scenarios/run.ts";
import { BUILTIN_VERSIONS, builtinVersion } from "../../semantics/versions.ts";
import { shellWord } from "../../shell.ts";
import { printJson, printText } from "../output.ts";
import { inputPaths, looksLikePath, requirePaths } from "../paths.ts";
import { interleaveDepthOf, KERNEL_TREE_HELP } from "./diff.ts";

export interface MatrixOptions {
  versions?: string;
  /** The option named in errors about `versions` (default "--versions"; replay's is "--version"). */
  versionsOption?: string;
  scenarios?: string;
  json?: boolean;
  /** --variant files (repeatable): designs nobody has posted, appended after the built-in ones. */
  variant?: string[];
  /** --model-only: the hand model runs inputs too, not the C they post (also $RPROC_REVIEW_MODEL_ONLY). */
  modelOnly?: boolean;
  /** --kernel-tree: the kernel tree whose STM32 driver runs from C with an input series applied. */
  kernelTree?: string;
  /** --interleave: the interleaving scenarios as rows too (searched to --interleave-depth). */
  interleave?: boolean;
  interleaveDepth?: string;
}

const list = (s: string | undefined): string[] | undefined =>
  s === undefined
    ? undefined
    : s
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x.length > 0);

/**
 * Resolves the designs to run, in order: --versions (built-in ids and inputs; default: all built-in versions),
 * then the --variant files.
 */
export async function resolveDesigns(opts: MatrixOptions): Promise<Design[]> {
  return (await resolveNamedDesigns(opts)).map((x) => x.design);
}

/** A design with the command-line arguments that name it again (`--version <spec>` or `--variant <file>`). */
export interface NamedDesign {
  design: Design;
  /** Shell-quoted arguments; built-in versions: `--version <id>`. */
  args: string;
  builtin: boolean;
}

/** resolveDesigns, keeping how each design was named (explore prints replay commands with it). */
export async function resolveNamedDesigns(opts: MatrixOptions): Promise<NamedDesign[]> {
  // Every missing path at once: the inputs among the versions (a spec that is neither a built-in id nor meant
  // as a path is a usage error, below) and the variant files.
  const versions = (list(opts.versions) ?? []).filter((s) => s.startsWith("git:") || looksLikePath(s));
  await requirePaths([
    ...(await inputPaths(versions, opts.versionsOption ?? "--versions")),
    ...(opts.variant ?? []).map((path) => ({ path, what: "--variant", kind: "file" as const })),
  ]);
  return [...(await versionDesigns(opts)), ...(await variantDesigns(opts.variant ?? []))];
}

/** An input as the ingest commands take it: pr:owner/repo#n, git:<dir>:<a>..<b>, or an existing path. */
async function isInput(spec: string): Promise<boolean> {
  const { splitSelection } = await import("../../node/inputs.ts");
  const { input } = await splitSelection(spec);
  return (
    input.startsWith("pr:") || input.startsWith("git:") || (await stat(input).catch(() => null)) !== null
  );
}

async function versionDesigns(opts: MatrixOptions): Promise<NamedDesign[]> {
  const specs = list(opts.versions);
  const { builtinTeeStubs, resolveVersion } = await import("../../node/versions.ts");
  if (specs === undefined) {
    const out: NamedDesign[] = [];
    for (const v of BUILTIN_VERSIONS)
      out.push({
        // The hand model, with the stubs of the remoteproc_tee.h its mails post for the config scenarios.
        design: { id: v.id, title: v.title, facts: v.facts, teeStubs: await builtinTeeStubs(v.id) },
        args: `--version ${v.id}`,
        builtin: true,
      });
    return out;
  }
  const designs: NamedDesign[] = [];
  for (const spec of specs) {
    if (builtinVersion(spec) === undefined && !(await isInput(spec))) {
      throw new UsageError(
        `unknown version "${spec}": neither a built-in id (${BUILTIN_VERSIONS.map((x) => x.id).join(", ")}) nor an input (a path, pr:owner/repo#n, git:<dir>:<a>..<b>)`,
        { subject: opts.versionsOption ?? "--versions" },
      );
    }
    const { design } = await resolveVersion(
      spec,
      undefined,
      {},
      {
        ...(opts.modelOnly === true ? { modelOnly: true } : {}),
        ...(opts.kernelTree !== undefined ? { kernelTree: opts.kernelTree } : {}),
      },
    );
    if (designs.some((d) => d.design.id === design.id)) design.id = `${design.id} (${spec})`;
    designs.push({
      design,
      args: `--version ${shellWord(spec)}`,
      builtin: builtinVersion(spec) !== undefined,
    });
  }
  return designs;
}

// --variant: each file is {"base": "<id>", "title"?: "...", "set": {"<fact path>": value}} (src/semantics/variant.ts);
// its design id is the file name without ".json".
async function variantDesigns(files: readonly string[]): Promise<NamedDesign[]> {
  const { parseVariant } = await import("../../semantics/variant.ts");
  const designs: NamedDesign[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      throw new InputError(`cannot read the variant file: ${e instanceof Error ? e.message : String(e)}`, {
        subject: file,
        cause: e,
      });
    }
    const id = basename(file).replace(/\.json$/i, "");
    if (designs.some((d) => d.design.id === id))
      throw new UsageError(`two variants named "${id}"`, { subject: file });
    let design: Design;
    try {
      design = parseVariant(text, id, file);
    } catch (e) {
      // The library calls a variant that does not parse a usage error; on the command line it is a file's
      // content, so bad input (exit 3), with the same message.
      if (!isUserError(e)) throw e;
      throw new InputError(e.message, { subject: e.subject ?? file, cause: e });
    }
    designs.push({
      design,
      args: `--variant ${shellWord(file)}`,
      builtin: false,
    });
  }
  return designs;
}

async function resolveScenarios(opts: MatrixOptions): Promise<string[] | undefined> {
  const { SCENARIOS } = await import("../../scenarios/scenarios.ts");
  const ids = list(opts.scenarios);
  for (const id of ids ?? []) {
    if (!SCENARIOS.some((s) => s.id === id)) {
      throw new UsageError(`unknown scenario "${id}" (known: ${SCENARIOS.map((s) => s.id).join(", ")})`, {
        subject: "--scenarios",
      });
    }
  }
  return ids;
}

export async function matrixAction(opts: MatrixOptions): Promise<void> {
  const designs = await resolveDesigns(opts);
  const scenarios = await resolveScenarios(opts);
  const { runMatrix } = await import("../../scenarios/run.ts");
  const { renderMatrixText } = await import("../../scenarios/render.ts");
  // Parsed before any work: a bad depth is a usage error, not a matrix without its rows.
  const interleaveDepth =
    opts.interleave === true || opts.interleaveDepth !== undefined
      ? interleaveDepthOf(opts.interleaveDepth)
      : 0;
  const result = await runMatrix(designs, scenarios);
  if (interleaveDepth === 0) {
    if (opts.json) printJson(result);
    else printText(`${renderMatrixText(result)}\n`);
    return;
  }
  const { runInterleaveRows } = await import("../../explore/kernel-interleave.ts");
  const { loadFixtures } = await import("../../emulator/api.ts");
  const { renderInterleaveRowsText } = await import("../../scenarios/render.ts");
  const rows = await runInterleaveRows(designs, interleaveDepth, await loadFixtures());
  if (opts.json) printJson({ ...result, interleave: rows });
  else
    printText(
      `${renderMatrixText(result)}\n\n${renderInterleaveRowsText(
        rows,
        designs.map((d) => d.id),
      )}\n`,
    );
}

export function register(program: Command): void {
  program
    .command("matrix")
    .description("run every scenario on every version and print versions x scenarios with findings (exit 0)")
    .option(
      "--versions <ids>",
      `comma-separated versions: built-in ids (${BUILTIN_VERSIONS.map((v) => v.id).join(", ")}) or inputs (mbox, .eml, directory, pr:owner/repo#n, git:<dir>:<a>..<b>)`,
    )
    .option("--scenarios <ids>", "comma-separated scenario ids (default: all)")
    .option("--json", "print the matrix as JSON")
    .option(
      "--model-only",
      "run inputs with the hand model too, not the TEE client driver they post in C (also RPROC_REVIEW_MODEL_ONLY=1)",
    )
    .option("--kernel-tree <dir>", KERNEL_TREE_HELP)
    .option(
      "--interleave",
      `also the interleaving scenarios as rows (auto-boot-at-probe, unbind-racing-start, recovery-racing-stop), each cell every schedule to --interleave-depth (default ${REVIEW_INTERLEAVE_DEPTH}) with the design's C: ok, the finding kinds, or ? with why. Not by default: a design's search costs tens to hundreds of milliseconds, the whole matrix's budget is 50 ms`,
    )
    .option(
      "--interleave-depth <n>",
      `with --interleave (implies it): the scheduling choices each design's search explores, 0 to 8 (default ${REVIEW_INTERLEAVE_DEPTH})`,
    )
    .option(
      "--variant <file.json>",
      'a design nobody has posted: {"base":"<id>","set":{"<fact>":value}} (repeatable)',
      (file: string, prev: string[] = []) => [...prev, file],
    )
    .action(matrixAction);
}
