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
  UnknownError,
} from "./interp.ts";
export type { SourceFile } from "./lower.ts";
export type { IoHooks, Obj, Value } from "./memory.ts";

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
  /**
   * The environment's own headers (src/interp/env/headers.ts): loaded after the prelude and before the files;
   * like the prelude they are not posted code (trace steps name the posted line that used them).
   */
  envHeaders?: readonly SourceFile[];
  /** Macros the build defines on the command line (`-DKBUILD_MODNAME="remoteproc_tee"`). */
  defines?: Readonly<Record<string, string>>;
}

/**
 * Preprocesses and lowers C files, in order (the environment's headers, then headers of the tree, then the
 * .c files), into one program. Macros carry over from file to file as #include would have brought them.
 */
export function loadProgram(parser: Parser, files: readonly SourceFile[], opts: LoadOptions = {}): Loaded {
  const base = environmentLoaded(parser, opts);
  const cpp = base.cpp.clone(parser);
  const lower = base.lower.clone();
  for (const f of files) lower.lowerFile(parser, { path: f.path, text: cpp.run(f.path, f.text) });
  return { program: lower.program(), problems: [...cpp.problems, ...lower.problems] };
}

interface EnvironmentLoaded {
  cpp: Preprocessor;
  lower: Lowerer;
}

/** No environment headers (a key for the cache below). */
const NO_ENV_HEADERS: readonly SourceFile[] = [];
const environments = new WeakMap<readonly SourceFile[], Map<string, EnvironmentLoaded>>();

/**
 * The prelude and the environment's headers preprocessed and lowered, under the load's config and defines:
 * made once per combination and copied by each load (they are the same for every series; a review loads the
 * posted C once per subject, and these were most of a load's time). Keyed by the headers' array, which
 * callers pass as a constant.
 */
function environmentLoaded(parser: Parser, opts: LoadOptions): EnvironmentLoaded {
  const env = opts.envHeaders ?? NO_ENV_HEADERS;
  let byOptions = environments.get(env);
  if (byOptions === undefined) {
    byOptions = new Map();
    environments.set(env, byOptions);
  }
  const key = JSON.stringify([opts.config ?? {}, opts.defines ?? {}, opts.noPrelude === true]);
  let loaded = byOptions.get(key);
  if (loaded === undefined) {
    const cpp = new Preprocessor(parser, opts.config ?? {});
    for (const [name, body] of Object.entries(opts.defines ?? {})) cpp.defineText(name, body);
    const prelude = opts.noPrelude === true ? [] : [{ path: PRELUDE_PATH, text: PRELUDE }];
    const files = [...prelude, ...env].map((f) => ({ path: f.path, text: cpp.run(f.path, f.text) }));
    loaded = { cpp, lower: loweredEnvironment(parser, files) };
    byOptions.set(key, loaded);
  }
  return loaded;
}

/** Lowered environments by their preprocessed files (paths and texts). */
const lowered = new Map<string, Lowerer>();

/**
 * The prelude and the environment's headers lowered from their preprocessed text: lowering reads nothing but
 * that text (the config and defines act through the preprocessor), so the configs under which the headers
 * preprocess to the same text (a stubs load with CONFIG_REMOTEPROC_TEE=n, a driver load with =y and its
 * KBUILD_MODNAME) share one lowering; each load still goes on from its own copy (loadProgram clones it).
 */
function loweredEnvironment(parser: Parser, files: readonly SourceFile[]): Lowerer {
  const key = JSON.stringify(files.map((f) => [f.path, f.text]));
  let lower = lowered.get(key);
  if (lower === undefined) {
    lower = new Lowerer(files.map((f) => f.path));
    for (const f of files) lower.lowerFile(parser, f);
    lowered.set(key, lower);
  }
  return lower;
}

/** A fresh instance of a program (its globals initialised) over an environment. */
export function instantiate(program: Program, env: Environment, opts: MachineOptions = {}): Machine {
  return new Machine(program, env, BUILTINS, opts);
}
