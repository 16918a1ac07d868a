/**
 * What the interpreter decides once per program, not per run: which function a name calls from a file, the
 * names a function declares, and which statements and expressions cannot reach a scheduling point (so they
 * run as plain functions, without a generator per node). Programs are never changed once loaded, so each
 * answer is kept per program (and per builtins and environment where it depends on them).
 */
import type { Expr, FunctionDef, Init, Program, Stmt } from "./ast.ts";
import { DIRECT, PLAIN, slots } from "./slots.ts";

/** The built-ins a call may resolve to (interp.ts's Builtins, by name only). */
export interface BuiltinNames {
  readonly idioms: Readonly<Record<string, unknown>>;
  readonly special: Readonly<Record<string, unknown>>;
  readonly libc: Readonly<Record<string, unknown>>;
}

/** Function lookups by file, then name, per program. */
const programLookups = new WeakMap<Program, Map<string, Map<string, FunctionDef | undefined>>>();

/** The function `name` defined in the program, as seen from `file` (its statics first, then the headers'). */
export function resolveFunction(program: Program, name: string, file: string): FunctionDef | undefined {
  let byFile = programLookups.get(program);
  if (byFile === undefined) {
    byFile = new Map();
    programLookups.set(program, byFile);
  }
  let inFile = byFile.get(file);
  if (inFile === undefined) {
    inFile = new Map();
    byFile.set(file, inFile);
  }
  const known = inFile.get(name);
  if (known !== undefined || inFile.has(name)) return known;
  let found = program.functions[`${file}\u0000${name}`] ?? program.functions[name];
  for (let i = 0; found === undefined && i < program.headerFiles.length; i++)
    found = program.functions[`${program.headerFiles[i]}\u0000${name}`];
  inFile.set(name, found);
  return found;
}

export function forEachInit(i: Init, f: (e: Expr) => void): void {
  if (i.k === "expr") f(i.e);
  else for (const it of i.items) forEachInit(it.init, f);
}

export function forEachChild(e: Expr, f: (e: Expr) => void, g: (s: Stmt) => void): void {
  switch (e.k) {
    case "unary":
    case "deref":
    case "addr":
    case "incdec":
    case "cast":
    case "member":
      f(e.e);
      return;
    case "binary":
    case "logical":
    case "assign":
    case "comma":
      f(e.l);
      f(e.r);
      return;
    case "index":
      f(e.e);
      f(e.i);
      return;
    case "cond":
      f(e.c);
      if (e.t !== null) f(e.t);
      f(e.f);
      return;
    case "call":
      f(e.fn);
      for (const a of e.args) f(a);
      return;
    case "sizeof":
      if (e.e !== null) f(e.e);
      return;
    case "compound":
      forEachInit(e.init, f);
      return;
    case "stmtexpr":
      g(e.body);
      return;
    default:
      return;
  }
}

export function forEachStmtChild(s: Stmt, f: (e: Expr) => void, g: (s: Stmt) => void): void {
  switch (s.k) {
    case "expr":
      f(s.e);
      return;
    case "decl":
      for (const d of s.decls) if (d.init !== null) forEachInit(d.init, f);
      return;
    case "block":
    case "case":
      for (const c of s.body) g(c);
      return;
    case "if":
      f(s.c);
      g(s.yes);
      if (s.no !== null) g(s.no);
      return;
    case "while":
    case "do":
    case "switch":
      f(s.c);
      g(s.body);
      return;
    case "for":
      if (s.init !== null) g(s.init);
      if (s.c !== null) f(s.c);
      if (s.step !== null) f(s.step);
      g(s.body);
      return;
    case "label":
      if (s.body !== null) g(s.body);
      return;
    case "return":
      if (s.e !== null) f(s.e);
      return;
    default:
      return;
  }
}

/** Every name a function declares (its parameters, its locals in any block or statement expression). */
export function declaredNames(fn: FunctionDef): ReadonlySet<string> {
  let names = declaredMemo.get(fn);
  if (names === undefined) {
    const out = new Set<string>();
    for (const p of fn.params) if (p.name !== null) out.add(p.name);
    const expr = (e: Expr): void => forEachChild(e, expr, stmt);
    const stmt = (s: Stmt): void => {
      if (s.k === "decl") for (const d of s.decls) out.add(d.name);
      forEachStmtChild(s, expr, stmt);
    };
    stmt(fn.body);
    names = out;
    declaredMemo.set(fn, names);
  }
  return names;
}

const declaredMemo = new WeakMap<FunctionDef, ReadonlySet<string>>();

/**
 * Special forms whose calls cannot suspend when their arguments cannot: the list iterators' step and walk
 * start (a walk's end runs at its scope's end, which a plain run of the scope does too: Exec.endScopeS), and
 * va_start. The guards (which take a lock) are run by the generators.
 */
const PLAIN_SPECIAL_FORMS: ReadonlySet<string> = new Set(["__container_of_var", "__list_walk", "va_start"]);

/**
 * Which nodes of a program cannot reach a scheduling point, under one table of builtins and one environment's
 * APIs that never suspend (Environment.syncApis). A call cannot suspend when it names, with no variable of
 * that name in scope, an idiom, a plain special form, an API the environment says never suspends, or a
 * function of the program none of whose statements can suspend (a cycle of calls is taken to suspend); a call
 * through a pointer, or of anything else, may. Each answer is decided once per node (nodes are never shared
 * between functions; the prelude's are shared between programs, so the answers are kept per program).
 */
export class Suspension {
  // Per node, in its slots (slots.ts): PLAIN, whether an expression or a statement cannot suspend; DIRECT,
  // whether a statement can run as a plain function (Exec.stmtS: it cannot suspend and has no jump target,
  // switch or cleanup variable).
  /** `direct` of each statement of a block, one array per block (asked once per run of the block). */
  private readonly blocks = new WeakMap<readonly Stmt[], Uint8Array>();
  /** Whether a function's body cannot suspend; false while it is being decided (a cycle suspends). */
  private readonly fns = new WeakMap<FunctionDef, boolean>();
  private readonly globals: ReadonlySet<string>;

  constructor(
    private readonly program: Program,
    private readonly builtins: BuiltinNames,
    private readonly syncApis: ReadonlySet<string>,
  ) {
    this.globals = new Set(program.globals.map((g) => g.name));
  }

  /** Whether evaluating `e` (in function `fn`; null: a static initialiser) cannot suspend. */
  expr(e: Expr, fn: FunctionDef | null): boolean {
    const known = slots(e)[PLAIN];
    if (known !== undefined && known.by === this) return known.v;
    const r = this.exprPlain(e, fn);
    slots(e)[PLAIN] = { by: this, v: r };
    return r;
  }

  /** Whether `s` can run as a plain function: nothing in it can suspend, and it has no jump target, switch, goto or cleanup variable. */
  stmt(s: Stmt, fn: FunctionDef | null): boolean {
    const known = slots(s)[DIRECT];
    if (known !== undefined && known.by === this) return known.v;
    const r = this.stmtDirect(s, fn);
    slots(s)[DIRECT] = { by: this, v: r };
    return r;
  }

  /** `stmt` of each statement of a block. */
  flags(body: readonly Stmt[], fn: FunctionDef | null): Uint8Array {
    let flags = this.blocks.get(body);
    if (flags === undefined) {
      flags = new Uint8Array(body.length);
      for (let i = 0; i < body.length; i++) flags[i] = this.stmt(body[i] as Stmt, fn) ? 1 : 0;
      this.blocks.set(body, flags);
    }
    return flags;
  }

  /** Whether a call of `def` cannot suspend. */
  function(def: FunctionDef): boolean {
    const known = this.fns.get(def);
    if (known !== undefined) return known;
    this.fns.set(def, false);
    const r = this.stmtPlain(def.body, def);
    this.fns.set(def, r);
    return r;
  }

  private init(i: Init, fn: FunctionDef | null): boolean {
    return i.k === "expr" ? this.expr(i.e, fn) : i.items.every((it) => this.init(it.init, fn));
  }

  private exprPlain(e: Expr, fn: FunctionDef | null): boolean {
    switch (e.k) {
      case "num":
      case "str":
      case "id":
      case "sizeof":
      case "alignof":
      case "offsetof":
      case "unsupported":
        return true;
      case "unary":
      case "deref":
      case "addr":
      case "incdec":
      case "cast":
      case "member":
        return this.expr(e.e, fn);
      case "binary":
      case "logical":
      case "assign":
      case "comma":
        return this.expr(e.l, fn) && this.expr(e.r, fn);
      case "index":
        return this.expr(e.e, fn) && this.expr(e.i, fn);
      case "cond":
        return this.expr(e.c, fn) && (e.t === null || this.expr(e.t, fn)) && this.expr(e.f, fn);
      case "compound":
        return this.init(e.init, fn);
      case "stmtexpr":
        return e.body.k === "block" && e.body.body.every((s) => this.stmtPlain(s, fn));
      case "call":
        return this.callPlain(e, fn);
    }
  }

  private callPlain(e: Expr & { k: "call" }, fn: FunctionDef | null): boolean {
    if (fn === null || e.fn.k !== "id") return false;
    const name = e.fn.name;
    // A variable of that name may be what is called (a function pointer).
    if (declaredNames(fn).has(name) || this.globals.has(name)) return false;
    if (!e.args.every((a) => this.expr(a, fn))) return false;
    const b = this.builtins;
    if (Object.hasOwn(b.special, name)) return PLAIN_SPECIAL_FORMS.has(name);
    if (Object.hasOwn(b.idioms, name)) return true;
    const def = resolveFunction(this.program, name, fn.file);
    if (def !== undefined) return this.function(def);
    return this.syncApis.has(name);
  }

  /** Whether nothing in `s` can suspend (jumps and switches allowed: the generators run them, to the end at once). */
  private stmtPlain(s: Stmt, fn: FunctionDef | null): boolean {
    const known = slots(s)[PLAIN];
    if (known !== undefined && known.by === this) return known.v;
    let r = true;
    if (s.k === "decl")
      r = s.decls.every(
        (d) => d.storage !== "auto" || (d.cleanup === null && (d.init === null || this.init(d.init, fn))),
      );
    else
      forEachStmtChild(
        s,
        (e) => {
          r &&= this.expr(e, fn);
        },
        (c) => {
          r &&= this.stmtPlain(c, fn);
        },
      );
    slots(s)[PLAIN] = { by: this, v: r };
    return r;
  }

  private stmtDirect(s: Stmt, fn: FunctionDef | null): boolean {
    if (s.labels !== undefined && s.labels.length > 0) return false;
    switch (s.k) {
      case "expr":
        return this.expr(s.e, fn);
      case "decl":
        return this.stmtPlain(s, fn);
      case "block":
        return s.body.every((c) => this.stmt(c, fn));
      case "if":
        return this.expr(s.c, fn) && this.stmt(s.yes, fn) && (s.no === null || this.stmt(s.no, fn));
      case "while":
      case "do":
        return this.expr(s.c, fn) && this.stmt(s.body, fn);
      case "for":
        return (
          (s.init === null || this.stmt(s.init, fn)) &&
          (s.c === null || this.expr(s.c, fn)) &&
          (s.step === null || this.expr(s.step, fn)) &&
          this.stmt(s.body, fn)
        );
      case "return":
        return s.e === null || this.expr(s.e, fn);
      case "break":
      case "continue":
      case "empty":
      case "unsupported":
        return true;
      case "switch":
      case "case":
      case "label":
      case "goto":
        return false;
    }
  }
}

const NO_APIS: ReadonlySet<string> = new Set();
const suspensions = new WeakMap<Program, WeakMap<BuiltinNames, WeakMap<ReadonlySet<string>, Suspension>>>();

/** The Suspension of a program under builtins and an environment's never-suspending APIs (one per triple). */
export function suspensionOf(
  program: Program,
  builtins: BuiltinNames,
  syncApis: ReadonlySet<string> = NO_APIS,
): Suspension {
  let byBuiltins = suspensions.get(program);
  if (byBuiltins === undefined) {
    byBuiltins = new WeakMap();
    suspensions.set(program, byBuiltins);
  }
  let byApis = byBuiltins.get(builtins);
  if (byApis === undefined) {
    byApis = new WeakMap();
    byBuiltins.set(builtins, byApis);
  }
  let s = byApis.get(syncApis);
  if (s === undefined) {
    s = new Suspension(program, builtins, syncApis);
    byApis.set(syncApis, s);
  }
  return s;
}
