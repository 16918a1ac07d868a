import type { Environment } from "../../src/interp/env.ts";
import { tableEnvironment } from "../../src/interp/env.ts";
import { instantiate, loadProgram, type Machine } from "../../src/interp/index.ts";
import type { MachineOptions } from "../../src/interp/interp.ts";
import { cParser } from "../../src/node/c-parser.ts";
import type { CellResult } from "../../src/scenarios/result.ts";

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
