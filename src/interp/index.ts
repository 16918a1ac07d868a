/**
 * The kernel-C interpreter: load C files (with the parser passed in, as the mapper takes it) into a Program,
 * instantiate it as a Machine over an environment, and run its functions on kernel threads.
 */
import type { Parser } from "web-tree-sitter";
import type { Program } from "./ast.ts";
import { BUILTINS } from "./builtins.ts";
import type { Environment } from "./env.ts";
import { Machine, type MachineOptions } from "./interp.ts";
import { Lowerer, type LowerProblem, type SourceFile } from "./lower.ts";

export type { Program, Site } from "./ast.ts";
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

/** Lowers C files, in order (headers first), into one program. */
export function loadProgram(parser: Parser, files: readonly SourceFile[]): Loaded {
  const lower = new Lowerer([]);
  for (const f of files) lower.lowerFile(parser, f);
  return { program: lower.program(), problems: lower.problems };
}

/** A fresh instance of a program (its globals initialised) over an environment. */
export function instantiate(program: Program, env: Environment, opts: MachineOptions = {}): Machine {
  return new Machine(program, env, BUILTINS, opts);
}
