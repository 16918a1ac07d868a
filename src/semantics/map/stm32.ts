/**
 * Rules for stm32.*: drivers/remoteproc/stm32_rproc.c (hunks, placed by function) and the st,stm32-rproc.yaml
 * binding (the if/then block of the TEE compatible, reconstructed from the hunks' lines).
 */

import type { Node, Parser } from "web-tree-sitter";
import { escapeRegExp } from "../../regexp.ts";
import type { RprocOpName, Stm32Facts } from "../facts.ts";
import { RprocOpName as RprocOpNameEnum } from "../facts.ts";
import { MODELLED_OP_FUNCTIONS, STEPS_WITHOUT_ERROR } from "../stm32_rproc.ts";
import { calleeName, callsIn } from "./c.ts";
import {
  baseline,
  consume,
  depth,
  evidenceOf,
  isCommentOrBlank,
  STM32_BINDING,
  STM32_C,
  setTo,
  stripComments,
  unknownAs,
} from "./derive.ts";
import type { Derived, Evidence } from "./types.ts";
import { type FileView, runAt, type SeriesView, sortedLines, type VLine } from "./view.ts";

export type Stm32Derived = { [K in keyof Stm32Facts]: Derived<Stm32Facts[K]> };
type Row = [number, VLine];

const LOGS = /^(?:dev_(?:err|warn|info|dbg|notice)|pr_(?:err|warn|info|debug)|dev_err_probe)$/;

/** A statement that only logs (a dev_err()/pr_warn() call). */
function isLog(n: Node): boolean {
  const e = n.type === "expression_statement" ? n.namedChildren[0] : null;
  const name = e?.type === "call_expression" ? calleeName(e) : null;
  return name !== null && LOGS.test(name);
}

function added(file: FileView | undefined): Row[] {
  return file ? sortedLines(file).filter(([, l]) => l.added !== null) : [];
}

/** The block that starts at `start` (a line ending in `{`): every following line deeper than it, and the closing brace. */
function blockFrom(rows: Row[], start: number): Row[] {
  const at = rows.findIndex(([n]) => n === start);
  const head = rows[at];
  if (head === undefined) return [];
  const d = depth(head[1].text);
  const out: Row[] = [head];
  for (const row of rows.slice(at + 1)) {
    if (row[0] !== (out[out.length - 1]?.[0] ?? 0) + 1) break;
    out.push(row);
    if (depth(row[1].text) <= d && /^\s*\}/.test(row[1].text) && !/\{\s*$/.test(row[1].text)) break;
  }
  return out;
}

/**
 * Where and why the probe's branch for the TEE compatible is not what the model's stm32_rproc_probe runs for
 * it, or null when it is: the proc id read (`ret = of_property_read_u32(np, "...", &id);` and its check), then
 * `rproc = devm_rproc_alloc(dev, np->name, &<the TEE ops table>, NULL, sizeof(*ddata));` and
 * `if (!rproc) return -ENOMEM;`, then `ret = rproc_tee_register(dev, rproc, id);` and its check returning the
 * error, log calls anywhere; and an else that allocates with st_rproc_ops in the same way. `rows` are the
 * branch's lines (the if statement through its closing brace), `table` the TEE ops table's name.
 */
function teeBranchProblem(
  parser: Parser,
  rows: readonly Row[],
  table: string | null,
): { line: VLine | undefined; why: string } | null {
  const tree = parser.parse(`void f(void)\n{\n${rows.map(([, l]) => l.text).join("\n")}\n}`);
  try {
    const body = tree?.rootNode.descendantsOfType("function_definition")[0]?.childForFieldName("body");
    const branch = body?.namedChildren.find((n) => n?.type === "if_statement");
    if (branch == null) return { line: rows[0]?.[1], why: "the branch cannot be parsed" };
    // The posted line a node starts on (the wrapper adds two lines before the rows).
    const at = (n: Node, why: string) => ({ line: rows[n.startPosition.row - 2]?.[1], why });
    // A statement's text without comments and blanks.
    const flat = (n: Node | null | undefined): string => stripComments(n?.text ?? "").replace(/\s+/g, "");
    const stmtsOf = (n: Node | null | undefined): Node[] => {
      const inner = n?.type === "else_clause" ? n.namedChildren[0] : n;
      const all = inner?.type === "compound_statement" ? inner.namedChildren : inner ? [inner] : [];
      // Declarations without a value declare only (one with a value is a statement the model lacks).
      const plainDecl = (x: Node): boolean =>
        x.type === "declaration" && x.descendantsOfType("init_declarator").length === 0;
      return all.filter((x): x is Node => x !== null && x.type !== "comment" && !isLog(x) && !plainDecl(x));
    };
    // `if (v) ...` whose body (logs aside) is only a return of the error: `return v;` or `return -E...;`, or
    // `return dev_err_probe(dev, v, ...);`.
    const returnsError = (n: Node | undefined, v: string): boolean => {
      if (n?.type !== "if_statement" || n.childForFieldName("alternative") !== null) return false;
      if (flat(n.childForFieldName("condition")) !== `(${v})`) return false;
      const then = stmtsOf(n.childForFieldName("consequence"));
      const r = flat(then[0]);
      return (
        then.length === 1 &&
        (r === `return${v};` || /^return-E[A-Z]+;$/.test(r) || r.startsWith(`returndev_err_probe(dev,${v},`))
      );
    };
    const alloc = (n: Node | undefined, ops: string): boolean =>
      flat(n) === `rproc=devm_rproc_alloc(dev,np->name,&${ops},NULL,sizeof(*ddata));`;
    const then = stmtsOf(branch.childForFieldName("consequence"));
    let i = 0;
    let id = "0";
    const read = /^ret=of_property_read_u32\(np,"[^"]+",&(\w+)\);$/.exec(flat(then[0]));
    if (read) {
      const check = then[1];
      // Not required: a check that only logs (the model reads 0 then).
      const logsOnly =
        check?.type === "if_statement" &&
        flat(check.childForFieldName("condition")) === "(ret)" &&
        check.childForFieldName("alternative") === null &&
        stmtsOf(check.childForFieldName("consequence")).length === 0;
      if (check === undefined || !(returnsError(check, "ret") || logsOnly))
        return at(check ?? (then[0] as Node), "the proc id read is not checked as the model checks it");
      id = read[1] ?? "";
      i = 2;
    }
    if (table === null) return at(branch, "no TEE ops table is read for the branch");
    const steps: [(n: Node | undefined) => boolean, string][] = [
      [(n) => alloc(n, table), `rproc = devm_rproc_alloc(dev, np->name, &${table}, NULL, sizeof(*ddata));`],
      [(n) => flat(n) === "if(!rproc)return-ENOMEM;", "if (!rproc) return -ENOMEM;"],
      [
        (n) => flat(n) === `ret=rproc_tee_register(dev,rproc,${id});`,
        `ret = rproc_tee_register(dev, rproc, ${id});`,
      ],
      [(n) => returnsError(n, "ret"), "if (ret) return ret;"],
    ];
    for (const [ok, want] of steps) {
      const n = then[i];
      const last = then[i - 1];
      if (!ok(n))
        return n
          ? at(
              n,
              `where the model runs ${i === 0 ? `ret = of_property_read_u32(np, "...", &id); or ${want}` : want}`,
            )
          : at(last ?? branch, `the branch ends here, where the model then runs ${want}`);
      i++;
    }
    if (then[i] !== undefined) return at(then[i] as Node, "the model's branch ends before it");
    const other = stmtsOf(branch.childForFieldName("alternative"));
    if (
      other.length !== 2 ||
      !alloc(other[0], "st_rproc_ops") ||
      flat(other[1]) !== "if(!rproc)return-ENOMEM;"
    )
      return at(
        other[0] ?? branch,
        "the other compatibles are not allocated with st_rproc_ops as the model does",
      );
    return null;
  } finally {
    tree?.delete();
  }
}

function teeCompatible(
  parser: Parser,
  file: FileView | undefined,
  table: string | null,
): Derived<string | null> {
  const compat = added(file).filter(
    ([, l]) => l.fn === "stm32_rproc_match" && /\.compatible\s*=\s*"/.test(l.text),
  );
  if (compat.length === 0) return baseline(null);
  const names = compat.map(([, l]) => /"([^"]+)"/.exec(l.text)?.[1] ?? "");
  const branch = added(file).find(([, l]) => /of_device_is_compatible\s*\([^,]+,\s*"([^"]+)"/.test(l.text));
  const chosen = branch ? /"([^"]+)"/.exec(branch[1].text)?.[1] : names.length === 1 ? names[0] : undefined;
  const at = compat.find(([, l]) => chosen !== undefined && l.text.includes(`"${chosen}"`));
  const evidence = [...evidenceOf((at ?? compat[0])![1]), ...(branch ? evidenceOf(branch[1]) : [])];
  if (chosen === undefined || at === undefined) {
    for (const [, l] of compat) consume(l);
    return unknownAs(null, evidence);
  }
  // Only the compatible the probe branches on is read: another one the series adds matches devices the
  // model's driver would not know (a change of the match table no fact describes).
  consume(at[1]);
  // The probe branch taken for that compatible is read by the procId and unregister rules; the branch itself
  // (alloc with the TEE ops, rproc_tee_register) is what a TEE compatible means. A branch of another shape is a
  // change no fact describes, at the line where it departs (unmodelled code of stm32_rproc_probe: unknown where
  // the model runs the probe, decided by the C where the C runs).
  if (branch && file) {
    const rows = blockFrom(sortedLines(file), branch[0]);
    for (const [, l] of rows) if (l.added) consume(l);
    const problem = teeBranchProblem(parser, rows, table);
    const line = problem?.line?.added ? problem.line : branch[1];
    if (problem !== null)
      line.unread = `the probe's branch for ${chosen} departs from the model's here: ${problem.why}`;
  }
  return setTo(chosen, evidence);
}

function teeOps(
  parser: Parser,
  file: FileView | undefined,
): { ops: Derived<Stm32Facts["teeOps"]>; rows: Row[]; table: string | null } {
  const member = /^\s*\.(\w+)\s*=\s*(rproc_tee_\w+)\s*,?\s*$/;
  const hit = added(file).find(([, l]) => l.fn !== null && member.test(l.text));
  if (file === undefined || hit === undefined || hit[1].fn === null)
    return { ops: baseline(null), rows: [], table: null };
  const run = runAt(file, hit[1].fn, hit[0]);
  const tree = parser.parse(run.map(([, l]) => l.text).join("\n"));
  const ops: Partial<Record<RprocOpName, string>> = {};
  let unread = false;
  for (const pair of tree?.rootNode.descendantsOfType("initializer_pair") ?? []) {
    const field = pair?.childForFieldName("designator")?.text.replace(/^\./, "");
    const value = pair?.childForFieldName("value")?.text;
    if (field === undefined || value === undefined) continue;
    if (RprocOpNameEnum.safeParse(field).success) ops[field as RprocOpName] = value;
    else unread = true;
  }
  tree?.delete();
  for (const [, l] of run) consume(l);
  const evidence = run.flatMap(([, l]) => evidenceOf(l)).slice(0, 1);
  // A function the model has no code for (but a stop function the file defines: its body is read as the
  // model's steps, teeStopSteps) leaves the op out and the table unknown.
  const defines = (name: string): boolean =>
    sortedLines(file).some(([, l]) => l.fn === name && l.added !== null);
  const unmodelled = (Object.entries(ops) as [RprocOpName, string][]).filter(
    ([op, name]) => !MODELLED_OP_FUNCTIONS.includes(name) && !(op === "stop" && defines(name)),
  );
  for (const [op] of unmodelled) delete ops[op];
  const table = hit[1].fn;
  if (unmodelled.length > 0)
    return {
      ops: {
        ...unknownAs(ops, evidence),
        why: `${table} names ${unmodelled.map(([op, name]) => `.${op} = ${name}`).join(", ")}, ${unmodelled.length === 1 ? "a function" : "functions"} the model has no code for`,
      },
      rows: run,
      table,
    };
  return { ops: unread ? unknownAs(ops, evidence) : setTo(ops, evidence), rows: run, table };
}

function teeStopSteps(
  parser: Parser,
  file: FileView | undefined,
  ops: Stm32Facts["teeOps"],
): Derived<string[]> {
  const stop = ops?.stop;
  if (stop === undefined) return baseline([]);
  const rows = file ? sortedLines(file).filter(([, l]) => l.fn === stop) : [];
  if (rows.length === 0) return /^rproc_tee_/.test(stop) ? setTo([stop], []) : unknownAs([], []);
  const tree = parser.parse(rows.map(([, l]) => l.text).join("\n"));
  const steps: string[] = [];
  for (const c of tree ? callsIn(tree.rootNode) : []) {
    const name = calleeName(c);
    if (name !== null && !LOGS.test(name) && !steps.includes(name)) steps.push(name);
  }
  const flow = tree === null ? "it cannot be parsed" : stepsFlowProblem(tree.rootNode, file, rows);
  tree?.delete();
  for (const [, l] of rows) consume(l);
  if (flow !== null)
    return {
      ...unknownAs(steps, rows.flatMap(([, l]) => evidenceOf(l)).slice(0, 1)),
      why: `${stop}() is not the sequence of steps the model runs (each called with the rproc in turn, the first error returned): ${flow}`,
    };
  return setTo(steps, rows.flatMap(([, l]) => evidenceOf(l)).slice(0, 1));
}

/**
 * Why the stop function's body is not what the model's stm32_rproc_tee_stop runs (each step called with the
 * rproc in order, the first non-zero return returned), or null when it is: declarations, log calls,
 * `err = step(rproc); if (err) return err;` (the check may log first), a call of a step the file defines
 * `void`, and a last `return step(rproc);` or `return 0;`.
 */
function stepsFlowProblem(root: Node, file: FileView | undefined, rows: readonly Row[]): string | null {
  const fn = root.descendantsOfType("function_definition")[0];
  const body = fn?.childForFieldName("body");
  const param = fn
    ?.descendantsOfType("parameter_declaration")[0]
    ?.descendantsOfType("identifier")
    .at(-1)?.text;
  if (fn == null || body == null || param === undefined) return "its definition cannot be read";
  const stmts = body.namedChildren.filter((n): n is Node => n !== null && n.type !== "comment");
  const stepCall = (n: Node | null | undefined): string | null => {
    if (n?.type !== "call_expression") return null;
    const name = calleeName(n);
    const args = n.childForFieldName("arguments")?.namedChildren ?? [];
    return name !== null && !LOGS.test(name) && args.length === 1 && args[0]?.text === param ? name : null;
  };
  const definedVoid = (name: string): boolean =>
    (file === undefined ? rows : sortedLines(file)).some(([, l]) =>
      new RegExp(`^(?:static\\s+)?(?:inline\\s+)?void\\s+${escapeRegExp(name)}\\s*\\(`).test(l.text),
    );
  for (let i = 0; i < stmts.length; i++) {
    const st = stmts[i] as Node;
    const line = rows[st.startPosition.row]?.[1].added?.line;
    const at = `${line === undefined ? "" : `line ${line}: `}${st.text.split("\n")[0]?.trim()}`;
    if (st.type === "declaration") {
      if (st.descendantsOfType("init_declarator").length > 0) return `${at} (a declaration with a value)`;
      continue;
    }
    if (isLog(st)) continue;
    if (st.type === "expression_statement") {
      const e = st.namedChildren[0];
      const plain = stepCall(e);
      if (plain !== null) {
        if (!definedVoid(plain) && !STEPS_WITHOUT_ERROR.includes(plain))
          return `${at} (the value of ${plain}() is not checked)`;
        continue;
      }
      if (e?.type === "assignment_expression" && e.childForFieldName("left")?.type === "identifier") {
        const v = e.childForFieldName("left")?.text;
        if (stepCall(e.childForFieldName("right")) === null) return `${at} (not a step of the rproc)`;
        const check = stmts[i + 1];
        // `return v ? v : step(rproc);` last: the same as `if (v) return v; return step(rproc);`.
        const t = check?.type === "return_statement" ? check.namedChildren[0] : null;
        if (
          i + 2 === stmts.length &&
          t?.type === "conditional_expression" &&
          t.childForFieldName("condition")?.text === v &&
          t.childForFieldName("consequence")?.text === v &&
          stepCall(t.childForFieldName("alternative")) !== null
        )
          return null;
        if (check === undefined || !returnsOnError(check, v ?? ""))
          return `${at} (not followed by if (${v}) return ${v};)`;
        i++;
        continue;
      }
      return `${at}`;
    }
    if (st.type === "return_statement" && i === stmts.length - 1) {
      const v = st.namedChildren[0];
      if (v === undefined || v === null || v.text === "0" || stepCall(v) !== null) continue;
      return `${at} (returns neither 0 nor a step's value)`;
    }
    return at;
  }
  return null;
}

/** Whether `n` is `if (v) return v;`, or the same with log calls before the return, and no else. */
function returnsOnError(n: Node, v: string): boolean {
  if (n.type !== "if_statement" || n.childForFieldName("alternative") !== null) return false;
  const cond = n.childForFieldName("condition")?.text.replace(/\s+/g, "");
  if (cond !== `(${v})` && cond !== `(${v}!=0)`) return false;
  const then = n.childForFieldName("consequence");
  const stmts =
    then?.type === "compound_statement"
      ? then.namedChildren.filter((x): x is Node => x !== null && x.type !== "comment")
      : then
        ? [then]
        : [];
  const last = stmts.at(-1);
  return (
    last?.type === "return_statement" && last.namedChildren[0]?.text === v && stmts.slice(0, -1).every(isLog)
  );
}

function procId(file: FileView | undefined): Pick<Stm32Derived, "procIdProperty" | "procIdRequired"> {
  const read = added(file).find(
    ([, l]) => l.fn === "stm32_rproc_probe" && /of_property_read_u32\s*\(\s*\w+\s*,\s*"[^"]+"/.test(l.text),
  );
  if (file === undefined || read === undefined)
    return { procIdProperty: baseline(null), procIdRequired: baseline(false) };
  const name = /"([^"]+)"/.exec(read[1].text)?.[1] ?? null;
  const run = runAt(file, "stm32_rproc_probe", read[0]);
  const after = run.filter(([n, l]) => n > read[0] && !isCommentOrBlank(l.text));
  const cond = after[0];
  let required: boolean | null = null;
  if (cond && /^\s*if\s*\(\s*ret\s*\)/.test(cond[1].text)) {
    const body = /\{\s*$/.test(cond[1].text) ? blockFrom(run, cond[0]).slice(1) : after.slice(1, 2);
    required = body.some(([, l]) => /\breturn\s+(?!0;)|\bgoto\b/.test(l.text));
    for (const [, l] of [cond, ...body]) consume(l);
  } else if (cond === undefined) required = null;
  else required = false;
  consume(read[1]);
  const evidence = evidenceOf(read[1]);
  return {
    procIdProperty: setTo(name, evidence),
    procIdRequired: required === null ? unknownAs(false, evidence) : setTo(required, evidence),
  };
}

/** The next `count` lines after line `n` that are not blank or comments, or null where the hunks stop first. */
function linesAfter(file: FileView, n: number, count: number): string[] | null {
  const out: string[] = [];
  for (let m = n + 1; out.length < count; m++) {
    const l = file.lines.get(m);
    if (l === undefined) return null;
    if (!isCommentOrBlank(l.text)) out.push(l.text);
  }
  return out;
}

function teeUnregister(file: FileView | undefined): Derived<Stm32Facts["teeUnregisterOnRemove"]> {
  const calls = added(file).filter(
    ([, l]) =>
      (l.fn === "stm32_rproc_remove" || l.fn === "stm32_rproc_probe") &&
      /\brproc_tee_unregister\s*\(/.test(l.text),
  );
  if (file === undefined || calls.length === 0) return baseline("never");
  const kinds = new Set<"always" | "tee-only" | "unknown">();
  const evidence: Evidence[] = [];
  const rows = sortedLines(file);
  for (const [n, l] of calls) {
    evidence.push(...evidenceOf(l));
    consume(l);
    let end = n;
    if (depth(l.text) <= 1) kinds.add("always");
    else {
      const run = runAt(file, l.fn ?? "", n);
      const guard = run
        .filter(([m, r]) => m < n && !isCommentOrBlank(r.text) && depth(r.text) < depth(l.text))
        .pop();
      // Only a plain test of the TEE compatible (or a TEE flag) guards it for TEE rprocs: a negation or a
      // compound condition is another guard ("not TEE", "TEE and ..."), which the model does not have.
      const cond = guard && /^\s*(?:\}\s*else\s*)?if\s*\((.*)\)\s*\{?\s*$/.exec(guard[1].text)?.[1];
      const teeOnly = cond != null && /compatible|tee/i.test(cond) && !/!(?!=)|&&|\|\|/.test(cond);
      kinds.add(teeOnly ? "tee-only" : "unknown");
      if (teeOnly && guard && /\{\s*$/.test(guard[1].text)) end = blockFrom(rows, guard[0]).at(-1)?.[0] ?? n;
    }
    // Where the model unregisters: last in remove (after rproc_del()), and last on the probe's error path (its
    // failures after rproc_tee_register()). A call elsewhere, or one whose following lines the hunks do not
    // show, is a change no fact describes, at its line.
    const tail = l.fn === "stm32_rproc_remove" ? ["}"] : ["return ret;", "}"];
    const next = linesAfter(file, end, tail.length);
    if (next === null || next.some((t, k) => t.trim() !== tail[k] || (tail[k] === "}" && depth(t) > 0)))
      l.unread = `the model unregisters last in ${l.fn === "stm32_rproc_remove" ? "stm32_rproc_remove(), after rproc_del()" : "stm32_rproc_probe()'s error path, before its return ret;"}, and ${next === null ? "the posted lines do not show what follows this call" : "this call is followed by other statements"}`;
  }
  if (kinds.size === 1 && !kinds.has("unknown"))
    return setTo([...kinds][0] as "always" | "tee-only", evidence);
  return unknownAs("never", evidence);
}

function parseDt(file: FileView | undefined): Derived<boolean> {
  if (file === undefined) return baseline(true);
  const touched: Evidence[] = [];
  for (const [, l] of added(file))
    if (l.fn === "stm32_rproc_parse_dt" && /rst|reset/i.test(l.text)) touched.push(...evidenceOf(l));
  for (const d of file.deletions)
    if (d.fn === "stm32_rproc_parse_dt" && d.baseline && /rst|reset/i.test(d.text)) touched.push(d.where);
  return touched.length === 0 ? baseline(true) : unknownAs(true, touched);
}

/** The `then:` block of the binding's `- if:` on `compatible: contains: const: <compatible>`. */
function bindingFacts(
  file: FileView | undefined,
  compatible: string | null,
): Pick<Stm32Derived, "bindingForbidsForTee" | "bindingRequiresForTee"> {
  const none = {
    bindingForbidsForTee: baseline<string[]>([]),
    bindingRequiresForTee: baseline<string[]>([]),
  };
  if (file === undefined || compatible === null) return none;
  const touched = sortedLines(file).flatMap(([, l]) => evidenceOf(l));
  const unread = {
    bindingForbidsForTee: unknownAs<string[]>([], touched.slice(0, 1)),
    bindingRequiresForTee: unknownAs<string[]>([], touched.slice(0, 1)),
  };
  const rows = sortedLines(file);
  const at = rows.findIndex(([, l]) =>
    new RegExp(`^\\s*const:\\s*["']?${escapeRegExp(compatible)}["']?\\s*$`).test(l.text),
  );
  if (at < 0) return unread;
  let start = at;
  while (start > 0 && !/^\s*- if:\s*$/.test(rows[start]?.[1].text ?? "")) {
    if ((rows[start - 1]?.[0] ?? 0) !== (rows[start]?.[0] ?? 0) - 1) return unread;
    start--;
  }
  const ifIndent = (/^\s*/.exec(rows[start]?.[1].text ?? "")?.[0].length ?? 0) + 2;
  const block: Row[] = [];
  for (const row of rows.slice(start + 1)) {
    const prev = block[block.length - 1]?.[0] ?? rows[start]?.[0] ?? 0;
    if (row[0] !== prev + 1) break;
    const ind = /^\s*/.exec(row[1].text)?.[0].length ?? 0;
    if (row[1].text.trim() !== "" && ind < ifIndent) break;
    block.push(row);
  }
  const thenAt = block.findIndex(([, l]) => new RegExp(`^\\s{${ifIndent}}then:\\s*$`).test(l.text));
  if (thenAt < 0) return unread;
  const forbids: string[] = [];
  const requires: string[] = [];
  let section: "properties" | "required" | null = null;
  const evidence: Evidence[] = [];
  for (const [, l] of block.slice(thenAt + 1)) {
    const ind = /^\s*/.exec(l.text)?.[0].length ?? 0;
    const t = l.text.trim();
    if (ind === ifIndent + 2)
      section = t === "properties:" ? "properties" : t === "required:" ? "required" : null;
    else if (section === "properties" && ind === ifIndent + 4) {
      const m = /^([\w,#-]+):\s*false\s*$/.exec(t);
      if (m?.[1]) forbids.push(m[1]);
    } else if (section === "required" && ind >= ifIndent + 4) {
      const m = /^-\s*([\w,#-]+)\s*$/.exec(t);
      if (m?.[1]) requires.push(m[1]);
    }
    evidence.push(...evidenceOf(l));
  }
  for (const [, l] of [rows[start]!, ...block]) consume(l);
  // The compatible's own enum entry and the property the block requires are part of what it says.
  for (const [n, l] of rows) {
    if (l.added && l.text.includes(compatible)) consume(l);
    if (!requires.some((p) => l.text.trim() === `${p}:`)) continue;
    // The required property's own definition: its key and the lines indented below it.
    const ind = /^\s*/.exec(l.text)?.[0].length ?? 0;
    for (const [m, p] of rows) {
      if (m < n) continue;
      if (m > n && (p.text.trim() === "" || (/^\s*/.exec(p.text)?.[0].length ?? 0) <= ind)) break;
      consume(p);
    }
  }
  // Examples illustrate the binding; they constrain nothing.
  for (const [, l] of rows) if (l.fn === "examples:") consume(l);
  if (evidence.length === 0) return unread;
  return { bindingForbidsForTee: setTo(forbids, evidence), bindingRequiresForTee: setTo(requires, evidence) };
}

export function deriveStm32(parser: Parser, view: SeriesView): Stm32Derived {
  const file = view.files.get(STM32_C);
  const ops = teeOps(parser, file);
  const compat = teeCompatible(parser, file, ops.table);
  return {
    teeCompatible: compat,
    teeOps: ops.ops,
    ...procId(file),
    parseDtRequiresMcuReset: parseDt(file),
    ...bindingFacts(view.files.get(STM32_BINDING), compat.value),
    teeStopSteps: teeStopSteps(parser, file, ops.ops.value),
    teeUnregisterOnRemove: teeUnregister(file),
  };
}
