import { readFileSync } from "node:fs";
import { join } from "node:path";
import { interpretedTreeDrivers, loadTreeDrivers } from "../../src/interp/env/drivers.ts";
import type { Environment } from "../../src/interp/env.ts";
import { tableEnvironment } from "../../src/interp/env.ts";
import { instantiate, loadProgram, type Machine } from "../../src/interp/index.ts";
import type { MachineOptions } from "../../src/interp/interp.ts";
import { cParser } from "../../src/node/c-parser.ts";
import type { CellResult } from "../../src/scenarios/result.ts";
import type { Design } from "../../src/scenarios/run.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";

/** Loads `text` as one C file and returns a machine over `env`; fails on file-scope constructs it could not read. */
export async function machine(
  text: string,
  env: Environment = tableEnvironment({}),
  file = "test.c",
  opts: MachineOptions = {},
): Promise<Machine> {
  const { program, problems } = loadProgram(await cParser(), [{ path: file, text }]);
  if (problems.length > 0)
    throw new Error(`lowering: ${problems.map((p) => `${p.file}:${p.line}: ${p.what}`).join("; ")}`);
  return instantiate(program, env, opts);
}

/** Runs `main` of `text` and returns what it printed; throws when it did not complete. */
export async function run(text: string, env?: Environment): Promise<string> {
  const m = await machine(text, env);
  const r = m.call("main");
  if (r.status !== "done") throw new Error(`main: ${JSON.stringify(r)}`);
  return m.output;
}

/** What the two-way tests compare of a cell: result, final state, TA commands, findings by kind and function. */
export const cellOutcome = (c: CellResult) => ({
  unknown: c.unknown,
  ok: c.ok,
  errno: c.errno,
  state: c.finalState,
  tee: c.tee,
  findings: c.findings.map((f) => `${f.kind} ${f.at}`).sort(),
});

/**
 * Mainline's design with a kernel tree's own drivers (no series) from C: stm32_rproc.c (its text through
 * `edit`, for a test's own change) and remoteproc_elf_loader.c over the hand model's core, or with `core` the
 * tree's remoteproc_core.c and remoteproc_virtio.c too. Fails when any file does not lower.
 */
export async function mainlineFromTree(
  tree: string,
  core: boolean,
  edit: (text: string) => string = (t) => t,
): Promise<Design> {
  const read = (p: string) => ({ path: p, text: readFileSync(join(tree, p), "utf8") });
  const stm32 = read("drivers/remoteproc/stm32_rproc.c");
  const loaded = loadTreeDrivers(await cParser(), {
    headers: [
      "include/linux/remoteproc.h",
      "drivers/remoteproc/remoteproc_internal.h",
      "drivers/remoteproc/remoteproc_elf_helpers.h",
    ].map(read),
    tee: null,
    stm32: { path: stm32.path, text: edit(stm32.text) },
    elf: read("drivers/remoteproc/remoteproc_elf_loader.c"),
    ...(core
      ? {
          core: read("drivers/remoteproc/remoteproc_core.c"),
          virtio: read("drivers/remoteproc/remoteproc_virtio.c"),
        }
      : {}),
  });
  if (loaded.problems.length > 0)
    throw new Error(`lowering: ${loaded.problems.map((p) => `${p.file}:${p.line}: ${p.what}`).join("; ")}`);
  const v = builtinVersion("mainline");
  if (v === undefined) throw new Error("no built-in mainline");
  return { id: "mainline", title: v.title, facts: v.facts, ...interpretedTreeDrivers(loaded) };
}
