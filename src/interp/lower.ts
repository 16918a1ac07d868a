/**
 * Lowering: tree-sitter's C tree (of preprocessed text, see cpp.ts) to the interpreter's syntax tree
 * (ast.ts), resolving types (typedefs, struct layouts, enums) in source order and folding the constants C
 * requires (array sizes, case labels, enumerators, bit-field widths). A construct the interpreter does not
 * handle becomes an `unsupported` node naming it and its line: running into it gives an honest unknown, and
 * the rest of the file still runs.
 *
 * Workers-safe: it reads a tree that a parser (passed in by the caller) produced.
 */
import type { Node, Parser } from "web-tree-sitter";
import type {
  BinOp,
  Decl,
  Designator,
  Expr,
  FunctionDef,
  GlobalDef,
  Init,
  InitItem,
  Program,
  Stmt,
  SwitchCase,
} from "./ast.ts";
import {
  type CType,
  type FnType,
  type IntType,
  intFromWords,
  PRIMITIVES,
  ptrTo,
  type StructRef,
  StructTable,
  T,
  usual,
  VOIDP,
  wrap,
} from "./types.ts";

/** A construct the lowering does not handle, with its line. */
export class LowerError extends Error {
  constructor(
    readonly what: string,
    readonly line: number,
  ) {
    super(`${what} (line ${line})`);
  }
}

/** A file to lower: its path (as traces name it) and its preprocessed text. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** What lowering could not read, at file scope (a function body's gaps are `unsupported` nodes in it). */
export interface LowerProblem {
  readonly file: string;
  readonly line: number;
  readonly what: string;
}

const lineOf = (n: Node): number => n.startPosition.row + 1;

function named(n: Node): Node[] {
  return n.namedChildren.filter((c): c is Node => c !== null && c.type !== "comment");
}

/** Identifier texts of lowered programs, one string each (see intern). */
const INTERNED = new Map<string, string>();

/**
 * One string per identifier text. The names of a lowered program are keys of the interpreter's maps at every
 * step (variables in scope, struct members, globals, functions), and text taken from the parsed source is a
 * new string at each occurrence, so each lookup compared characters; one string per name (the one a property
 * key of that text is, so also a literal of the environment's code) compares by identity. Forgotten past
 * 50 000 names (a long-running service lowers many series; a name interned again is only a slower key).
 */
export function intern(s: string): string {
  let i = INTERNED.get(s);
  if (i === undefined) {
    if (INTERNED.size >= 50_000) INTERNED.clear();
    i = Object.keys({ [s]: 0 })[0] as string;
    INTERNED.set(i, i);
  }
  return i;
}

function field(n: Node, name: string): Node | null {
  return n.childForFieldName(name);
}

function need(n: Node | null, what: string, at: Node): Node {
  if (n === null) throw new LowerError(`${what} missing`, lineOf(at));
  return n;
}

const BINOPS = new Set([
  "+",
  "-",
  "*",
  "/",
  "%",
  "<<",
  ">>",
  "&",
  "|",
  "^",
  "==",
  "!=",
  "<",
  ">",
  "<=",
  ">=",
]);

/** Value of a C integer literal with its type (C11 6.4.4.1), or null for a floating literal. */
export function intLiteral(text: string): { v: bigint; t: IntType } | null {
  const m = /^(0[xX][0-9a-fA-F']+|0[bB][01']+|[0-9']+)([uUlL]*)$/.exec(text);
  if (m === null) return null;
  const digits = (m[1] as string).replaceAll("'", "");
  const suffix = (m[2] as string).toLowerCase();
  const v = /^0[bB]/.test(digits)
    ? BigInt(`0b${digits.slice(2)}`)
    : /^0[0-7]+$/.test(digits)
      ? BigInt(`0o${digits.slice(1)}`)
      : BigInt(digits);
  const decimal = !/^0/.test(digits) || digits === "0";
  const u = suffix.includes("u");
  const longs = suffix.includes("ll") ? 2 : suffix.includes("l") ? 1 : 0;
  const fits = (t: IntType): boolean => wrap(v, t) === v;
  const candidates: IntType[] =
    longs === 2
      ? u
        ? [T.ullong]
        : decimal
          ? [T.llong]
          : [T.llong, T.ullong]
      : longs === 1
        ? u
          ? [T.ulong, T.ullong]
          : decimal
            ? [T.long, T.llong]
            : [T.long, T.ulong, T.llong, T.ullong]
        : u
          ? [T.uint, T.ulong, T.ullong]
          : decimal
            ? [T.int, T.long, T.llong]
            : [T.int, T.uint, T.long, T.ulong, T.llong, T.ullong];
  const t = candidates.find(fits) ?? T.ullong;
  return { v, t };
}

const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, "0": 0, a: 7, b: 8, f: 12, v: 11, e: 27 };

/** Bytes of a C string or character literal body (escapes decoded, UTF-8 for other characters). */
export function cUnescape(body: string, line: number): number[] {
  const out: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== "\\") {
      out.push(...enc.encode(c));
      continue;
    }
    const n = body[++i];
    if (n === undefined) throw new LowerError("dangling backslash in literal", line);
    if (n === "x") {
      const m = /^[0-9a-fA-F]+/.exec(body.slice(i + 1));
      if (m === null) throw new LowerError("bad \\x escape", line);
      out.push(Number.parseInt(m[0], 16) & 0xff);
      i += m[0].length;
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i)) as RegExpExecArray;
      out.push(Number.parseInt(m[0], 8) & 0xff);
      i += m[0].length - 1;
    } else out.push(ESCAPES[n] ?? n.charCodeAt(0));
  }
  return out;
}

interface FnScope {
  /** The function's name (what __func__ is). */
  name: string;
  labels: Map<string, number>;
  switches: SwitchCase[][];
}

/** One program being lowered: its types, and what file scope declared so far. */
/** GCC's ways to take a type from an expression, which the lowering (with no types of expressions) cannot. */
const TYPE_FROM_EXPRESSION: ReadonlySet<string> = new Set([
  "typeof",
  "__typeof__",
  "__typeof",
  "__auto_type",
]);

export class Lowerer {
  readonly structs = new StructTable();
  private readonly tags = new Map<string, StructRef>();
  private readonly typedefs = new Map<string, CType>();
  readonly enums: Record<string, { v: bigint; t: CType }> = {};
  readonly functions: Record<string, FunctionDef> = {};
  readonly globals: GlobalDef[] = [];
  readonly staticLocals: Record<number, Decl & { file: string }> = {};
  readonly prototypes: Record<string, FnType> = {};
  readonly problems: LowerProblem[] = [];
  private readonly headerFiles: string[] = [];
  private file = "";
  private nextId = 1;
  private fn: FnScope | null = null;

  constructor(private readonly preludeFiles: readonly string[] = []) {}

  /**
   * A lowerer that goes on from this one's state, as if the files lowered so far came first in its own run:
   * the environment's headers are lowered once, and each load goes on from a copy. What a later file may
   * change is copied (the containers, and each struct, which a later definition completes in place); what is
   * only ever replaced (functions, globals, types) is shared.
   */
  clone(): Lowerer {
    const c = new Lowerer(this.preludeFiles);
    c.structs.defs.push(...this.structs.defs.map((d) => ({ ...d })));
    for (const [k, v] of this.tags) c.tags.set(k, v);
    for (const [k, v] of this.typedefs) c.typedefs.set(k, v);
    Object.assign(c.enums, this.enums);
    Object.assign(c.functions, this.functions);
    c.globals.push(...this.globals);
    Object.assign(c.staticLocals, this.staticLocals);
    Object.assign(c.prototypes, this.prototypes);
    c.problems.push(...this.problems);
    c.headerFiles.push(...this.headerFiles);
    c.nextId = this.nextId;
    return c;
  }

  program(): Program {
    return {
      structs: this.structs.defs,
      functions: this.functions,
      globals: this.globals,
      staticLocals: this.staticLocals,
      enums: this.enums,
      prototypes: this.prototypes,
      preludeFiles: this.preludeFiles,
      headerFiles: this.headerFiles,
    };
  }

  /** Lowers one preprocessed file (parsed by `parser`) into the program. */
  lowerFile(parser: Parser, file: SourceFile): void {
    const tree = parser.parse(file.text);
    if (tree === null) throw new Error(`tree-sitter could not parse ${file.path}`);
    this.file = file.path;
    if (file.path.endsWith(".h") || this.preludeFiles.includes(file.path)) this.headerFiles.push(file.path);
    try {
      for (const n of named(tree.rootNode)) {
        try {
          this.topLevel(n);
        } catch (e) {
          if (!(e instanceof LowerError)) throw e;
          this.problems.push({ file: file.path, line: e.line, what: e.what });
        }
      }
    } finally {
      tree.delete();
    }
  }

  private id(): number {
    return this.nextId++;
  }

  private key(name: string, isStatic: boolean): string {
    return isStatic ? `${this.file}\u0000${name}` : name;
  }

  private topLevel(n: Node): void {
    switch (n.type) {
      case "function_definition":
        this.functionDef(n);
        return;
      case "declaration":
        for (const d of this.declaration(n, true)) this.fileScopeDecl(d);
        return;
      case "type_definition":
        this.typeDefinition(n);
        return;
      case "struct_specifier":
      case "union_specifier":
      case "enum_specifier":
        this.typeSpec(n);
        return;
      case "expression_statement":
        if (named(n).length === 0) return;
        throw new LowerError(
          `statement at file scope (an unexpanded macro?): ${n.text.slice(0, 60)}`,
          lineOf(n),
        );
      case "ERROR":
        throw new LowerError(`syntax tree-sitter could not parse: ${n.text.slice(0, 60)}`, lineOf(n));
      default:
        if (n.type.startsWith("preproc_")) return;
        throw new LowerError(`file-scope ${n.type}`, lineOf(n));
    }
  }

  private fileScopeDecl(d: Decl): void {
    if (d.storage === "typedef") return;
    if (d.t.k === "fn") {
      this.prototypes[d.name] = d.t;
      return;
    }
    if (d.storage === "extern" && d.init === null) return;
    const key = this.key(d.name, d.storage === "static");
    const prev = this.globals.findIndex(
      (g) => this.key(g.name, g.decl.storage === "static") === key && g.file === this.file,
    );
    const def: GlobalDef = { name: d.name, file: this.file, decl: d };
    if (prev >= 0) {
      // A tentative definition completed by a later one: keep the one with an initialiser.
      if (d.init !== null) this.globals[prev] = def;
      return;
    }
    this.globals.push(def);
  }

  private functionDef(n: Node): void {
    const specs = this.specifiers(n);
    const decl = need(field(n, "declarator"), "function declarator", n);
    const { name, type, params } = this.declarator(decl, specs.type);
    if (name === null || type.k !== "fn")
      throw new LowerError("function definition without a name", lineOf(n));
    const labels = new Map<string, number>();
    const body = need(field(n, "body"), "function body", n);
    for (const l of body.descendantsOfType("labeled_statement")) {
      const label = l === null ? null : field(l, "label");
      if (label !== null) labels.set(label.text, this.id());
    }
    this.fn = { name, labels, switches: [] };
    try {
      const def: FunctionDef = {
        name,
        file: this.file,
        line: lineOf(n),
        t: type,
        params: params ?? [],
        body: this.stmt(body),
        static: specs.storage === "static",
      };
      this.functions[this.key(name, def.static)] = def;
    } finally {
      this.fn = null;
    }
  }

  private typeDefinition(n: Node): void {
    const base = this.specifiers(n).type;
    for (const d of n.childrenForFieldName("declarator")) {
      const { name, type } = this.declarator(d, base);
      if (name !== null) this.typedefs.set(name, type);
    }
  }

  // ---- types -------------------------------------------------------------------------------------------

  private specifiers(n: Node): {
    type: CType;
    storage: Decl["storage"];
    cleanup: string | null;
    packed: boolean;
  } {
    let storage: Decl["storage"] = "auto";
    let cleanup: string | null = null;
    for (const c of named(n)) {
      if (c.type === "storage_class_specifier") {
        const s = c.text;
        if (s === "static" || s === "extern") storage = s;
      } else if (c.type === "attribute_specifier") {
        const m = /cleanup\s*\(\s*(\w+)\s*\)/.exec(c.text);
        if (m !== null) cleanup = m[1] as string;
      }
    }
    if (n.type === "type_definition") storage = "typedef";
    const t = field(n, "type");
    if (t === null) throw new LowerError("declaration without a type", lineOf(n));
    return { type: this.typeSpec(t), storage, cleanup, packed: false };
  }

  private typeSpec(n: Node): CType {
    switch (n.type) {
      case "primitive_type": {
        const t = PRIMITIVES[n.text];
        if (t === undefined) throw new LowerError(`type ${n.text}`, lineOf(n));
        return t;
      }
      case "sized_type_specifier": {
        const t = intFromWords(
          n.text.split(/\s+/).filter((w) => w !== "" && w !== "const" && w !== "volatile"),
        );
        if (t === null) throw new LowerError(`type ${n.text}`, lineOf(n));
        return t;
      }
      case "type_identifier": {
        const t = this.typedefs.get(n.text) ?? PRIMITIVES[n.text];
        if (t === undefined && TYPE_FROM_EXPRESSION.has(n.text))
          throw new LowerError(`${n.text} in a declaration: a type taken from an expression`, lineOf(n));
        if (t === undefined) throw new LowerError(`unknown type name ${n.text}`, lineOf(n));
        return t;
      }
      case "macro_type_specifier": {
        // `typeof(int)`, `typeof(u32)`: the type named; `typeof(x)` of a variable is an expression's type.
        const name = field(n, "name")?.text ?? "";
        const d = field(n, "type");
        if (!TYPE_FROM_EXPRESSION.has(name) || d === null)
          throw new LowerError(`type ${n.type}: ${n.text.slice(0, 40)}`, lineOf(n));
        try {
          return this.typeDescriptor(d);
        } catch (e) {
          if (!(e instanceof LowerError)) throw e;
          throw new LowerError(
            `${name}(${d.text}) in a declaration: a type taken from an expression`,
            lineOf(n),
          );
        }
      }
      case "struct_specifier":
      case "union_specifier":
        return this.structSpec(n, n.type === "union_specifier");
      case "enum_specifier":
        return this.enumSpec(n);
      default:
        throw new LowerError(`type ${n.type}: ${n.text.slice(0, 40)}`, lineOf(n));
    }
  }

  private structSpec(n: Node, union: boolean): StructRef {
    const nameNode = field(n, "name");
    const body = field(n, "body");
    const tag = nameNode?.text ?? `<anonymous@${this.file}:${lineOf(n)}>`;
    let ref = nameNode === null ? undefined : this.tags.get(`${union ? "union" : "struct"} ${tag}`);
    if (ref === undefined || (body !== null && this.structs.get(ref).complete)) {
      ref = this.structs.declare(tag, union);
      if (nameNode !== null) this.tags.set(`${union ? "union" : "struct"} ${tag}`, ref);
    }
    if (body === null) return ref;
    const members: { name: string | null; type: CType; width?: number }[] = [];
    for (const f of named(body)) {
      if (f.type !== "field_declaration") throw new LowerError(`struct member ${f.type}`, lineOf(f));
      const base = this.typeSpec(need(field(f, "type"), "member type", f));
      // Declarators in order, each with the bit-field width that follows it (`unsigned a : 3, b : 5;`).
      const parts: { d: Node | null; width?: number }[] = [];
      const declIds = new Set(f.childrenForFieldName("declarator").map((d) => d.id));
      for (const c of named(f)) {
        if (declIds.has(c.id)) parts.push({ d: c });
        else if (c.type === "bitfield_clause") {
          const width = Number(this.constInt(this.expr(named(c)[0] as Node)));
          const last = parts.at(-1);
          if (last !== undefined && last.width === undefined) last.width = width;
          else parts.push({ d: null, width });
        }
      }
      if (parts.length === 0) parts.push({ d: null });
      for (const p of parts) {
        const { name, type } = p.d === null ? { name: null, type: base } : this.declarator(p.d, base);
        members.push(p.width === undefined ? { name, type } : { name, type, width: p.width });
      }
    }
    // A member of a struct type not yet defined has no layout (C forbids it; laying it out as 0 bytes would
    // put every later member, and the struct's size, in the wrong place).
    for (const m of members) {
      let t = m.type;
      while (t.k === "array" && t.n !== null) t = t.of;
      if (t.k === "struct" && !this.structs.get(t).complete)
        throw new LowerError(
          `member ${m.name ?? "(anonymous)"} of struct ${tag} has incomplete type struct ${t.tag}`,
          lineOf(body),
        );
    }
    const packed = named(n).some((c) => c.type === "attribute_specifier" && /packed/.test(c.text));
    this.structs.define(ref, members, packed);
    return ref;
  }

  private enumSpec(n: Node): CType {
    const body = field(n, "body");
    if (body === null) return T.uint;
    let next = 0n;
    const values: [string, bigint][] = [];
    for (const e of named(body)) {
      if (e.type !== "enumerator") continue;
      const name = intern(need(field(e, "name"), "enumerator name", e).text);
      const value = field(e, "value");
      const v = value === null ? next : this.constInt(this.expr(value));
      values.push([name, v]);
      next = v + 1n;
    }
    // gcc: unsigned int when no enumerator is negative, else int (or wider when needed).
    const t: IntType = values.some(([, v]) => v < 0n) ? T.int : T.uint;
    for (const [name, v] of values) this.enums[name] = { v, t: wrap(v, T.int) === v ? T.int : T.long };
    return t;
  }

  /** A declarator applied to a base type: the declared name, its type and, for a function, its parameters. */
  declarator(
    n: Node | null,
    base: CType,
  ): { name: string | null; type: CType; params: { name: string | null; t: CType }[] | null } {
    let type = base;
    let params: { name: string | null; t: CType }[] | null = null;
    let cur = n;
    while (cur !== null) {
      switch (cur.type) {
        case "identifier":
        case "field_identifier":
        case "type_identifier":
          return { name: intern(cur.text), type, params };
        case "pointer_declarator":
        case "abstract_pointer_declarator":
          type = ptrTo(type);
          cur = field(cur, "declarator");
          break;
        case "array_declarator":
        case "abstract_array_declarator": {
          const size = field(cur, "size");
          const len = size === null ? null : Number(this.constInt(this.expr(size)));
          type = { k: "array", of: type, n: len };
          cur = field(cur, "declarator");
          break;
        }
        case "function_declarator":
        case "abstract_function_declarator": {
          const list = this.params(need(field(cur, "parameters"), "parameter list", cur));
          type = { k: "fn", ret: type, params: list.params.map((p) => p.t), variadic: list.variadic };
          // The outermost function declarator names the function's own parameters.
          params = list.params;
          cur = field(cur, "declarator");
          break;
        }
        case "parenthesized_declarator":
        case "abstract_parenthesized_declarator":
        case "attributed_declarator":
          cur =
            named(cur).find((c) => c.type !== "attribute_specifier" && c.type !== "attribute_declaration") ??
            null;
          break;
        case "init_declarator":
          cur = field(cur, "declarator");
          break;
        default:
          throw new LowerError(`declarator ${cur.type}`, lineOf(cur));
      }
    }
    return { name: null, type, params };
  }

  private params(n: Node): { params: { name: string | null; t: CType }[]; variadic: boolean } {
    const out: { name: string | null; t: CType }[] = [];
    let variadic = false;
    for (const p of named(n)) {
      if (p.type === "variadic_parameter") {
        variadic = true;
        continue;
      }
      if (p.type !== "parameter_declaration") throw new LowerError(`parameter ${p.type}`, lineOf(p));
      const base = this.typeSpec(need(field(p, "type"), "parameter type", p));
      const { name, type } = this.declarator(field(p, "declarator"), base);
      // Parameters of array and function type are pointers (C11 6.7.6.3).
      const t = type.k === "array" ? ptrTo(type.of) : type.k === "fn" ? ptrTo(type) : type;
      out.push({ name, t });
    }
    if (out.length === 1 && out[0]?.t.k === "void" && out[0].name === null) return { params: [], variadic };
    return { params: out, variadic };
  }

  private typeDescriptor(n: Node): CType {
    const base = this.typeSpec(need(field(n, "type"), "type", n));
    return this.declarator(field(n, "declarator"), base).type;
  }

  // ---- declarations ------------------------------------------------------------------------------------

  private declaration(n: Node, fileScope: boolean): Decl[] {
    const specs = this.specifiers(n);
    const out: Decl[] = [];
    for (const d of n.childrenForFieldName("declarator")) {
      const value = d.type === "init_declarator" ? field(d, "value") : null;
      const { name, type } = this.declarator(d, specs.type);
      if (name === null) continue;
      let t = type;
      const init = value === null ? null : this.init(value);
      if (t.k === "array" && t.n === null && init !== null)
        t = { k: "array", of: t.of, n: this.initLength(init, t) };
      const decl: Decl = {
        name,
        t,
        init,
        storage: specs.storage,
        cleanup: cleanupOf(d) ?? specs.cleanup,
        line: lineOf(d),
        id: this.id(),
      };
      if (!fileScope && specs.storage === "static") this.staticLocals[decl.id] = { ...decl, file: this.file };
      out.push(decl);
    }
    if (fileScope) return out;
    for (const d of out) if (d.storage === "typedef") this.typedefs.set(d.name, d.t);
    return out;
  }

  /** Length of an array sized by its initialiser (`int a[] = {…}`, `char s[] = "…"`). */
  private initLength(init: Init, t: CType & { k: "array" }): number {
    if (init.k === "expr") {
      if (init.e.k === "str") return init.e.bytes.length;
      throw new LowerError("array initialised from an expression", init.e.line);
    }
    let i = 0;
    let max = 0;
    for (const item of init.items) {
      const d = item.design[0];
      if (d !== undefined && "index" in d) i = d.index;
      i++;
      max = Math.max(max, i);
    }
    void t;
    return max;
  }

  private init(n: Node): Init {
    if (n.type !== "initializer_list") return { k: "expr", e: this.expr(n) };
    const items: InitItem[] = [];
    for (const c of named(n)) {
      if (c.type === "initializer_pair") {
        const design: Designator[] = [];
        for (const d of c.childrenForFieldName("designator")) {
          if (d.type === "field_designator") design.push({ field: intern((named(d)[0] as Node).text) });
          else if (d.type === "subscript_designator")
            design.push({ index: Number(this.constInt(this.expr(named(d)[0] as Node))) });
          else throw new LowerError(`designator ${d.type}`, lineOf(d));
        }
        items.push({ design, init: this.init(need(field(c, "value"), "initialiser value", c)) });
      } else items.push({ design: [], init: this.init(c) });
    }
    return { k: "list", line: lineOf(n), items };
  }

  // ---- statements --------------------------------------------------------------------------------------

  private stmt(n: Node): Stmt {
    try {
      return withLabels(this.stmtInner(n));
    } catch (e) {
      if (!(e instanceof LowerError)) throw e;
      return { k: "unsupported", what: e.what, line: e.line };
    }
  }

  private stmts(nodes: Node[]): Stmt[] {
    return nodes.map((c) => this.stmt(c));
  }

  private scope(): FnScope {
    if (this.fn === null) throw new Error("statement outside a function");
    return this.fn;
  }

  private stmtInner(n: Node): Stmt {
    const line = lineOf(n);
    switch (n.type) {
      case "compound_statement":
        return { k: "block", body: this.stmts(named(n)), line };
      case "expression_statement": {
        const e = named(n)[0];
        if (n.children.some((c) => c?.isMissing === true))
          throw new LowerError(
            `statement tree-sitter could not parse (a macro not expanded?): ${n.text.slice(0, 60)}`,
            line,
          );
        return e === undefined ? { k: "empty", line } : { k: "expr", e: this.expr(e), line };
      }
      case "declaration":
        return { k: "decl", decls: this.declaration(n, false), line };
      case "type_definition":
        this.typeDefinition(n);
        return { k: "empty", line };
      case "if_statement": {
        const alt = field(n, "alternative");
        const altStmt = alt === null ? null : (named(alt)[0] ?? null);
        return {
          k: "if",
          c: this.expr(need(field(n, "condition"), "condition", n)),
          yes: this.stmt(need(field(n, "consequence"), "consequence", n)),
          no: altStmt === null ? null : this.stmt(altStmt),
          line,
        };
      }
      case "while_statement":
        return {
          k: "while",
          c: this.expr(need(field(n, "condition"), "condition", n)),
          body: this.stmt(need(field(n, "body"), "body", n)),
          line,
        };
      case "do_statement":
        return {
          k: "do",
          c: this.expr(need(field(n, "condition"), "condition", n)),
          body: this.stmt(need(field(n, "body"), "body", n)),
          line,
        };
      case "for_statement": {
        const init = field(n, "initializer");
        const cond = field(n, "condition");
        const step = field(n, "update");
        return {
          k: "for",
          init:
            init === null
              ? null
              : init.type === "declaration"
                ? { k: "decl", decls: this.declaration(init, false), line: lineOf(init) }
                : { k: "expr", e: this.expr(init), line: lineOf(init) },
          c: cond === null ? null : this.expr(cond),
          step: step === null ? null : this.expr(step),
          body: this.stmt(need(field(n, "body"), "body", n)),
          line,
        };
      }
      case "switch_statement": {
        const scope = this.scope();
        const cases: SwitchCase[] = [];
        scope.switches.push(cases);
        try {
          const c = this.expr(need(field(n, "condition"), "condition", n));
          const body = this.stmt(need(field(n, "body"), "body", n));
          return { k: "switch", c, body, cases, line };
        } finally {
          scope.switches.pop();
        }
      }
      case "case_statement": {
        const cases = this.scope().switches.at(-1);
        if (cases === undefined) throw new LowerError("case outside a switch", line);
        const value = field(n, "value");
        const label = this.id();
        cases.push({ value: value === null ? null : this.constInt(this.expr(value)), label });
        const body = named(n).filter((c) => value === null || c.id !== value.id);
        return { k: "case", label, body: this.stmts(body), line };
      }
      case "labeled_statement": {
        const name = need(field(n, "label"), "label", n).text;
        const label = this.scope().labels.get(name);
        if (label === undefined) throw new LowerError(`label ${name}`, line);
        const inner = named(n).filter((c) => c.type !== "statement_identifier")[0];
        return { k: "label", name, label, body: inner === undefined ? null : this.stmt(inner), line };
      }
      case "goto_statement": {
        const name = need(field(n, "label"), "label", n).text;
        const label = this.scope().labels.get(name);
        if (label === undefined) throw new LowerError(`goto to undefined label ${name}`, line);
        return { k: "goto", name, label, line };
      }
      case "return_statement": {
        const e = named(n)[0];
        return { k: "return", e: e === undefined ? null : this.expr(e), line };
      }
      case "break_statement":
        return { k: "break", line };
      case "continue_statement":
        return { k: "continue", line };
      case "attributed_statement": {
        const inner = named(n).find((c) => c.type !== "attribute_declaration");
        return inner === undefined ? { k: "empty", line } : this.stmtInner(inner);
      }
      case "ERROR":
        throw new LowerError(`syntax tree-sitter could not parse: ${n.text.slice(0, 60)}`, line);
      default:
        throw new LowerError(`statement ${n.type}`, line);
    }
  }

  // ---- expressions -------------------------------------------------------------------------------------

  expr(n: Node): Expr {
    const line = lineOf(n);
    switch (n.type) {
      case "number_literal": {
        // tree-sitter reads a sign before a literal as part of it: keep C's unary minus on the literal.
        const m = /^([-+])\s*(.*)$/s.exec(n.text);
        const lit = intLiteral(m === null ? n.text : (m[2] as string));
        if (lit !== null && m !== null)
          return { k: "unary", op: m[1] as "-" | "+", e: { k: "num", v: lit.v, t: lit.t, line }, line };
        if (lit === null) throw new LowerError(`floating literal ${n.text}`, line);
        return { k: "num", v: lit.v, t: lit.t, line };
      }
      case "char_literal": {
        const body = n.text.replace(/^[LuU]?'/, "").replace(/'$/, "");
        const bytes = cUnescape(body, line);
        if (bytes.length !== 1) throw new LowerError(`multi-byte character literal ${n.text}`, line);
        // A char literal has type int; its value is that of a (signed) char.
        return { k: "num", v: wrap(BigInt(bytes[0] as number), T.char), t: T.int, line };
      }
      case "string_literal":
      case "concatenated_string": {
        const parts = n.type === "string_literal" ? [n] : named(n).filter((c) => c.type === "string_literal");
        const bytes: number[] = [];
        for (const p of parts) {
          if (/^[LuU]/.test(p.text)) throw new LowerError(`wide string ${p.text.slice(0, 20)}`, line);
          bytes.push(...cUnescape(p.text.slice(1, -1), line));
        }
        bytes.push(0);
        return { k: "str", bytes, id: this.id(), line };
      }
      case "true":
        return { k: "num", v: 1n, t: T.int, line };
      case "false":
        return { k: "num", v: 0n, t: T.int, line };
      case "null":
        return { k: "cast", t: VOIDP, e: { k: "num", v: 0n, t: T.int, line }, line };
      case "identifier":
        // C99's predefined identifier: a static array of the enclosing function's name.
        if (n.text === "__func__" && this.fn !== null)
          return { k: "str", bytes: [...new TextEncoder().encode(this.fn.name), 0], id: this.id(), line };
        return { k: "id", name: intern(n.text), line };
      case "parenthesized_expression": {
        const inner = named(n)[0];
        if (inner === undefined) throw new LowerError("empty parentheses", line);
        if (inner.type === "compound_statement") return { k: "stmtexpr", body: this.stmt(inner), line };
        return this.expr(inner);
      }
      case "unary_expression": {
        const op = need(field(n, "operator"), "operator", n).text;
        const e = this.expr(need(field(n, "argument"), "operand", n));
        if (op === "-" || op === "+" || op === "~" || op === "!") return { k: "unary", op, e, line };
        throw new LowerError(`unary operator ${op}`, line);
      }
      case "pointer_expression": {
        const op = need(field(n, "operator"), "operator", n).text;
        const e = this.expr(need(field(n, "argument"), "operand", n));
        return op === "*" ? { k: "deref", e, line } : { k: "addr", e, line };
      }
      case "update_expression": {
        const op = need(field(n, "operator"), "operator", n).text as "++" | "--";
        const arg = need(field(n, "argument"), "operand", n);
        return { k: "incdec", op, prefix: n.startIndex < arg.startIndex, e: this.expr(arg), line };
      }
      case "binary_expression": {
        const op = need(field(n, "operator"), "operator", n).text;
        const left = need(field(n, "left"), "left operand", n);
        const cast = this.typedefIn(left);
        if (cast !== null && (op === "-" || op === "+" || op === "*" || op === "&")) {
          // `(u32)-1`, `(T)*p`, `(T)&x`: a cast of a unary expression, binding tighter than any binary operator.
          const right = this.expr(need(field(n, "right"), "right operand", n));
          return castLeftmost(right, (e) => ({
            k: "cast",
            t: cast,
            e:
              op === "*"
                ? { k: "deref", e, line }
                : op === "&"
                  ? { k: "addr", e, line }
                  : { k: "unary", op: op as "-" | "+", e, line },
            line,
          }));
        }
        const l = this.expr(left);
        const r = this.expr(need(field(n, "right"), "right operand", n));
        if (op === "&&" || op === "||") return { k: "logical", op, l, r, line };
        if (!BINOPS.has(op)) throw new LowerError(`binary operator ${op}`, line);
        return { k: "binary", op: op as BinOp, l, r, line };
      }
      case "assignment_expression": {
        const op = need(field(n, "operator"), "operator", n).text;
        const l = this.expr(need(field(n, "left"), "left operand", n));
        const r = this.expr(need(field(n, "right"), "right operand", n));
        if (op === "=") return { k: "assign", op: null, l, r, line };
        const bin = op.slice(0, -1);
        if (!BINOPS.has(bin)) throw new LowerError(`assignment operator ${op}`, line);
        return { k: "assign", op: bin as BinOp, l, r, line };
      }
      case "conditional_expression": {
        const t = field(n, "consequence");
        return {
          k: "cond",
          c: this.expr(need(field(n, "condition"), "condition", n)),
          t: t === null ? null : this.expr(t),
          f: this.expr(need(field(n, "alternative"), "alternative", n)),
          line,
        };
      }
      case "call_expression": {
        const args = named(need(field(n, "arguments"), "arguments", n)).map((a) => this.expr(a));
        const callee = need(field(n, "function"), "callee", n);
        // `typeof(e->x) v;`: tree-sitter reads a call of typeof (and an error after it).
        if (callee.type === "identifier" && TYPE_FROM_EXPRESSION.has(callee.text))
          throw new LowerError(`${n.text} in a declaration: a type taken from an expression`, line);
        // `(u32)(x)`: tree-sitter cannot know u32 is a type and reads a call; it is a cast.
        const cast = this.typedefIn(callee);
        if (cast !== null) {
          const e = args.reduceRight<Expr | null>(
            (r, a) => (r === null ? a : { k: "comma", l: a, r, line }),
            null,
          );
          if (e === null) throw new LowerError(`cast to ${callee.text} of nothing`, line);
          return { k: "cast", t: cast, e, line };
        }
        return { k: "call", fn: this.expr(callee), args, line };
      }
      case "field_expression":
      case "subscript_expression": {
        const cast = this.castUnder(n);
        if (cast !== null) return { k: "cast", t: cast.t, e: cast.e, line };
        return this.postfixOn(n, this.expr(need(field(n, "argument"), "object", n)));
      }
      case "cast_expression":
        return {
          k: "cast",
          t: this.typeDescriptor(need(field(n, "type"), "type", n)),
          e: this.expr(need(field(n, "value"), "value", n)),
          line,
        };
      case "sizeof_expression": {
        const t = field(n, "type");
        if (t !== null) return { k: "sizeof", t: this.typeDescriptor(t), e: null, line };
        const v = field(n, "value");
        const named_t = v === null ? null : this.typedefIn(v);
        if (named_t !== null) return { k: "sizeof", t: named_t, e: null, line };
        return { k: "sizeof", t: null, e: this.expr(need(field(n, "value"), "operand", n)), line };
      }
      case "alignof_expression":
        return { k: "alignof", t: this.typeDescriptor(need(field(n, "type"), "type", n)), line };
      case "offsetof_expression": {
        const t = this.typeDescriptor(need(field(n, "type"), "type", n));
        const member = need(field(n, "member"), "member", n);
        if (n.children.some((c) => c?.type === "ERROR"))
          throw new LowerError(`offsetof of a nested member: ${n.text}`, line);
        return { k: "offsetof", t, path: [member.text], line };
      }
      case "comma_expression":
        return {
          k: "comma",
          l: this.expr(need(field(n, "left"), "left operand", n)),
          r: this.expr(need(field(n, "right"), "right operand", n)),
          line,
        };
      case "compound_literal_expression": {
        let t = this.typeDescriptor(need(field(n, "type"), "type", n));
        const init = this.init(need(field(n, "value"), "initialiser", n));
        if (t.k === "array" && t.n === null) t = { k: "array", of: t.of, n: this.initLength(init, t) };
        return { k: "compound", t, init, id: this.id(), line };
      }
      case "ERROR":
        throw new LowerError(`syntax tree-sitter could not parse: ${n.text.slice(0, 60)}`, line);
      default:
        throw new LowerError(`expression ${n.type}: ${n.text.slice(0, 40)}`, line);
    }
  }

  /** A postfix operator (`->`, `.`, `[]`) of `n` applied to `e`, its operand lowered. */
  private postfixOn(n: Node, e: Expr): Expr {
    const line = lineOf(n);
    if (n.type === "subscript_expression")
      return { k: "index", e, i: this.expr(need(field(n, "index"), "index", n)), line };
    const op = need(field(n, "operator"), "operator", n).text;
    return {
      k: "member",
      e,
      name: intern(need(field(n, "field"), "member", n).text),
      arrow: op === "->",
      line,
    };
  }

  /**
   * `(u64)(p)->f`, `(u8)(p)->a[1]`: tree-sitter reads a call of u64 with the postfix operators on it; C binds
   * them first and casts the result. The cast and the postfix chain on its parenthesised operand, or null.
   */
  private castUnder(n: Node): { t: CType; e: Expr } | null {
    if (n.type === "call_expression") {
      const callee = field(n, "function");
      const t = callee === null ? null : this.typedefIn(callee);
      if (t === null) return null;
      const line = lineOf(n);
      const args = named(need(field(n, "arguments"), "arguments", n)).map((a) => this.expr(a));
      const e = args.reduceRight<Expr | null>(
        (r, a) => (r === null ? a : { k: "comma", l: a, r, line }),
        null,
      );
      if (e === null) throw new LowerError(`cast to ${callee?.text ?? "?"} of nothing`, line);
      return { t, e };
    }
    if (n.type !== "field_expression" && n.type !== "subscript_expression") return null;
    const arg = field(n, "argument");
    const inner = arg === null ? null : this.castUnder(arg);
    return inner === null ? null : { t: inner.t, e: this.postfixOn(n, inner.e) };
  }

  /** The typedef a parenthesised lone identifier names (`(u32)` read as an expression), or null. */
  private typedefIn(n: Node): CType | null {
    if (n.type !== "parenthesized_expression") return null;
    const inner = named(n);
    if (inner.length !== 1 || inner[0]?.type !== "identifier") return null;
    return this.typedefs.get((inner[0] as Node).text) ?? null;
  }

  /** Folds an integer constant expression (array sizes, case labels, enumerators). */
  constInt(e: Expr): bigint {
    const v = this.fold(e);
    if (v === null) throw new LowerError("not an integer constant expression", e.line);
    return v.v;
  }

  private fold(e: Expr): { v: bigint; t: IntType } | null {
    switch (e.k) {
      case "num":
        return e.t.k === "int" ? { v: e.v, t: e.t } : null;
      case "id": {
        const c = this.enums[e.name];
        return c !== undefined && c.t.k === "int" ? { v: c.v, t: c.t } : null;
      }
      case "sizeof":
        return e.t === null ? null : { v: BigInt(this.structs.sizeOf(e.t)), t: T.ulong };
      case "alignof":
        return { v: BigInt(this.structs.alignOf(e.t)), t: T.ulong };
      case "offsetof": {
        if (e.t.k !== "struct") return null;
        const f = this.structs.member(e.t, e.path[0] as string);
        return f === null ? null : { v: BigInt(f.offset), t: T.ulong };
      }
      case "cast": {
        const v = this.fold(e.e);
        return v === null || e.t.k !== "int" ? null : { v: wrap(v.v, e.t), t: e.t };
      }
      case "unary": {
        const v = this.fold(e.e);
        if (v === null) return null;
        const t = usual(v.t, v.t);
        if (e.op === "!") return { v: v.v === 0n ? 1n : 0n, t: T.int };
        if (e.op === "-") return { v: wrap(-v.v, t), t };
        if (e.op === "~") return { v: wrap(~v.v, t), t };
        return { v: v.v, t };
      }
      case "logical": {
        const l = this.fold(e.l);
        const r = this.fold(e.r);
        if (l === null || r === null) return null;
        const b = e.op === "&&" ? l.v !== 0n && r.v !== 0n : l.v !== 0n || r.v !== 0n;
        return { v: b ? 1n : 0n, t: T.int };
      }
      case "cond": {
        const c = this.fold(e.c);
        if (c === null) return null;
        return c.v !== 0n ? (e.t === null ? c : this.fold(e.t)) : this.fold(e.f);
      }
      case "binary": {
        const l = this.fold(e.l);
        const r = this.fold(e.r);
        if (l === null || r === null) return null;
        return foldBinary(e.op, l, r);
      }
      default:
        return null;
    }
  }
}

/** An integer binary operation on constants, by C's rules (the interpreter's arithmetic does the same). */
export function foldBinary(
  op: BinOp,
  l: { v: bigint; t: IntType },
  r: { v: bigint; t: IntType },
): { v: bigint; t: IntType } | null {
  if (op === "<<" || op === ">>") {
    const t = l.t.rank < 3 ? T.int : l.t;
    if (r.v < 0n || r.v >= BigInt(t.bits)) return null;
    return { v: wrap(op === "<<" ? l.v << r.v : l.v >> r.v, t), t };
  }
  const t = usual(l.t, r.t);
  const a = wrap(l.v, t);
  const b = wrap(r.v, t);
  switch (op) {
    case "+":
      return { v: wrap(a + b, t), t };
    case "-":
      return { v: wrap(a - b, t), t };
    case "*":
      return { v: wrap(a * b, t), t };
    case "/":
      return b === 0n ? null : { v: wrap(a / b, t), t };
    case "%":
      return b === 0n ? null : { v: wrap(a % b, t), t };
    case "&":
      return { v: wrap(a & b, t), t };
    case "|":
      return { v: wrap(a | b, t), t };
    case "^":
      return { v: wrap(a ^ b, t), t };
    case "==":
      return cmp(a === b);
    case "!=":
      return cmp(a !== b);
    case "<":
      return cmp(a < b);
    case ">":
      return cmp(a > b);
    case "<=":
      return cmp(a <= b);
    case ">=":
      return cmp(a >= b);
  }
}

/** A comparison's result (an int, 0 or 1): a function of the module, not a closure made per fold. */
function cmp(x: boolean): { v: bigint; t: IntType } {
  return { v: x ? 1n : 0n, t: T.int };
}

/** Applies `wrap` to the leftmost operand of a chain of binary operators (where a prefix operator binds). */
function castLeftmost(e: Expr, apply: (e: Expr) => Expr): Expr {
  if (e.k === "binary" || e.k === "logical") return { ...e, l: castLeftmost(e.l, apply) } as Expr;
  return apply(e);
}

/** Attaches to a statement the jump targets (goto labels and case labels) it contains. */
function withLabels(s: Stmt): Stmt {
  const labels: number[] = [];
  const add = (c: Stmt | null): void => {
    if (c?.labels !== undefined) labels.push(...c.labels);
  };
  switch (s.k) {
    case "block":
      s.body.forEach(add);
      break;
    case "if":
      add(s.yes);
      add(s.no);
      break;
    case "while":
    case "do":
      add(s.body);
      break;
    case "for":
      add(s.body);
      break;
    case "switch":
      // A switch's case labels are its own; only goto labels inside are visible to the enclosing code.
      if (s.body.labels !== undefined) {
        const own = new Set(s.cases.map((c) => c.label));
        labels.push(...s.body.labels.filter((l) => !own.has(l)));
      }
      break;
    case "case":
      labels.push(s.label);
      s.body.forEach(add);
      break;
    case "label":
      labels.push(s.label);
      add(s.body);
      break;
    default:
      break;
  }
  return labels.length === 0 ? s : { ...s, labels };
}

/**
 * The cleanup function a declarator's own attribute names: `p [[gnu::cleanup(f)]]`, what the prelude's
 * __free() expands to (tree-sitter reads no GNU __attribute__ after a declarator, the kernel's spelling).
 */
function cleanupOf(d: Node): string | null {
  for (let cur: Node | null = d; cur !== null; ) {
    if (cur.type === "attributed_declarator") {
      for (const a of named(cur))
        if (a.type === "attribute_declaration")
          for (const at of named(a)) {
            if (at.type !== "attribute" || field(at, "name")?.text !== "cleanup") continue;
            const args = named(at).find((c) => c.type === "argument_list");
            const fn = args === undefined ? undefined : named(args)[0];
            if (fn?.type === "identifier") return fn.text;
          }
      cur = named(cur).find((c) => c.type !== "attribute_declaration") ?? null;
    } else cur = field(cur, "declarator");
  }
  return null;
}
