/**
 * The C preprocessor, as the interpreter needs it before tree-sitter reads a file: conditional inclusion
 * (#if/#ifdef/#ifndef/#elif/#else/#endif with `defined`, IS_ENABLED and friends over a kernel config),
 * object-like and function-like macros (variadic, # and ##, rescanning with hide sets as C11 6.10.3 says),
 * __COUNTER__/__LINE__/__FILE__. It keeps every line where it was: directives and skipped regions become
 * empty lines, and a macro call spanning lines expands on its first line followed by the lines it took, so
 * traces and findings name the line of the posted file. #include is not followed: the caller gives the
 * headers (the environment's own, then the files of the tree) in order, and their macros carry over.
 */
import type { Parser } from "web-tree-sitter";
import { LowerError, Lowerer } from "./lower.ts";

/** A kernel config: `y` (built in), `m` (module), `n`; an option not listed is `n`. */
export type KConfig = Readonly<Record<string, "y" | "m" | "n">>;

interface Tok {
  readonly kind: "id" | "num" | "str" | "punct" | "ws" | "nl" | "other";
  readonly text: string;
  /** Macros whose expansion produced this token (they are not expanded again in it). */
  readonly hide?: ReadonlySet<string>;
  /** A name that must not be expanded (painted blue, C11 6.10.3.4p2). */
  readonly blue?: boolean;
}

export interface Macro {
  readonly name: string;
  /** null: object-like. */
  readonly params: readonly string[] | null;
  /** The parameter that takes the variable arguments (`__VA_ARGS__` or a named `args...`), or null. */
  readonly variadic: string | null;
  readonly body: readonly Tok[];
  readonly file: string;
  readonly line: number;
}

export interface CppProblem {
  readonly file: string;
  readonly line: number;
  readonly what: string;
}

const PUNCT3 = ["<<=", ">>=", "...", "%:%:"];
const PUNCT2 = [
  "->",
  "++",
  "--",
  "<<",
  ">>",
  "<=",
  ">=",
  "==",
  "!=",
  "&&",
  "||",
  "*=",
  "/=",
  "%=",
  "+=",
  "-=",
  "&=",
  "^=",
  "|=",
  "##",
];

/** Splits C text into preprocessing tokens (comments are already spaces). */
function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "\n") {
      out.push({ kind: "nl", text: "\n" });
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
      let j = i + 1;
      while (j < text.length && /[ \t\r\f\v]/.test(text[j] as string)) j++;
      out.push({ kind: "ws", text: text.slice(i, j) });
      i = j;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_$]/.test(text[j] as string)) j++;
      // A string or character literal with an encoding prefix (L"…", u8'…').
      if ((text[j] === '"' || text[j] === "'") && /^(L|u|U|u8)$/.test(text.slice(i, j))) {
        const end = literalEnd(text, j);
        out.push({ kind: "str", text: text.slice(i, end) });
        i = end;
        continue;
      }
      out.push({ kind: "id", text: text.slice(i, j) });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(text[i + 1] ?? ""))) {
      let j = i + 1;
      while (j < text.length) {
        const d = text[j] as string;
        if (/[eEpP]/.test(d) && /[+-]/.test(text[j + 1] ?? "")) j += 2;
        else if (/[A-Za-z0-9_.']/.test(d)) j++;
        else break;
      }
      out.push({ kind: "num", text: text.slice(i, j) });
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = literalEnd(text, i);
      out.push({ kind: "str", text: text.slice(i, end) });
      i = end;
      continue;
    }
    const p = PUNCT3.find((s) => text.startsWith(s, i)) ?? PUNCT2.find((s) => text.startsWith(s, i)) ?? c;
    out.push({
      kind: p.length === 1 && !/[-+*/%<>=!&|^~?:;,.()[\]{}#]/.test(p) ? "other" : "punct",
      text: p,
    });
    i += p.length;
  }
  return out;
}

function literalEnd(text: string, start: number): number {
  const q = text[start];
  let j = start + 1;
  while (j < text.length && text[j] !== q && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
  return Math.min(j + 1, text.length);
}

/** Comments become spaces, keeping their newlines (so lines stay where they were). */
function stripComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const end = literalEnd(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (c === "/" && text[i + 1] === "/") {
      let end = text.indexOf("\n", i);
      // A line comment continues over a backslash-newline.
      while (end > 0 && text[end - 1] === "\\") end = text.indexOf("\n", end + 1);
      const stop = end < 0 ? text.length : end;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const text = (toks: readonly Tok[]): string => toks.map((t) => t.text).join("");
const significant = (t: Tok): boolean => t.kind !== "ws" && t.kind !== "nl";

/** The preprocessor state of one program: its macros (they carry over from file to file) and config. */
export class Preprocessor {
  readonly macros = new Map<string, Macro>();
  readonly problems: CppProblem[] = [];
  private counter = 0;
  private file = "";
  private line = 0;

  constructor(
    private readonly parser: Parser,
    private readonly config: KConfig = {},
  ) {
    for (const [name, v] of Object.entries(config)) {
      if (v === "y") this.defineText(name, "1");
      if (v === "m") this.defineText(`${name}_MODULE`, "1");
    }
  }

  /**
   * A preprocessor that goes on from this one's state (its macros, problems and __COUNTER__), as if the files
   * run so far had been included first: the environment's headers are preprocessed once, and each load goes
   * on from a copy, with the parser it is given. Macros are never changed once defined (a #define or #undef
   * replaces or removes one).
   */
  clone(parser: Parser): Preprocessor {
    const c = new Preprocessor(parser, this.config);
    c.macros.clear();
    for (const [name, m] of this.macros) c.macros.set(name, m);
    c.problems.push(...this.problems);
    c.counter = this.counter;
    return c;
  }

  /** Defines an object-like macro from text (e.g. `-D`). */
  defineText(name: string, body: string): void {
    this.macros.set(name, {
      name,
      params: null,
      variadic: null,
      body: tokenize(body),
      file: "<command line>",
      line: 0,
    });
  }

  private problem(what: string): void {
    this.problems.push({ file: this.file, line: this.line, what });
  }

  /** Preprocesses one file; the result has exactly the file's lines. */
  run(path: string, source: string): string {
    this.file = path;
    const lines = stripComments(source).split("\n");
    const out: string[] = [];
    /** Conditional stack: whether the current group is taken, whether any group of the #if was, whether the parent is active. */
    const conds: { taking: boolean; taken: boolean; parent: boolean }[] = [];
    const active = (): boolean =>
      conds.length === 0 || (conds[conds.length - 1] as { taking: boolean }).taking;
    let pending: string[] = [];
    let pendingStart = 0;
    const flush = (): void => {
      if (pending.length === 0) return;
      this.line = pendingStart + 1;
      const expanded = this.expandText(pending.join("\n"));
      const got = expanded.split("\n");
      // The expansion has as many lines as the source it came from (see expandLine); pad if not.
      while (got.length < pending.length) got.push("");
      out.push(...got.slice(0, pending.length));
      pending = [];
    };
    for (let i = 0; i < lines.length; i++) {
      let logical = lines[i] as string;
      let count = 1;
      while (logical.endsWith("\\") && i + count < lines.length) {
        logical = `${logical.slice(0, -1)} ${lines[i + count] as string}`;
        count++;
      }
      const m = /^\s*#\s*(\w*)(.*)$/s.exec(logical);
      if (m === null) {
        if (active()) {
          if (pending.length === 0) pendingStart = i;
          pending.push(logical);
          for (let k = 1; k < count; k++) pending.push("");
        } else for (let k = 0; k < count; k++) out.push("");
        i += count - 1;
        continue;
      }
      flush();
      this.line = i + 1;
      const dir = m[1] as string;
      const rest = (m[2] as string).trim();
      switch (dir) {
        case "if":
        case "ifdef":
        case "ifndef": {
          const parent = active();
          const v = !parent
            ? false
            : dir === "if"
              ? this.condition(rest)
              : this.macros.has(rest.split(/\s+/)[0] ?? "") === (dir === "ifdef");
          conds.push({ taking: parent && v, taken: parent && v, parent });
          break;
        }
        case "elif": {
          const c = conds[conds.length - 1];
          if (c === undefined) this.problem("#elif without #if");
          else {
            const v = c.parent && !c.taken && this.condition(rest);
            c.taking = v;
            c.taken ||= v;
          }
          break;
        }
        case "else": {
          const c = conds[conds.length - 1];
          if (c === undefined) this.problem("#else without #if");
          else {
            c.taking = c.parent && !c.taken;
            c.taken = true;
          }
          break;
        }
        case "endif":
          if (conds.pop() === undefined) this.problem("#endif without #if");
          break;
        case "define":
          if (active()) this.define(rest);
          break;
        case "undef":
          if (active()) this.macros.delete(rest.split(/\s+/)[0] ?? "");
          break;
        case "error":
          if (active()) this.problem(`#error ${rest}`);
          break;
        default:
          // #include (the caller gives headers in order), #pragma, #line, #warning: nothing to run.
          break;
      }
      for (let k = 0; k < count; k++) out.push("");
      i += count - 1;
    }
    flush();
    if (conds.length > 0) {
      this.line = lines.length;
      this.problem("#if without #endif");
    }
    return out.join("\n");
  }

  private define(rest: string): void {
    const m = /^([A-Za-z_]\w*)(\()?/.exec(rest);
    if (m === null) {
      this.problem(`#define ${rest.slice(0, 40)}`);
      return;
    }
    const name = m[1] as string;
    let bodyText: string;
    let params: string[] | null = null;
    let variadic: string | null = null;
    if (m[2] !== undefined) {
      const close = rest.indexOf(")", m[0].length);
      if (close < 0) {
        this.problem(`#define ${name}( without )`);
        return;
      }
      params = [];
      for (const raw of rest.slice(m[0].length, close).split(",")) {
        const p = raw.trim();
        if (p === "") continue;
        if (p === "...") {
          params.push("__VA_ARGS__");
          variadic = "__VA_ARGS__";
        } else if (p.endsWith("...")) {
          const n = p.slice(0, -3).trim();
          params.push(n);
          variadic = n;
        } else params.push(p);
      }
      bodyText = rest.slice(close + 1);
    } else bodyText = rest.slice(name.length);
    const body = tokenize(bodyText.trim()).map((t): Tok => (t.kind === "nl" ? { kind: "ws", text: " " } : t));
    this.macros.set(name, { name, params, variadic, body, file: this.file, line: this.line });
  }

  /** Value of an #if expression: `defined` first, then macros, then other names are 0 (C11 6.10.1). */
  private condition(expr: string): boolean {
    const toks = tokenize(expr);
    const pre: Tok[] = [];
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i] as Tok;
      if (t.kind === "id" && t.text === "defined") {
        let j = i + 1;
        while (toks[j]?.kind === "ws") j++;
        const paren = toks[j]?.text === "(";
        if (paren) {
          j++;
          while (toks[j]?.kind === "ws") j++;
        }
        const name = toks[j]?.text ?? "";
        if (paren) {
          j++;
          while (toks[j]?.kind === "ws") j++;
          if (toks[j]?.text !== ")") this.problem(`#if defined( without ): ${expr}`);
        }
        pre.push({ kind: "num", text: this.macros.has(name) ? "1" : "0" });
        i = j;
        continue;
      }
      pre.push(t);
    }
    const expanded = this.expand(pre, new Set()).map((t) =>
      t.kind === "id" && t.text !== "true" && t.text !== "false" ? { kind: "num" as const, text: "0" } : t,
    );
    const src = `int __cpp_if = (${text(expanded)});`;
    const tree = this.parser.parse(src);
    if (tree === null) {
      this.problem(`#if ${expr}`);
      return false;
    }
    try {
      const init = tree.rootNode.descendantsOfType("init_declarator")[0]?.childForFieldName("value") ?? null;
      if (init === null || tree.rootNode.hasError) {
        this.problem(`#if expression: ${expr}`);
        return false;
      }
      const v = new Lowerer().constInt(new Lowerer().expr(init));
      return v !== 0n;
    } catch (e) {
      if (e instanceof LowerError) {
        this.problem(`#if expression: ${expr} (${e.what})`);
        return false;
      }
      throw e;
    } finally {
      tree.delete();
    }
  }

  /** Expands the macros of a run of code lines, keeping its line count. */
  private expandText(src: string): string {
    return text(this.expand(tokenize(src), new Set()));
  }

  private builtin(name: string, args: readonly Tok[][] | null): Tok[] | null {
    const conf = (): "y" | "m" | "n" => {
      const a = args?.[0]?.filter(significant);
      const opt = a !== undefined && a.length === 1 ? (a[0] as Tok).text : "";
      return this.config[opt] ?? "n";
    };
    const num = (b: boolean): Tok[] => [{ kind: "num", text: b ? "1" : "0" }];
    switch (name) {
      case "__COUNTER__":
        return [{ kind: "num", text: String(this.counter++) }];
      case "__LINE__":
        return [{ kind: "num", text: String(this.line) }];
      case "__FILE__":
        return [{ kind: "str", text: JSON.stringify(this.file) }];
      case "IS_ENABLED":
      case "IS_REACHABLE":
        return args === null ? null : num(conf() !== "n");
      case "IS_BUILTIN":
        return args === null ? null : num(conf() === "y");
      case "IS_MODULE":
        return args === null ? null : num(conf() === "m");
      default:
        return null;
    }
  }

  /**
   * Macro expansion of a token list (rescanning included): each produced token carries the hide set of the
   * macros that produced it. Newlines inside a function-like macro's arguments move after its expansion.
   */
  expand(input: readonly Tok[], hide: ReadonlySet<string>): Tok[] {
    const out: Tok[] = [];
    const toks = [...input];
    let i = 0;
    while (i < toks.length) {
      const t = toks[i] as Tok;
      if (t.kind !== "id" || t.blue === true) {
        out.push(t);
        i++;
        continue;
      }
      const hidden = t.hide?.has(t.text) === true || hide.has(t.text);
      const isBuiltinFn = ["IS_ENABLED", "IS_REACHABLE", "IS_BUILTIN", "IS_MODULE"].includes(t.text);
      const m = this.macros.get(t.text);
      if (hidden) {
        out.push({ ...t, blue: true });
        i++;
        continue;
      }
      if (m === undefined && !isBuiltinFn) {
        const b = this.builtin(t.text, null);
        out.push(...(b ?? [t]));
        i++;
        continue;
      }
      if (m !== undefined && m.params === null) {
        const h = new Set([...(t.hide ?? []), m.name]);
        const body = this.substitute(m, [], h);
        toks.splice(i, 1, ...body);
        continue;
      }
      // Function-like: only a name followed by ( is a call.
      let j = i + 1;
      const skipped: Tok[] = [];
      while (j < toks.length && !significant(toks[j] as Tok)) skipped.push(toks[j++] as Tok);
      if (toks[j]?.text !== "(") {
        out.push(t);
        i++;
        continue;
      }
      const args: Tok[][] = [[]];
      const newlines: Tok[] = skipped.filter((s) => s.kind === "nl");
      let depth = 0;
      j++;
      for (; j < toks.length; j++) {
        const a = toks[j] as Tok;
        if (a.kind === "nl") {
          newlines.push(a);
          (args[args.length - 1] as Tok[]).push({ kind: "ws", text: " " });
          continue;
        }
        if (a.text === "(" || a.text === "[" || a.text === "{") depth++;
        else if (a.text === ")" || a.text === "]" || a.text === "}") {
          if (depth === 0 && a.text === ")") break;
          depth--;
        } else if (a.text === "," && depth === 0) {
          args.push([]);
          continue;
        }
        (args[args.length - 1] as Tok[]).push(a);
      }
      if (j >= toks.length) {
        this.problem(`unterminated call of macro ${t.text}`);
        out.push(t);
        i++;
        continue;
      }
      if (m === undefined) {
        const b = this.builtin(t.text, args) ?? [{ ...t, blue: true }];
        toks.splice(i, j + 1 - i, ...b, ...newlines);
        continue;
      }
      const h = new Set([...(t.hide ?? []), m.name]);
      const body = this.substitute(m, args, h);
      toks.splice(i, j + 1 - i, ...body, ...newlines);
    }
    return out;
  }

  /** A macro's replacement with its arguments substituted (# and ## applied), its tokens hidden from `h`. */
  private substitute(m: Macro, rawArgs: Tok[][], h: ReadonlySet<string>): Tok[] {
    const params = m.params ?? [];
    const args = new Map<string, Tok[]>();
    params.forEach((p, k) => {
      if (p === m.variadic) {
        const rest = rawArgs.slice(k);
        const joined: Tok[] = [];
        rest.forEach((a, n) => {
          if (n > 0) joined.push({ kind: "punct", text: "," });
          joined.push(...a);
        });
        args.set(p, joined);
      } else args.set(p, rawArgs[k] ?? []);
    });
    if (
      m.params !== null &&
      m.variadic === null &&
      rawArgs.length > params.length &&
      !(params.length === 0 && rawArgs.length === 1 && rawArgs[0]?.every((t) => !significant(t)))
    ) {
      this.problem(`macro ${m.name} called with ${rawArgs.length} arguments, takes ${params.length}`);
    }
    const trim = (a: readonly Tok[]): Tok[] => {
      const s = a.findIndex(significant);
      if (s < 0) return [];
      let e = a.length - 1;
      while (!significant(a[e] as Tok)) e--;
      return a.slice(s, e + 1);
    };
    const expandedArg = new Map<string, Tok[]>();
    const expArg = (p: string): Tok[] => {
      let v = expandedArg.get(p);
      if (v === undefined) {
        v = this.expand(trim(args.get(p) ?? []), new Set());
        expandedArg.set(p, v);
      }
      return v;
    };
    const body = m.body;
    const out: Tok[] = [];
    const sig = (k: number, dir: 1 | -1): number => {
      let n = k + dir;
      while (n >= 0 && n < body.length && !significant(body[n] as Tok)) n += dir;
      return n;
    };
    for (let k = 0; k < body.length; k++) {
      const b = body[k] as Tok;
      if (b.text === "#" && b.kind === "punct" && m.params !== null) {
        const n = sig(k, 1);
        const p = body[n];
        if (p !== undefined && args.has(p.text)) {
          const s = trim(args.get(p.text) ?? [])
            .map((x) => (x.kind === "ws" ? " " : x.text))
            .join("")
            .replace(/\s+/g, " ");
          out.push({ kind: "str", text: `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"` });
          k = n;
          continue;
        }
      }
      if (b.text === "##") {
        // Paste the last significant output token with the next operand.
        const n = sig(k, 1);
        let right: Tok[];
        const next = body[n];
        if (next === undefined) break;
        if (args.has(next.text)) {
          right = trim(args.get(next.text) ?? []);
          // GNU: `, ## __VA_ARGS__` drops the comma when there are no variable arguments.
          if (next.text === m.variadic && right.length === 0) {
            while (out.length > 0 && !significant(out[out.length - 1] as Tok)) out.pop();
            if (out[out.length - 1]?.text === ",") out.pop();
            k = n;
            continue;
          }
        } else right = [next];
        while (out.length > 0 && !significant(out[out.length - 1] as Tok)) out.pop();
        const left = out.pop();
        const glued = tokenize(`${left?.text ?? ""}${right[0]?.text ?? ""}`);
        out.push(...glued, ...right.slice(1));
        k = n;
        continue;
      }
      if (args.has(b.text) && b.kind === "id") {
        const nextSig = body[sig(k, 1)];
        if (nextSig?.text === "##") out.push(...trim(args.get(b.text) ?? []));
        else out.push(...expArg(b.text));
        continue;
      }
      out.push(b);
    }
    return out.map((t) => (t.kind === "id" ? { ...t, hide: new Set([...(t.hide ?? []), ...h]) } : t));
  }
}
