/**
 * What a loaded file needs from its environment, read from the lowered program without running it: each name
 * its functions call (or take the address of, or read as an object) that neither the program defines nor
 * the interpreter's built-ins provide, with the first line using it. A run reaching one of them is an
 * unknown naming it (interp.ts); this says before any run which ones an environment lacks, so a file that
 * cannot run from C says why by name.
 */
import type { Expr, FunctionDef, Program, Stmt } from "./ast.ts";
import type { Builtins } from "./interp.ts";

export interface NeededName {
  readonly name: string;
  /** Called (or taken as a function pointer) or read as an object. */
  readonly as: "function" | "object";
  readonly file: string;
  /** The first line of the file using it. */
  readonly line: number;
  /** The function of the file using it there. */
  readonly in: string;
}

type Node = Expr | Stmt;

function isNode(x: object): x is Node {
  return "k" in x && typeof (x as { k: unknown }).k === "string";
}

/** Visits every expression and statement under `x` with the innermost line seen. */
function each(x: unknown, line: number, visit: (n: Node, line: number) => void): void {
  if (Array.isArray(x)) {
    for (const y of x) each(y, line, visit);
    return;
  }
  if (x === null || typeof x !== "object") return;
  const at = "line" in x && typeof x.line === "number" ? x.line : line;
  if (isNode(x)) visit(x, at);
  for (const v of Object.values(x)) if (v !== null && typeof v === "object") each(v, at, visit);
}

/** Names a function declares (parameters, locals at any depth): they shadow the file's and the environment's. */
function localNames(def: FunctionDef): Set<string> {
  const out = new Set<string>();
  for (const p of def.params) if (p.name !== null) out.add(p.name);
  each(def.body, def.line, (n) => {
    if (n.k === "decl") for (const d of n.decls) out.add(d.name);
  });
  return out;
}

/**
 * The names the functions (and file-scope initialisers) of `file` use that the program does not define and
 * the built-ins do not provide; `provided(name)` says which the environment gives (those are left out).
 */
export function neededNames(
  program: Program,
  file: string,
  builtins: Builtins,
  provided: (name: string) => boolean,
): NeededName[] {
  const globals = new Set(program.globals.map((g) => g.name));
  const defined = (name: string): boolean =>
    Object.hasOwn(program.functions, name) ||
    Object.hasOwn(program.functions, `${file}\u0000${name}`) ||
    program.headerFiles.some((h) => Object.hasOwn(program.functions, `${h}\u0000${name}`)) ||
    globals.has(name) ||
    Object.hasOwn(program.enums, name) ||
    Object.hasOwn(builtins.special, name) ||
    Object.hasOwn(builtins.idioms, name) ||
    Object.hasOwn(builtins.libc, name) ||
    name.startsWith("__guard_enter_") ||
    provided(name);
  const out = new Map<string, NeededName>();
  const note = (name: string, as: NeededName["as"], line: number, fn: string) => {
    if (!out.has(name) && !defined(name)) out.set(name, { name, as, file, line, in: fn });
  };
  // A special form's bare identifier arguments are names, not uses (the member of __container_of_var).
  const names = new WeakSet<object>();
  const scan = (x: unknown, line: number, fn: string, locals: ReadonlySet<string>) =>
    each(x, line, (n, at) => {
      if (n.k === "call" && n.fn.k === "id" && !locals.has(n.fn.name)) {
        if (Object.hasOwn(builtins.special, n.fn.name))
          for (const a of n.args) if (a.k === "id") names.add(a);
        note(n.fn.name, "function", at, fn);
      } else if (n.k === "id" && !locals.has(n.name) && !names.has(n))
        note(n.name, Object.hasOwn(program.prototypes, n.name) ? "function" : "object", at, fn);
    });
  const defs = Object.values(program.functions)
    .filter((d) => d.file === file)
    .sort((a, b) => a.line - b.line);
  for (const def of defs) scan(def.body, def.line, def.name, localNames(def));
  for (const g of program.globals)
    if (g.file === file && g.decl.init !== null) scan(g.decl.init, g.decl.line, g.name, new Set());
  return [...out.values()].sort((a, b) => a.line - b.line);
}
