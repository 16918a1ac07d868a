/**
 * The kernel-C interpreter: load C files (with the parser passed in, as the mapper takes it) into a Program,
 * instantiate it as a Machine over an environment, and run its functions on kernel threads.
 */
import type { Parser } from "web-tree-sitter";
import type { Program } from "./ast.ts";
import { BUILTINS } from "./builtins.ts";
import { type KConfig, Preprocessor } from "./cpp.ts";
import type { Environment } from "./env.ts";
import { Machine, type MachineOptions } from "./interp.ts";
import { Lowerer, type LowerProblem, type SourceFile } from "./lower.ts";
import { PRELUDE, PRELUDE_PATH } from "./prelude.ts";

export type { Program, Site } from "./ast.ts";
export type { KConfig } from "./cpp.ts";
export type { EnvCall, EnvFunction, Environment, Gen, MachineApi, Suspend } from "./env.ts";
export { layered, tableEnvironment } from "./env.ts";
export {
  type InterpEvent,
  Machine,
  roundRobin,
  type Scheduler,
  Thread,
  type ThreadResult,
} from "./interp.ts";
export type { Value } from "./memory.ts";

export interface Loaded {
  readonly program: Program;
  /** File-scope constructs lowering could not read (each names its file and line). */
  readonly problems: readonly LowerProblem[];
}

export interface LoadOptions {
  /** The kernel config `IS_ENABLED()` and `#ifdef CONFIG_…` read (an option not listed is `n`). */
  config?: KConfig;
  /** Leave out the interpreter's prelude of kernel idioms (plain C programs, e.g. the differential test). */
  noPrelude?: boolean;
}

/**
 * Preprocesses and lowers C files, in order (the environment's headers, then headers of the tree, then the
 * .c files), into one program. Macros carry over from file to file as #include would have brought them.
 */
export function loadProgram(parser: Parser, files: readonly SourceFile[], opts: LoadOptions = {}): Loaded {
  const cpp = new Preprocessor(parser, opts.config ?? {});
  const all = opts.noPrelude === true ? files : [{ path: PRELUDE_PATH, text: PRELUDE }, ...files];
  const lower = new Lowerer(opts.noPrelude === true ? [] : [PRELUDE_PATH]);
  for (const f of all) lower.lowerFile(parser, { path: f.path, text: cpp.run(f.path, f.text) });
  return { program: lower.program(), problems: [...cpp.problems, ...lower.problems] };
}

/** A fresh instance of a program (its globals initialised) over an environment. */
export function instantiate(program: Program, env: Environment, opts: MachineOptions = {}): Machine {
  return new Machine(program, env, BUILTINS, opts);
}
