/**
 * A lowered program as JSON, so that C parsed and lowered on Node runs where the parser cannot load
 * (Workers: no wasm compiled from bytes). Integer constants are bigints, written as decimal strings where
 * the syntax tree has them. The format is versioned, and decoding validates the whole tree against the
 * shapes of ast.ts and types.ts (and the struct ids against the struct table): a corrupted, truncated or
 * foreign payload is refused with what is wrong and where, never half-run.
 */
import { z } from "zod";
import type { Decl, Expr, FunctionDef, GlobalDef, Init, Program, Stmt } from "./ast.ts";
import type { Loaded } from "./index.ts";
import type { LowerProblem } from "./lower.ts";
import type { CType, Field, StructDef } from "./types.ts";

/** The format's name and version: a payload of another name or version is not decoded. */
export const PROGRAM_FORMAT = "rproc-review/lowered-c";
export const PROGRAM_FORMAT_VERSION = 1;

/** The JSON form of a lowered program (what travels with a job). */
export interface ProgramJson {
  readonly format: typeof PROGRAM_FORMAT;
  readonly version: number;
  readonly program: unknown;
  readonly problems: readonly LowerProblem[];
}

/** Writes a program as JSON-safe data (bigints as decimal strings). */
export function encodeProgram(loaded: Loaded): ProgramJson {
  const program = JSON.parse(
    JSON.stringify(loaded.program, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
  ) as unknown;
  return {
    format: PROGRAM_FORMAT,
    version: PROGRAM_FORMAT_VERSION,
    program,
    problems: loaded.problems.map((p) => ({ file: p.file, line: p.line, what: p.what })),
  };
}

export type DecodeResult = { ok: true; loaded: Loaded } | { ok: false; why: string };

const big = z
  .string()
  .regex(/^-?\d+$/, "an integer constant (decimal string)")
  .transform((s) => BigInt(s));
const line = z.number().int().nonnegative();
const count = z.number().int().nonnegative();

const cType: z.ZodType<CType> = z.lazy(() =>
  z.discriminatedUnion("k", [
    z.object({ k: z.literal("void") }),
    z.object({
      k: z.literal("int"),
      bits: z.union([z.literal(8), z.literal(16), z.literal(32), z.literal(64)]),
      signed: z.boolean(),
      rank: count,
      name: z.string(),
    }),
    z.object({ k: z.literal("float"), bits: z.union([z.literal(32), z.literal(64)]) }),
    z.object({ k: z.literal("ptr"), to: cType }),
    z.object({ k: z.literal("array"), of: cType, n: count.nullable() }),
    z.object({ k: z.literal("struct"), id: count, tag: z.string() }),
    fnType,
  ]),
);
const fnType = z.object({
  k: z.literal("fn"),
  get ret() {
    return cType;
  },
  params: z.array(z.lazy(() => cType)).nullable(),
  variadic: z.boolean(),
});

const binOp = z.enum(["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "==", "!=", "<", ">", "<=", ">="]);

const designator = z.union([z.object({ field: z.string() }), z.object({ index: z.number().int() })]);

const init: z.ZodType<Init> = z.lazy(() =>
  z.discriminatedUnion("k", [
    z.object({ k: z.literal("expr"), e: expr }),
    z.object({
      k: z.literal("list"),
      line,
      items: z.array(z.object({ design: z.array(designator), init })),
    }),
  ]),
);

const expr: z.ZodType<Expr> = z.lazy(() =>
  z
    .discriminatedUnion("k", [
      z.object({ k: z.literal("num"), v: big, t: cType }),
      z.object({ k: z.literal("str"), bytes: z.array(z.number().int().min(0).max(255)), id: count }),
      z.object({ k: z.literal("id"), name: z.string() }),
      z.object({ k: z.literal("unary"), op: z.enum(["-", "+", "~", "!"]), e: expr }),
      z.object({ k: z.literal("deref"), e: expr }),
      z.object({ k: z.literal("addr"), e: expr }),
      z.object({ k: z.literal("incdec"), op: z.enum(["++", "--"]), prefix: z.boolean(), e: expr }),
      z.object({ k: z.literal("binary"), op: binOp, l: expr, r: expr }),
      z.object({ k: z.literal("logical"), op: z.enum(["&&", "||"]), l: expr, r: expr }),
      z.object({ k: z.literal("assign"), op: binOp.nullable(), l: expr, r: expr }),
      z.object({ k: z.literal("cond"), c: expr, t: expr.nullable(), f: expr }),
      z.object({ k: z.literal("call"), fn: expr, args: z.array(expr) }),
      z.object({ k: z.literal("member"), e: expr, name: z.string(), arrow: z.boolean() }),
      z.object({ k: z.literal("index"), e: expr, i: expr }),
      z.object({ k: z.literal("cast"), t: cType, e: expr }),
      z.object({ k: z.literal("sizeof"), t: cType.nullable(), e: expr.nullable() }),
      z.object({ k: z.literal("alignof"), t: cType }),
      z.object({ k: z.literal("offsetof"), t: cType, path: z.array(z.string()) }),
      z.object({ k: z.literal("comma"), l: expr, r: expr }),
      z.object({ k: z.literal("compound"), t: cType, init, id: count }),
      z.object({ k: z.literal("stmtexpr"), body: stmt }),
      z.object({ k: z.literal("unsupported"), what: z.string() }),
    ])
    .and(z.object({ line })),
);

const decl: z.ZodType<Decl> = z.lazy(() =>
  z.object({
    name: z.string(),
    t: cType,
    init: init.nullable(),
    storage: z.enum(["auto", "static", "extern", "typedef"]),
    cleanup: z.string().nullable(),
    line,
    id: count,
  }),
);

const stmt: z.ZodType<Stmt> = z.lazy(() =>
  z
    .discriminatedUnion("k", [
      z.object({ k: z.literal("expr"), e: expr }),
      z.object({ k: z.literal("decl"), decls: z.array(decl) }),
      z.object({ k: z.literal("block"), body: z.array(stmt) }),
      z.object({ k: z.literal("if"), c: expr, yes: stmt, no: stmt.nullable() }),
      z.object({ k: z.literal("while"), c: expr, body: stmt }),
      z.object({ k: z.literal("do"), c: expr, body: stmt }),
      z.object({
        k: z.literal("for"),
        init: stmt.nullable(),
        c: expr.nullable(),
        step: expr.nullable(),
        body: stmt,
      }),
      z.object({
        k: z.literal("switch"),
        c: expr,
        body: stmt,
        cases: z.array(z.object({ value: big.nullable(), label: count })),
      }),
      z.object({ k: z.literal("case"), label: count, body: z.array(stmt) }),
      z.object({ k: z.literal("label"), name: z.string(), label: count, body: stmt.nullable() }),
      z.object({ k: z.literal("goto"), name: z.string(), label: count }),
      z.object({ k: z.literal("return"), e: expr.nullable() }),
      z.object({ k: z.literal("break") }),
      z.object({ k: z.literal("continue") }),
      z.object({ k: z.literal("empty") }),
      z.object({ k: z.literal("unsupported"), what: z.string() }),
    ])
    .and(z.object({ line, labels: z.array(count).optional() })),
);

const field: z.ZodType<Field> = z.object({
  name: z.string().nullable(),
  type: cType,
  offset: count,
  bits: z.object({ width: count, shift: count }).optional(),
});

const structDef: z.ZodType<StructDef> = z.object({
  id: count,
  tag: z.string(),
  union: z.boolean(),
  complete: z.boolean(),
  fields: z.array(field),
  size: count,
  align: z.number().int().positive(),
});

const functionDef: z.ZodType<FunctionDef> = z.object({
  name: z.string(),
  file: z.string(),
  line,
  t: fnType,
  params: z.array(z.object({ name: z.string().nullable(), t: cType })),
  body: stmt,
  static: z.boolean(),
});

const globalDef: z.ZodType<GlobalDef> = z.object({ name: z.string(), file: z.string(), decl });

const programSchema = z.object({
  structs: z.array(structDef),
  functions: z.record(z.string(), functionDef),
  globals: z.array(globalDef),
  staticLocals: z.record(z.string().regex(/^\d+$/), decl.and(z.object({ file: z.string() }))),
  enums: z.record(z.string(), z.object({ v: big, t: cType })),
  prototypes: z.record(z.string(), fnType),
  preludeFiles: z.array(z.string()),
  headerFiles: z.array(z.string()),
});

const problemSchema = z.array(z.object({ file: z.string(), line, what: z.string() }));

/** The first problem zod found, with its path in the payload (enough to see what is wrong). */
function firstIssue(e: z.ZodError): string {
  const i = e.issues[0];
  if (i === undefined) return "invalid";
  const at = i.path.length > 0 ? i.path.map(String).join(".") : "(top)";
  return `${at}: ${i.message}`;
}

/** Every struct reference points into the program's struct table, whose ids are its indices. */
function structRefsProblem(program: Program): string | null {
  const n = program.structs.length;
  for (const [i, s] of program.structs.entries())
    if (s.id !== i) return `structs.${i}: id ${s.id} is not its index`;
  let bad: string | null = null;
  const seen = new Set<object>();
  const visit = (x: unknown, path: string): void => {
    if (bad !== null || typeof x !== "object" || x === null || seen.has(x)) return;
    seen.add(x);
    const o = x as Record<string, unknown>;
    if (o.k === "struct" && typeof o.id === "number" && typeof o.tag === "string") {
      const def = program.structs[o.id];
      if (o.id >= n || def === undefined)
        bad = `${path}: struct ${o.tag} has id ${o.id}, past the ${n} structs`;
      else if (def.tag !== o.tag) bad = `${path}: struct id ${o.id} is ${def.tag}, not ${o.tag}`;
      return;
    }
    for (const [k, v] of Object.entries(o)) visit(v, path === "" ? k : `${path}.${k}`);
  };
  visit(program, "");
  return bad;
}

/** Reads a program written by encodeProgram; anything else is refused with the reason. */
export function decodeProgram(json: unknown): DecodeResult {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    return { ok: false, why: "not a lowered program (expected a JSON object)" };
  const o = json as Record<string, unknown>;
  if (o.format !== PROGRAM_FORMAT)
    return {
      ok: false,
      why: `not a lowered program (format ${JSON.stringify(o.format)}, not ${PROGRAM_FORMAT})`,
    };
  if (o.version !== PROGRAM_FORMAT_VERSION)
    return {
      ok: false,
      why: `lowered program format version ${JSON.stringify(o.version)}, this build reads version ${PROGRAM_FORMAT_VERSION} (lower the C again with this version)`,
    };
  const p = programSchema.safeParse(o.program);
  if (!p.success)
    return { ok: false, why: `the lowered program is malformed at program.${firstIssue(p.error)}` };
  const problems = problemSchema.safeParse(o.problems);
  if (!problems.success)
    return { ok: false, why: `the lowered program is malformed at problems.${firstIssue(problems.error)}` };
  const program = p.data as Program;
  const refs = structRefsProblem(program);
  if (refs !== null) return { ok: false, why: `the lowered program is inconsistent: program.${refs}` };
  return { ok: true, loaded: { program, problems: problems.data } };
}
