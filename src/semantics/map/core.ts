/**
 * Rules for core.*: remoteproc_core.c, remoteproc_internal.h and include/linux/remoteproc.h, read from the
 * replayed hunks. Calls are placed by the function the hunk names and by their neighbours inside one run of
 * known lines; wrappers the series defines (rproc_release_fw, rproc_load_fw, …) are resolved by reading them.
 */
import type { Parser } from "web-tree-sitter";
import { escapeRegExp } from "../../regexp.ts";
import type { CoreFacts, LoadFwCall, ReleaseFwSite } from "../facts.ts";
import { ReleaseFwSite as ReleaseFwSiteEnum } from "../facts.ts";
import {
  baseline,
  CORE_C,
  CORE_INTERNAL_H,
  consume,
  evidenceOf,
  isCommentOrBlank,
  norm,
  RPROC_H,
  setTo,
  stripComments,
  unknownAs,
} from "./derive.ts";
import { checkPaToVa } from "./pa_to_va.ts";
import type { Derived, Evidence } from "./types.ts";
import { emptyFileView, type FileView, runAt, type SeriesView, sortedLines, type VLine } from "./view.ts";

type Row = [number, VLine];

export type CoreDerived = { [K in keyof CoreFacts]: Derived<CoreFacts[K]> };

/** A function the series defines whose body reaches an rproc_ops member. */
interface Wrapper {
  name: string;
  /** The wrapper frees the cached table after calling the op. */
  freesTableAfter: boolean;
  evidence: Evidence[];
  rows: Row[];
}

const TABLE_FREE = /\bkfree\s*\(\s*\w+->cached_table\s*\)/;
const LABEL = /^(\w+):/;

/** Functions defined by added lines (their signature line is added), by name, with their known rows. */
function addedFunctions(file: FileView): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const [n, l] of sortedLines(file)) {
    if (l.fn === null) continue;
    const rows = out.get(l.fn) ?? [];
    rows.push([n, l]);
    out.set(l.fn, rows);
  }
  for (const [name, rows] of out) {
    const sig = rows.find(([, l]) => new RegExp(`^\\S.*\\b${name}\\s*\\(`).test(l.text));
    if (sig === undefined || sig[1].added === null) out.delete(name);
  }
  return out;
}

function wrappersOf(files: FileView[], op: string): Wrapper[] {
  // The body reaches the op: calls it, or reads it to call it (`fn = rproc->ops->release_fw; fn(rproc)`).
  const call = new RegExp(`->${op}\\b`);
  const out: Wrapper[] = [];
  for (const file of files) {
    for (const [name, rows] of addedFunctions(file)) {
      const at = rows.findIndex(([, l]) => call.test(l.text));
      if (at < 0) continue;
      const freesTableAfter = rows.slice(at + 1).some(([, l]) => TABLE_FREE.test(l.text));
      out.push({ name, freesTableAfter, rows, evidence: rows.flatMap(([, l]) => evidenceOf(l)).slice(0, 1) });
      const opRow = rows[at];
      if (opRow) out[out.length - 1]?.evidence.push(...evidenceOf(opRow[1]));
    }
  }
  return out;
}

/**
 * Why a wrapper's body is not the one the model runs for it, or null when it is: `if (rproc->ops->release_fw)
 * rproc->ops->release_fw(rproc);` (then the cached table freed, where the wrapper frees it), or
 * `if (rproc->ops->load_fw) return rproc->ops->load_fw(rproc, fw); return 0;`, with the wrapper's parameters.
 */
function wrapperProblem(w: Wrapper, op: string): string | null {
  const rows = w.rows;
  if (rows.some(([n], i) => i > 0 && n !== (rows[i - 1]?.[0] ?? 0) + 1))
    return `the posted lines do not show ${w.name}() whole`;
  const text = rows.map(([, l]) => l.text).join("\n");
  const open = text.indexOf("{");
  const params = /\(([^)]*)\)\s*$/
    .exec(text.slice(0, Math.max(open, 0)))?.[1]
    ?.split(",")
    .map((p) => /(\w+)\s*$/.exec(p)?.[1] ?? "");
  const close = text.lastIndexOf("}");
  if (open < 0 || close < open || params === undefined) return `${w.name}() cannot be read`;
  const body = stripComments(text.slice(open + 1, close)).replace(/\s+/g, "");
  const r = params[0];
  const call = `${r}->ops->${op}(${params.join(",")})`;
  const free = `kfree(${r}->cached_table);${r}->cached_table=NULL;${r}->table_ptr=NULL;`;
  const shapes =
    op === "load_fw"
      ? [`if(${r}->ops->${op})return${call};return0;`]
      : [`if(${r}->ops->${op})${call};`, `if(${r}->ops->${op})${call};${free}`];
  // The same through a local function pointer: `void (*fn)(struct rproc *) = rproc->ops->release_fw; if (fn) fn(rproc);`.
  const viaLocal = new RegExp(
    `^\\w+\\(\\*(\\w+)\\)\\([^)]*\\)=${escapeRegExp(`${r}->ops->${op};`)}(.*)$`,
  ).exec(body);
  const local = viaLocal?.[1];
  const rest = viaLocal?.[2]
    ?.split(`${local}(`)
    .join(`${r}->ops->${op}(`)
    .replace(`if(${local})`, `if(${r}->ops->${op})`);
  if (shapes.includes(body) || (rest !== undefined && shapes.includes(rest))) return null;
  return `${w.name}() is not the wrapper the model runs (${op === "load_fw" ? `ops->${op}'s value when the op is set, else 0` : `ops->${op} when the op is set${w.freesTableAfter ? ", then the cached table freed" : ""}`}): its body is ${text.slice(open, close + 1).replace(/\s+/g, " ")}`;
}

/** Added lines of remoteproc_core.c that reach `op`, directly or through a wrapper; not inside the wrappers. */
function callSites(
  core: FileView,
  op: string,
  wrappers: Wrapper[],
): Array<{ row: Row; run: Row[]; via: Wrapper | null }> {
  const names = new Set(wrappers.map((w) => w.name));
  const out: Array<{ row: Row; run: Row[]; via: Wrapper | null }> = [];
  for (const [n, l] of sortedLines(core)) {
    if (l.added === null || l.fn === null || names.has(l.fn)) continue;
    if (/^\S/.test(l.text)) continue;
    const via = wrappers.find((w) => new RegExp(`\\b${w.name}\\s*\\(`).test(l.text));
    if (via === undefined && !new RegExp(`->${op}\\s*\\(`).test(l.text)) continue;
    const run = runAt(core, l.fn, n);
    out.push({ row: [n, l], run, via: via ?? null });
  }
  return out;
}

function code(rows: Row[]): Row[] {
  return rows.filter(([, l]) => !isCommentOrBlank(l.text));
}

/** `x = callee(…)` on that line: the name of `x`, else null. */
function resultOf(text: string, callee?: string): string | null {
  const m = new RegExp(`^\\s*(\\w+)\\s*=\\s*${callee ?? "\\w+"}\\s*\\(`).exec(text);
  return m?.[1] ?? null;
}

/** `if (x)`, `if (x < 0)`, `if (x != 0)`: a test that `x` holds an error. */
function testsError(text: string, variable: string): boolean {
  return new RegExp(`^\\s*if\\s*\\(\\s*${variable}\\s*(?:<\\s*0\\s*|!=\\s*0\\s*)?\\)`).test(text);
}

/** The statement right before `n` tests the result of the one before it, a call of `callee`. */
function afterErrorOf(run: Row[], n: number, callee: string): boolean {
  const before = code(run.filter(([m]) => m < n));
  const cond = before[before.length - 1];
  const call = before[before.length - 2];
  const variable = call ? resultOf(call[1].text, callee) : null;
  return cond !== undefined && variable !== null && testsError(cond[1].text, variable);
}

function tableOrder(run: Row[], n: number, via: Wrapper | null): "before" | "after" | null {
  if (via?.freesTableAfter) return "before";
  if (run.some(([m, l]) => m < n && TABLE_FREE.test(l.text))) return "after";
  if (run.some(([m, l]) => m > n && TABLE_FREE.test(l.text))) return "before";
  return null;
}

/** The error label region of a line: the nearest label above, or the baseline label before the one below. */
function labelRegion(run: Row[], n: number, previousLabel: Record<string, string>): string | null {
  const above = run.filter(([m, l]) => m < n && LABEL.test(l.text)).pop();
  if (above) return LABEL.exec(above[1].text)?.[1] ?? null;
  const below = run.find(([m, l]) => m > n && LABEL.test(l.text));
  const name = below ? LABEL.exec(below[1].text)?.[1] : undefined;
  return name === undefined ? null : (previousLabel[name] ?? null);
}

/** v6.15 rproc_fw_boot: clean_up_resources is the label right before unprepare_rproc. */
const FW_BOOT_LABEL_BEFORE: Record<string, string> = { unprepare_rproc: "clean_up_resources" };

function releaseSite(run: Row[], n: number, fn: string, via: Wrapper | null): ReleaseFwSite | null {
  const order = tableOrder(run, n, via);
  const free = (prefix: string): ReleaseFwSite | null => {
    if (order === null) return null;
    const site = `${prefix}:${order}_table_free`;
    return ReleaseFwSiteEnum.safeParse(site).success ? (site as ReleaseFwSite) : null;
  };
  switch (fn) {
    case "rproc_boot":
      return afterErrorOf(run, n, "rproc_fw_boot") ? "rproc_boot:after_fw_boot_error" : null;
    case "rproc_boot_recovery":
      return afterErrorOf(run, n, "rproc_start") ? "rproc_boot_recovery:after_start_error" : null;
    case "rproc_start":
      return labelRegion(run, n, {}) === "reset_table_ptr" ? "rproc_start:reset_table_ptr" : null;
    case "rproc_fw_boot":
      return labelRegion(run, n, FW_BOOT_LABEL_BEFORE) === "clean_up_resources"
        ? free("rproc_fw_boot:clean_up_resources")
        : null;
    case "rproc_shutdown":
    case "rproc_detach":
      return free(fn);
    default:
      return null;
  }
}

/** Deleted v6.15 lines of the table cleanup that a wrapper call replaced, in the same patch and function. */
function consumeMovedCleanup(core: FileView, site: { row: Row; via: Wrapper | null }): void {
  const added = site.row[1].added;
  if (site.via === null || !site.via.freesTableAfter || added === null) return;
  for (const d of core.deletions) {
    if (
      d.where.patch === added.patch &&
      d.fn === site.row[1].fn &&
      /cached_table|table_ptr|copy of the resource/.test(d.text)
    )
      d.consumed = true;
  }
}

function releaseFwCalls(files: FileView[], core: FileView, opAdded: boolean): Derived<ReleaseFwSite[]> {
  const wrappers = wrappersOf(files, "release_fw");
  const sites = callSites(core, "release_fw", wrappers);
  if (sites.length === 0) return baseline([]);
  const found: ReleaseFwSite[] = [];
  const evidence: Evidence[] = [];
  let unreadable = false;
  const why = wrapperWhy(sites, "release_fw");
  for (const s of sites) {
    const site = releaseSite(s.run, s.row[0], s.row[1].fn ?? "", s.via);
    evidence.push(...evidenceOf(s.row[1]), ...(s.via?.evidence ?? []));
    if (site === null) unreadable = true;
    else {
      found.push(site);
      consume(s.row[1]);
      // The guard right before the call: `if (ret)` after the failing step, or `if (rproc->ops->release_fw)`.
      for (const [m, l] of s.run)
        if (
          m > s.row[0] - 3 &&
          m < s.row[0] &&
          l.added !== null &&
          /^\s*if\s*\(\s*(?:\w+\s*\)|\w+->ops->release_fw\s*\))/.test(l.text)
        )
          consume(l);
      consumeMovedCleanup(core, s);
      if (s.via) for (const [, l] of s.via.rows) consume(l);
    }
  }
  const value = found;
  if (why !== null) return { ...unknownAs(value, evidence), why };
  if (unreadable || !opAdded) return unknownAs(value, evidence);
  return setTo(value, evidence);
}

/** What wrapperProblem says of the wrappers the call sites go through, or null when each is the model's. */
function wrapperWhy(sites: ReadonlyArray<{ via: Wrapper | null }>, op: string): string | null {
  const seen = new Set<Wrapper>();
  const problems: string[] = [];
  for (const s of sites) {
    if (s.via === null || seen.has(s.via)) continue;
    seen.add(s.via);
    const p = wrapperProblem(s.via, op);
    if (p !== null) problems.push(p);
  }
  return problems.length === 0 ? null : problems.join("; ");
}

/** The statement(s) run when the call on row n fails: the body of the `if (ret)` that follows it. */
function onErrorOf(run: Row[], n: number, call: string): { kind: LoadFwCall["onError"] | null; rows: Row[] } {
  const after = code(run.filter(([m]) => m > n));
  const cond = after[0];
  const variable = resultOf(call);
  if (cond === undefined || variable === null || !testsError(cond[1].text, variable))
    return { kind: null, rows: [] };
  const block: Row[] = [];
  if (/\{\s*$/.test(cond[1].text)) {
    for (const r of after.slice(1)) {
      if (/^\s*\}/.test(r[1].text)) break;
      block.push(r);
    }
  } else if (after[1]) block.push(after[1]);
  const text = block.map(([, l]) => l.text).join("\n");
  const rows = [cond, ...block];
  // Only what the model runs there: the firmware released, a log, and a return (or goto) of the error; any
  // other statement is one no fact describes.
  const statements = stripComments(text)
    .split(";")
    .map(norm)
    .filter((t) => t !== "");
  const known = (t: string): boolean =>
    /^release_firmware\(\w+\)$/.test(t) ||
    t === `return ${variable}` ||
    /^goto \w+$/.test(t) ||
    /^(?:dev_(?:err|warn|info|dbg)|pr_(?:err|warn|info|debug))\(/.test(t);
  const leaves = statements.some((t) => /^(?:goto \w+|return\b)/.test(t));
  if (!statements.every(known) || !leaves) return { kind: null, rows };
  if (statements.some((t) => t.startsWith("release_firmware("))) return { kind: "unwind", rows };
  return { kind: "return-early", rows };
}

function loadFwCalls(files: FileView[], core: FileView, opAdded: boolean): Derived<LoadFwCall[]> {
  const wrappers = wrappersOf(files, "load_fw");
  const sites = callSites(core, "load_fw", wrappers);
  if (sites.length === 0) return baseline([]);
  const found: LoadFwCall[] = [];
  const evidence: Evidence[] = [];
  let unreadable = false;
  const why = wrapperWhy(sites, "load_fw");
  for (const s of sites) {
    const [n, l] = s.row;
    evidence.push(...evidenceOf(l), ...(s.via?.evidence ?? []));
    const later = (callee: string): boolean =>
      s.run.some(([m, r]) => m > n && new RegExp(`\\b${callee}\\s*\\(`).test(r.text));
    const site =
      l.fn === "rproc_boot" && later("rproc_fw_boot")
        ? "rproc_boot:before_fw_boot"
        : l.fn === "rproc_boot_recovery" && later("rproc_start")
          ? "rproc_boot_recovery:before_start"
          : null;
    const onError = onErrorOf(s.run, n, l.text);
    if (site === null || onError.kind === null) {
      unreadable = true;
      continue;
    }
    found.push({ site, onError: onError.kind });
    consume(l, ...onError.rows.map(([, r]) => r));
    if (s.via) for (const [, r] of s.via.rows) consume(r);
  }
  if (why !== null) return { ...unknownAs(found, evidence), why };
  if (unreadable || !opAdded) return unknownAs(found, evidence);
  return setTo(found, evidence);
}

/** Members of struct rproc_ops that the series adds, renames or removes. */
function opsMembers(header: FileView): { added: Map<string, VLine>; removed: Set<string> } {
  const added = new Map<string, VLine>();
  for (const [, l] of sortedLines(header)) {
    const m = /\(\s*\*\s*(\w+)\s*\)\s*\(/.exec(l.text);
    if (l.fn === "struct rproc_ops" && l.added !== null && m?.[1]) added.set(m[1], l);
  }
  const removed = new Set<string>();
  for (const d of header.deletions) {
    const m = /\(\s*\*\s*(\w+)\s*\)\s*\(/.exec(d.text);
    if (d.fn === "struct rproc_ops" && d.baseline && m?.[1] && !added.has(m[1])) {
      removed.add(m[1]);
      d.consumed = true;
    }
  }
  return { added, removed };
}

function opFact(members: Map<string, VLine>, name: string): Derived<boolean> {
  const l = members.get(name);
  if (l === undefined) return baseline(false);
  consume(l);
  return setTo(true, evidenceOf(l));
}

function loadSegmentsOp(
  members: { added: Map<string, VLine>; removed: Set<string> },
  files: FileView[],
): Derived<CoreFacts["loadSegmentsOp"]> {
  const renamed = members.added.get("load_segments");
  if (renamed === undefined) {
    if (members.removed.has("load")) return unknownAs("load", []);
    return baseline("load");
  }
  consume(renamed);
  // The rename reaches every use of the member in the modelled files: a line that is a deleted line with
  // load renamed is explained by it (and the deleted line with it); any other use is a change of its own.
  for (const file of files) {
    const deleted = new Map(file.deletions.map((d) => [norm(d.text), d] as const));
    for (const [, l] of sortedLines(file)) {
      if (l.added === null || !/\bload_segments\b/.test(l.text) || /\|\||&&/.test(l.text)) continue;
      const was = deleted.get(norm(l.text.replace(/\bload_segments\b/g, "load")));
      if (was === undefined) continue;
      consume(l);
      was.consumed = true;
    }
  }
  return setTo("load_segments", evidenceOf(renamed));
}

function loadSegmentsWhenMissing(internal: FileView): Derived<CoreFacts["loadSegmentsWhenMissing"]> {
  const rows = sortedLines(internal).filter(([, l]) => l.fn === "rproc_load_segments");
  const last = [...rows].reverse().find(([, l]) => /^\s*return\b/.test(l.text) && !/->\w+\s*\(/.test(l.text));
  if (last === undefined || last[1].added === null) return baseline("einval");
  const expr = /^\s*return\s+(.+?);/.exec(last[1].text)?.[1]?.trim();
  for (const d of internal.deletions)
    if (d.fn === "rproc_load_segments" && /^\s*return\s+-?E?\w+;/.test(d.text)) d.consumed = true;
  consume(last[1]);
  if (expr === "0") return setTo("zero", evidenceOf(last[1]));
  if (expr === "-EINVAL") return setTo("einval", evidenceOf(last[1]));
  return unknownAs("einval", evidenceOf(last[1]));
}

const LOADERS = ["load", "load_segments", "load_fw"] as const;
type Loader = (typeof LOADERS)[number];

function elfDefaultsUnless(core: FileView): Derived<Loader[]> {
  const rows = sortedLines(core).filter(([, l]) => l.fn === "rproc_alloc_ops");
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const next = rows[i + 1];
    if (row === undefined || next === undefined || !/^\s*return 0;/.test(next[1].text)) continue;
    const m = /^\s*if\s*\((.*)\)\s*$/.exec(row[1].text);
    if (!m?.[1] || !/ops->/.test(m[1])) continue;
    if (row[1].added === null) return baseline(["load"]);
    // Only a plain disjunction of ops members reads as "defaults unless one of these is set": a term that is
    // anything else (`&&`, a negation, a call) leaves a name the model does not have, so the fact is unknown.
    const names = m[1]
      .split("||")
      .map((t) => /^\(?\s*(?:rproc->)?ops->(\w+)\s*\)?$/.exec(t.trim())?.[1] ?? "");
    consume(row[1]);
    for (const d of core.deletions)
      if (d.fn === "rproc_alloc_ops" && /^\s*if\s*\(.*ops->/.test(d.text)) d.consumed = true;
    const known = names.filter((x): x is Loader => (LOADERS as readonly string[]).includes(x));
    if (known.length !== names.length) return unknownAs(["load"], evidenceOf(row[1]));
    return setTo(known, evidenceOf(row[1]));
  }
  return baseline(["load"]);
}

function allocOpsRejectsBothLoaders(core: FileView): Derived<boolean> {
  const rows = sortedLines(core).filter(([, l]) => l.fn === "rproc_alloc_ops" && l.added !== null);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Row;
    const m = /^\s*if\s*\(\s*(?:rproc->)?ops->(\w+)\s*&&\s*(?:rproc->)?ops->(\w+)\s*\)/.exec(row[1].text);
    const ret = rows[i + 1];
    if (!m || ret === undefined || !/return\s+-EINVAL/.test(ret[1].text)) continue;
    const pair = new Set([m[1], m[2]]);
    if (pair.has("load_fw") && (pair.has("load") || pair.has("load_segments"))) {
      consume(row[1], ret[1]);
      return setTo(true, evidenceOf(row[1]));
    }
  }
  return baseline(false);
}

/**
 * The series adds rproc_pa_to_va(): the model's walk stands for it only where the posted body, run from C,
 * answers as the model does (pa_to_va.ts); else the fact is unknown, saying where the two part.
 */
function paToVa(core: FileView, header: FileView, parser: Parser): Derived<boolean> {
  const all = sortedLines(core).filter(([, l]) => l.fn === "rproc_pa_to_va");
  const rows = all.filter(([, l]) => l.added !== null);
  const sig = rows.find(([, l]) => /^\S.*\brproc_pa_to_va\s*\(/.test(l.text));
  if (sig === undefined) return baseline(false);
  for (const [, l] of rows) consume(l);
  for (const file of [core, header])
    for (const [, l] of sortedLines(file))
      if (l.added !== null && /\brproc_pa_to_va\b/.test(l.text)) consume(l);
  const evidence = evidenceOf(sig[1]);
  // Only a definition the series adds whole is the posted one (an edit of one in the base has no text here).
  if (rows.length !== all.length)
    return { ...unknownAs(true, evidence), why: "rproc_pa_to_va() is only partly in the series" };
  const check = checkPaToVa(parser, rows.map(([, l]) => l.text).join("\n"));
  if (!check.same)
    return {
      ...unknownAs(true, evidence),
      why: `the posted rproc_pa_to_va() is not the model's walk of the carveouts: ${check.why}`,
    };
  return setTo(true, evidence);
}

function shutdownClearsTableSz(core: FileView): Derived<boolean> {
  const clear = /\btable_sz\s*=\s*0\s*;/;
  const added = sortedLines(core).find(
    ([, l]) => l.fn === "rproc_shutdown" && l.added !== null && clear.test(l.text),
  );
  const removed = core.deletions.find((d) => d.fn === "rproc_shutdown" && d.baseline && clear.test(d.text));
  if (added) {
    consume(added[1]);
    if (removed) removed.consumed = true;
    return setTo(true, evidenceOf(added[1]));
  }
  if (removed) {
    removed.consumed = true;
    return setTo(false, [removed.where]);
  }
  return baseline(true);
}

export function deriveCore(view: SeriesView, parser: Parser): CoreDerived {
  const core = view.files.get(CORE_C) ?? emptyFileView(CORE_C);
  const internal = view.files.get(CORE_INTERNAL_H) ?? emptyFileView(CORE_INTERNAL_H);
  const header = view.files.get(RPROC_H) ?? emptyFileView(RPROC_H);
  const files = [core, internal];
  const members = opsMembers(header);
  const releaseFwOp = opFact(members.added, "release_fw");
  const loadFwOp = opFact(members.added, "load_fw");
  return {
    loadSegmentsOp: loadSegmentsOp(members, [...view.files.values()]),
    loadSegmentsWhenMissing: loadSegmentsWhenMissing(internal),
    loadFwOp,
    loadFwCalls: loadFwCalls(files, core, loadFwOp.value),
    releaseFwOp,
    releaseFwCalls: releaseFwCalls(files, core, releaseFwOp.value),
    elfDefaultsUnless: elfDefaultsUnless(core),
    allocOpsRejectsBothLoaders: allocOpsRejectsBothLoaders(core),
    paToVa: paToVa(core, header, parser),
    shutdownClearsTableSz: shutdownClearsTableSz(core),
  };
}
