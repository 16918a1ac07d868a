/**
 * The interpreter's syntax tree: C lowered from tree-sitter's tree once (types resolved, macros expanded,
 * constants folded where C requires constants), as plain data with the line of each node. Evaluating it
 * never touches tree-sitter again (whose node accessors cross into wasm on each call). A lowered program is
 * plain acyclic data (struct types are ids into `Program.structs`; integer constants are bigints, so JSON
 * needs a codec for them, not written yet): it is meant to travel to a runtime without the parser (Workers).
 */
import type { CType, StructDef } from "./types.ts";

/** Source position: the C file and its 1-based line. */
export interface Site {
  readonly file: string;
  readonly line: number;
}

export type Expr = { readonly line: number } & (
  | { readonly k: "num"; readonly v: bigint; readonly t: CType }
  | { readonly k: "str"; readonly bytes: readonly number[]; readonly id: number }
  | { readonly k: "id"; readonly name: string }
  | { readonly k: "unary"; readonly op: "-" | "+" | "~" | "!"; readonly e: Expr }
  | { readonly k: "deref"; readonly e: Expr }
  | { readonly k: "addr"; readonly e: Expr }
  | { readonly k: "incdec"; readonly op: "++" | "--"; readonly prefix: boolean; readonly e: Expr }
  | { readonly k: "binary"; readonly op: BinOp; readonly l: Expr; readonly r: Expr }
  | { readonly k: "logical"; readonly op: "&&" | "||"; readonly l: Expr; readonly r: Expr }
  | { readonly k: "assign"; readonly op: BinOp | null; readonly l: Expr; readonly r: Expr }
  | { readonly k: "cond"; readonly c: Expr; readonly t: Expr | null; readonly f: Expr }
  | { readonly k: "call"; readonly fn: Expr; readonly args: readonly Expr[] }
  | { readonly k: "member"; readonly e: Expr; readonly name: string; readonly arrow: boolean }
  | { readonly k: "index"; readonly e: Expr; readonly i: Expr }
  | { readonly k: "cast"; readonly t: CType; readonly e: Expr }
  | { readonly k: "sizeof"; readonly t: CType | null; readonly e: Expr | null }
  | { readonly k: "alignof"; readonly t: CType }
  | { readonly k: "offsetof"; readonly t: CType; readonly path: readonly string[] }
  | { readonly k: "comma"; readonly l: Expr; readonly r: Expr }
  | { readonly k: "compound"; readonly t: CType; readonly init: Init; readonly id: number }
  | { readonly k: "stmtexpr"; readonly body: Stmt }
  | { readonly k: "unsupported"; readonly what: string }
);

export type BinOp =
  | "+"
  | "-"
  | "*"
  | "/"
  | "%"
  | "<<"
  | ">>"
  | "&"
  | "|"
  | "^"
  | "=="
  | "!="
  | "<"
  | ">"
  | "<="
  | ">=";

/** A designator path step: `.name` or `[index]`. */
export type Designator = { readonly field: string } | { readonly index: number };

/** An initialiser: an expression, or a brace list of (designated) items. */
export type Init =
  | { readonly k: "expr"; readonly e: Expr }
  | { readonly k: "list"; readonly line: number; readonly items: readonly InitItem[] };

export interface InitItem {
  readonly design: readonly Designator[];
  readonly init: Init;
}

export interface Decl {
  readonly name: string;
  readonly t: CType;
  readonly init: Init | null;
  readonly storage: "auto" | "static" | "extern" | "typedef";
  /** `__attribute__((cleanup(fn)))`: called with the variable's address when its scope ends. */
  readonly cleanup: string | null;
  readonly line: number;
  /** Unique per declaration of the program (the key of a static local's storage). */
  readonly id: number;
}

export type Stmt = { readonly line: number; readonly labels?: readonly number[] } & (
  | { readonly k: "expr"; readonly e: Expr }
  | { readonly k: "decl"; readonly decls: readonly Decl[] }
  | { readonly k: "block"; readonly body: readonly Stmt[] }
  | { readonly k: "if"; readonly c: Expr; readonly yes: Stmt; readonly no: Stmt | null }
  | { readonly k: "while"; readonly c: Expr; readonly body: Stmt }
  | { readonly k: "do"; readonly c: Expr; readonly body: Stmt }
  | {
      readonly k: "for";
      readonly init: Stmt | null;
      readonly c: Expr | null;
      readonly step: Expr | null;
      readonly body: Stmt;
    }
  | { readonly k: "switch"; readonly c: Expr; readonly body: Stmt; readonly cases: readonly SwitchCase[] }
  /** `case V:`/`default:` and the statements tree-sitter groups under it; `label` is its jump target. */
  | { readonly k: "case"; readonly label: number; readonly body: readonly Stmt[] }
  | { readonly k: "label"; readonly name: string; readonly label: number; readonly body: Stmt | null }
  | { readonly k: "goto"; readonly name: string; readonly label: number }
  | { readonly k: "return"; readonly e: Expr | null }
  | { readonly k: "break" }
  | { readonly k: "continue" }
  | { readonly k: "empty" }
  | { readonly k: "unsupported"; readonly what: string }
);

export interface SwitchCase {
  /** null: `default`. */
  readonly value: bigint | null;
  readonly label: number;
}

export interface FunctionDef {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly t: CType & { k: "fn" };
  readonly params: readonly { name: string | null; t: CType }[];
  readonly body: Stmt;
  readonly static: boolean;
}

/** A file-scope object (or a function's static local). */
export interface GlobalDef {
  readonly name: string;
  readonly file: string;
  readonly decl: Decl;
}

export interface Program {
  readonly structs: StructDef[];
  /** Functions by name (a static function is also reachable by name: the loaded files are one module). */
  readonly functions: Record<string, FunctionDef>;
  /** File-scope objects in definition order (extern declarations without definition are not here). */
  readonly globals: GlobalDef[];
  /** Static locals by declaration id. */
  readonly staticLocals: Record<number, Decl & { file: string }>;
  readonly enums: Record<string, { v: bigint; t: CType }>;
  /** Prototypes declared (not defined) in the files: the environment provides them. */
  readonly prototypes: Record<string, CType & { k: "fn" }>;
  /** Files of the interpreter's own prelude (trace steps name the caller's line instead). */
  readonly preludeFiles: readonly string[];
  /** Headers (the prelude, `.h` files): their static functions are visible from every file, as #include makes them. */
  readonly headerFiles: readonly string[];
}
