/**
 * Which failures a C function handles: the callees whose result it tests (in a condition, directly or through
 * the variable it assigned the result to). The hand model writes the same knowledge per call site as
 * CallOptions.ignores ("this function ignores that callee's failure by design"); for the posted C it is read
 * from the code, so the error-swallowed monitor flags a callee whose failure a C function never looks at,
 * and not an optional lookup it checks and gets past (stm32_rproc_parse_dt's st,syscfg-tz syscon).
 */
import { forEachChild, forEachStmtChild } from "../analysis.ts";
import type { Expr, FunctionDef, Stmt } from "../ast.ts";

type Node = Expr | Stmt;

/** Visits every expression and statement below `s` (and `s`), through the interpreter's own walkers. */
function walkStmt(s: Stmt, visit: (n: Node) => void): void {
  visit(s);
  forEachStmtChild(
    s,
    (e) => walkExpr(e, visit),
    (c) => walkStmt(c, visit),
  );
}

function walkExpr(e: Expr, visit: (n: Node) => void): void {
  visit(e);
  forEachChild(
    e,
    (x) => walkExpr(x, visit),
    (c) => walkStmt(c, visit),
  );
}

/** The function names a call expression (or a cast of one) calls. */
function callee(e: Expr): string | null {
  if (e.k === "cast") return callee(e.e);
  if (e.k === "call" && e.fn.k === "id") return e.fn.name;
  return null;
}

const cache = new WeakMap<FunctionDef, ReadonlySet<string>>();

/** The branch of `if (c)` taken on failure: the else of `!x` and `x == 0`, else the then. */
function failureBranch(n: Stmt & { k: "if" }): Stmt | null {
  const c = n.c;
  const negated =
    (c.k === "unary" && c.op === "!") ||
    (c.k === "binary" && c.op === "==" && (c.r.k === "num" ? c.r.v === 0n : c.l.k === "num" && c.l.v === 0n));
  return negated ? n.no : n.yes;
}

/** The branch hands a failure on: it returns something other than 0, or jumps (to an unwinding label). */
function propagates(s: Stmt | null): boolean {
  if (s === null) return false;
  let found = false;
  walkStmt(s, (n) => {
    if (n.k === "goto") found = true;
    if (n.k === "return" && n.e !== null && !(n.e.k === "num" && n.e.v === 0n)) found = true;
  });
  return found;
}

/**
 * The callees whose failure `def` decides to get past at some test: it tests their result in an if (directly
 * or through the variable it last assigned it to), and the branch taken on failure neither returns an error
 * nor jumps. A callee tested only where the failure branch returns an error stays watched (rproc_tee_start logs a failed
 * invoke and returns -EIO only when the call itself succeeded: its -errno is swallowed).
 */
export function testedCallees(def: FunctionDef): ReadonlySet<string> {
  const known = cache.get(def);
  if (known !== undefined) return known;
  // In source order: a variable stands for the callee of its latest assignment before the test. A test
  // inside the failure branch of a test of the same callee is part of that handling, decided outside.
  const last = new Map<string, string>();
  const ignored = new Set<string>();
  const stmt = (n: Stmt, handling: ReadonlySet<string>): void => {
    if (n.k === "if") {
      const tested = new Set<string>();
      walkExpr(n.c, (x) => {
        if (x.k === "call" && x.fn.k === "id") tested.add(x.fn.name);
        const fn = x.k === "id" ? last.get(x.name) : undefined;
        if (fn !== undefined) tested.add(fn);
      });
      const failure = failureBranch(n);
      if (!propagates(failure)) for (const fn of tested) if (!handling.has(fn)) ignored.add(fn);
      const inner = new Set([...handling, ...tested]);
      expr(n.c, handling);
      stmt(n.yes, failure === n.yes ? inner : handling);
      if (n.no !== null) stmt(n.no, failure === n.no ? inner : handling);
      return;
    }
    if (n.k === "decl")
      for (const d of n.decls) {
        const fn = d.init?.k === "expr" ? callee(d.init.e) : null;
        if (fn !== null) last.set(d.name, fn);
        else last.delete(d.name);
      }
    forEachStmtChild(
      n,
      (e) => expr(e, handling),
      (c) => stmt(c, handling),
    );
  };
  const expr = (n: Expr, handling: ReadonlySet<string>): void => {
    if (n.k === "assign") {
      const fn = callee(n.r);
      if (n.l.k === "id") {
        if (fn !== null) last.set(n.l.name, fn);
        else last.delete(n.l.name);
      }
    }
    forEachChild(
      n,
      (e) => expr(e, handling),
      (c) => stmt(c, handling),
    );
  };
  stmt(def.body, new Set());
  // By callee name, as the hand model's ignores: a callee the function gets past at one test is one whose
  // failure it may survive (stm32_rproc_get_syscon: optional syscons skipped, the hold-boot one returned).
  const out = ignored;
  cache.set(def, out);
  return out;
}
