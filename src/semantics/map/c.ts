/**
 * Reading whole C functions with tree-sitter: the functions of a file, the calls of a function, and a small
 * abstract interpreter that follows what a function does when tee_client_invoke_func() itself fails.
 */
import type { Node, Tree } from "web-tree-sitter";
import { definedName } from "./cscope.ts";

export interface CFile {
  tree: Tree;
  /** Top-level function definitions by name. */
  functions: Map<string, Node>;
  /** Every other top-level node (declarations, preprocessor lines, macros), in order. */
  others: Node[];
}

export function indexFile(tree: Tree): CFile {
  const functions = new Map<string, Node>();
  const others: Node[] = [];
  const visit = (node: Node): void => {
    for (const child of node.namedChildren) {
      if (child === null) continue;
      if (child.type === "function_definition") {
        const name = definedName(child);
        if (name !== null) functions.set(name, child);
        else others.push(child);
      } else if (
        child.type === "preproc_if" ||
        child.type === "preproc_ifdef" ||
        child.type === "preproc_else"
      ) {
        others.push(child);
        visit(child);
      } else others.push(child);
    }
  };
  visit(tree.rootNode);
  return { tree, functions, others };
}

/** Name of the function a call expression calls, or null for calls through pointers. */
export function calleeName(call: Node): string | null {
  const f = call.childForFieldName("function");
  return f?.type === "identifier" ? f.text : null;
}

/** Call expressions under a node, in source order. */
export function callsIn(node: Node): Node[] {
  return node.descendantsOfType("call_expression").filter((n): n is Node => n !== null);
}

/** 1-based line of a node. */
export function lineOf(node: Node): number {
  return node.startPosition.row + 1;
}

export function bodyOf(fn: Node): Node | null {
  return fn.childForFieldName("body");
}

/** Whether a function (transitively, through functions of the same file) calls `target`. */
export function reaches(file: CFile, name: string, target: string, seen = new Set<string>()): boolean {
  const fn = file.functions.get(name);
  if (fn === undefined || seen.has(name)) return false;
  seen.add(name);
  return callsIn(fn).some((c) => {
    const callee = calleeName(c);
    return callee === target || (callee !== null && reaches(file, callee, target, seen));
  });
}

// ---- abstract interpretation of a failed TEE invoke -------------------------------------------------------

type Abs = "zero" | "neg" | "nonzero" | "null" | "unknown";

interface State {
  env: Map<string, Abs>;
  invoked: boolean;
  /** The variable that received the first invoke's result (what a void function's error path updates). */
  status: string | null;
  /** A test of the TEE context's presence ran before the first invoke. */
  checked: boolean;
}

type Step =
  | { kind: "fall"; state: State }
  | { kind: "return"; value: Abs | "void"; state: State }
  | { kind: "goto"; label: string; state: State }
  | { kind: "opaque"; state: State };

export type InvokeOutcome = "propagate" | "swallow" | "unknown";

export interface InvokeAnalysis {
  /** How a failed invoke (ret < 0), the first TA call on the path, is reported; null when no path invokes. */
  result: InvokeOutcome | null;
  /** Every invoking path tested the context's presence before invoking. */
  checked: boolean;
}

const INVOKE = "tee_client_invoke_func";
const MAX_PATHS = 512;

function clone(s: State): State {
  return { env: new Map(s.env), invoked: s.invoked, status: s.status, checked: s.checked };
}

function truth(v: Abs): boolean | undefined {
  if (v === "zero" || v === "null") return false;
  if (v === "neg" || v === "nonzero") return true;
  return undefined;
}

function fromTruth(t: boolean | undefined): Abs {
  return t === undefined ? "unknown" : t ? "nonzero" : "zero";
}

export class InvokeInterpreter {
  private readonly memo = new Map<string, InvokeAnalysis>();
  private paths = 0;

  constructor(
    private readonly file: CFile,
    /** Condition text that tests the TEE context's presence (e.g. `!rproc_tee_ctx.dev`). */
    private readonly presence: RegExp | null,
    /**
     * Functions whose own presence check is theirs alone: a caller that reaches the TEE through one of them
     * does not inherit it (each public TEE function is judged by its own body and its private helpers).
     */
    private readonly ownChecks: ReadonlySet<string> = new Set(),
  ) {}

  analyse(name: string, stack: string[] = []): InvokeAnalysis {
    const cached = this.memo.get(name);
    if (cached) return cached;
    const fn = this.file.functions.get(name);
    const body = fn ? bodyOf(fn) : null;
    if (fn === undefined || body === null || stack.includes(name)) return { result: null, checked: false };
    const isVoid = /^\s*(?:static\s+)?(?:inline\s+)?void\s+\w/.test(fn.text);
    const isPointer = fn.childForFieldName("declarator")?.type === "pointer_declarator";
    const stmts = body.namedChildren.filter((n): n is Node => n !== null && n.type !== "comment");
    const ends = this.runFunction(stmts, { env: new Map(), invoked: false, status: null, checked: false }, [
      ...stack,
      name,
    ]);
    const invoking = ends.filter((e) => e.state.invoked);
    if (invoking.length === 0) {
      const none = {
        result: ends.some((e) => e.kind === "opaque") ? ("unknown" as const) : null,
        checked: false,
      };
      this.memo.set(name, none);
      return none;
    }
    const kinds = new Set<InvokeOutcome>(
      invoking.map((e) => {
        if (e.kind === "opaque") return "unknown";
        const v =
          e.kind === "return" && e.value !== "void"
            ? e.value
            : isVoid
              ? e.state.status === null
                ? "unknown"
                : (e.state.env.get(e.state.status) ?? "unknown")
              : "unknown";
        if (v === "zero") return "swallow";
        if (v === "neg" || (v === "null" && isPointer)) return "propagate";
        if (v === "nonzero") return "propagate";
        return "unknown";
      }),
    );
    const result: InvokeOutcome = kinds.size === 1 ? ([...kinds][0] as InvokeOutcome) : "unknown";
    const analysis = { result, checked: invoking.every((e) => e.state.checked) };
    this.memo.set(name, analysis);
    return analysis;
  }

  private runFunction(stmts: Node[], start: State, stack: string[]): Step[] {
    const labels = new Map<string, number>();
    stmts.forEach((s, i) => {
      if (s.type === "labeled_statement") {
        const label = s.childForFieldName("label");
        if (label) labels.set(label.text, i);
      }
    });
    const out: Step[] = [];
    const queue: Array<{ at: number; state: State; jumps: number }> = [{ at: 0, state: start, jumps: 0 }];
    while (queue.length > 0) {
      const item = queue.pop();
      if (item === undefined) break;
      if (++this.paths > MAX_PATHS) {
        out.push({ kind: "opaque", state: item.state });
        continue;
      }
      const steps = this.runList(stmts.slice(item.at), item.state, stack);
      for (const step of steps) {
        if (step.kind === "goto") {
          const to = labels.get(step.label);
          if (to === undefined || item.jumps > 16) out.push({ kind: "opaque", state: step.state });
          else queue.push({ at: to, state: step.state, jumps: item.jumps + 1 });
        } else if (step.kind === "fall") out.push({ kind: "return", value: "void", state: step.state });
        else out.push(step);
      }
    }
    return out;
  }

  private runList(stmts: Node[], start: State, stack: string[]): Step[] {
    let live: State[] = [start];
    const done: Step[] = [];
    for (const stmt of stmts) {
      const next: State[] = [];
      for (const state of live) {
        for (const step of this.runStmt(stmt, state, stack)) {
          if (step.kind === "fall") next.push(step.state);
          else done.push(step);
        }
      }
      live = next;
      if (live.length === 0) break;
    }
    return [...done, ...live.map((state): Step => ({ kind: "fall", state }))];
  }

  private runStmt(stmt: Node, state: State, stack: string[]): Step[] {
    switch (stmt.type) {
      case "comment":
        return [{ kind: "fall", state }];
      case "labeled_statement": {
        const inner = stmt.namedChildren.filter(
          (n): n is Node => n !== null && n.type !== "statement_identifier",
        );
        return this.runList(inner, state, stack);
      }
      case "compound_statement":
        return this.runList(
          stmt.namedChildren.filter((n): n is Node => n !== null),
          state,
          stack,
        );
      case "declaration": {
        for (const d of stmt.childrenForFieldName("declarator")) {
          if (d.type !== "init_declarator") continue;
          let id = d.childForFieldName("declarator");
          while (id !== null && id.type !== "identifier") id = id.childForFieldName("declarator");
          const value = d.childForFieldName("value");
          if (id && value) this.assign(id.text, value, state, stack);
        }
        return [{ kind: "fall", state }];
      }
      case "expression_statement": {
        const e = stmt.namedChild(0);
        if (e) this.expr(e, state, stack);
        return [{ kind: "fall", state }];
      }
      case "return_statement": {
        const e = stmt.namedChild(0);
        return [{ kind: "return", value: e ? this.expr(e, state, stack) : "void", state }];
      }
      case "goto_statement":
        return [{ kind: "goto", label: stmt.childForFieldName("label")?.text ?? "", state }];
      case "if_statement": {
        const cond = stmt.childForFieldName("condition");
        const cons = stmt.childForFieldName("consequence");
        const alt = stmt.childForFieldName("alternative");
        if (cond === null || cons === null) return [{ kind: "opaque", state }];
        if (!state.invoked && this.presence?.test(cond.text)) state.checked = true;
        const t = truth(this.expr(cond, state, stack));
        const altBody = alt?.namedChildren.filter((n): n is Node => n !== null) ?? [];
        const yes = (s: State): Step[] => this.runStmt(cons, s, stack);
        const no = (s: State): Step[] =>
          altBody.length > 0 ? this.runList(altBody, s, stack) : [{ kind: "fall", state: s }];
        if (t === true) return yes(state);
        if (t === false) return no(state);
        return [...yes(clone(state)), ...no(clone(state))];
      }
      default:
        // Loops and switches: opaque when they may reach the TEE, else without effect on the result.
        if (callsIn(stmt).some((c) => this.invokes(c, stack))) return [{ kind: "opaque", state }];
        return [{ kind: "fall", state }];
    }
  }

  /** `name = value`: records the value, and `name` as the status variable when it takes the first invoke's result. */
  private assign(name: string, value: Node, state: State, stack: string[]): Abs {
    const before = state.invoked;
    const v = this.expr(value, state, stack);
    state.env.set(name, v);
    if (!before && state.invoked) state.status = name;
    return v;
  }

  private invokes(call: Node, stack: string[]): boolean {
    const name = calleeName(call);
    if (name === null) return false;
    return name === INVOKE || (!stack.includes(name) && reaches(this.file, name, INVOKE));
  }

  private expr(node: Node, state: State, stack: string[]): Abs {
    switch (node.type) {
      case "parenthesized_expression":
      case "cast_expression": {
        const inner = node.type === "cast_expression" ? node.childForFieldName("value") : node.namedChild(0);
        return inner ? this.expr(inner, state, stack) : "unknown";
      }
      case "identifier":
        if (node.text === "NULL") return "null";
        return state.env.get(node.text) ?? (/^[A-Z_0-9]+$/.test(node.text) ? "nonzero" : "unknown");
      case "null":
        return "null";
      case "true":
        return "nonzero";
      case "false":
        return "zero";
      case "number_literal":
        return /^0+[uUlL]*$/.test(node.text) || /^0x0+$/i.test(node.text) ? "zero" : "nonzero";
      case "unary_expression": {
        const op = node.childForFieldName("operator")?.text ?? node.child(0)?.text;
        const arg = node.childForFieldName("argument");
        const v = arg ? this.expr(arg, state, stack) : "unknown";
        if (op === "-") return v === "nonzero" ? "neg" : v === "zero" ? "zero" : "unknown";
        if (op === "!") {
          const t = truth(v);
          return fromTruth(t === undefined ? undefined : !t);
        }
        return "unknown";
      }
      case "binary_expression": {
        const op = node.childForFieldName("operator")?.text ?? "";
        const left = node.childForFieldName("left");
        const right = node.childForFieldName("right");
        if (left === null || right === null) return "unknown";
        if (op === "||" || op === "&&") {
          const l = truth(this.expr(left, state, stack));
          if (op === "||" && l === true) return "nonzero";
          if (op === "&&" && l === false) return "zero";
          const r = truth(this.expr(right, state, stack));
          if (l === undefined)
            return op === "||" && r === true ? "nonzero" : op === "&&" && r === false ? "zero" : "unknown";
          return fromTruth(r);
        }
        const l = this.expr(left, state, stack);
        const r = this.expr(right, state, stack);
        if (r !== "zero" && r !== "null") return "unknown";
        const sign = l === "neg" ? -1 : l === "zero" || l === "null" ? 0 : null;
        if (sign !== null && (op === "<" || op === ">" || op === "<=" || op === ">=")) {
          const holds = op === "<" ? sign < 0 : op === ">" ? sign > 0 : op === "<=" ? sign <= 0 : sign >= 0;
          return holds ? "nonzero" : "zero";
        }
        if (op === "!=") return fromTruth(truth(l));
        if (op === "==") {
          const t = truth(l);
          return fromTruth(t === undefined ? undefined : !t);
        }
        return "unknown";
      }
      case "assignment_expression": {
        const left = node.childForFieldName("left");
        const right = node.childForFieldName("right");
        const op = node.childForFieldName("operator")?.text ?? "=";
        if (left?.type === "identifier" && op === "=" && right)
          return this.assign(left.text, right, state, stack);
        return right ? this.expr(right, state, stack) : "unknown";
      }
      case "call_expression": {
        const name = calleeName(node);
        if (name === INVOKE) {
          state.invoked = true;
          return "neg";
        }
        if (name === "PTR_ERR") return "neg";
        if (name !== null && !state.invoked && this.invokes(node, stack)) {
          const callee = this.analyse(name, stack);
          if (callee.result === null) return "unknown";
          state.invoked = true;
          if (callee.checked && !this.ownChecks.has(name)) state.checked = true;
          const fn = this.file.functions.get(name);
          const pointer = fn?.childForFieldName("declarator")?.type === "pointer_declarator";
          if (callee.result === "propagate") return pointer ? "null" : "neg";
          return callee.result === "swallow" ? "zero" : "unknown";
        }
        return "unknown";
      }
      default:
        return "unknown";
    }
  }
}
