/**
 * mapSeries: every DesignFacts field derived from a series' diff, read as a delta over the v6.15 model, with
 * evidence, a status per fact, the changes in modelled code that no fact explains, and the files the model
 * does not cover. It reads only the series (never a version name, never the hand-read oracle).
 *
 * Workers-safe: the C parser is passed in (src/node/c-parser.ts makes one under Node).
 */
import type { Parser } from "web-tree-sitter";
import type { Series } from "../../series/types.ts";
import { type DesignFacts, DesignFactsSchema, FACT_PATHS, type FactPath } from "../facts.ts";
import { deriveCore } from "./core.ts";
import { COVERED_FILES, environmentOf, isCovered, isInert, isStoodFor, norm } from "./derive.ts";
import { outsideTouches } from "./outside.ts";
import { deriveStm32 } from "./stm32.ts";
import { deriveTee } from "./tee.ts";
import type { Derived, Evidence, FactStatus, MapResult, OutOfScope, Unmodelled } from "./types.ts";
import { type FileView, replaySeries, type SeriesView, sortedLines, type VLine } from "./view.ts";

export type { Derived, Evidence, FactStatus, MapResult, OutOfScope, Unmodelled } from "./types.ts";

/**
 * A function the series adds whose lines are mostly lines it deleted in the same patch (an extracted helper):
 * the helper, its call replacing the moved lines, and the deletions explain one another.
 */
function consumeExtractedFunctions(file: FileView): void {
  const byFn = new Map<string, Array<[number, VLine]>>();
  for (const [n, l] of sortedLines(file))
    if (l.fn !== null && l.added) byFn.set(l.fn, [...(byFn.get(l.fn) ?? []), [n, l]]);
  for (const [name, rows] of byFn) {
    const sig = rows.find(([, l]) => new RegExp(`^\\S.*\\b${name}\\s*\\(`).test(l.text));
    const patch = sig?.[1].added?.patch;
    if (sig === undefined || patch === undefined) continue;
    const body = rows.filter(([, l]) => !isInert(l.text) && l.added?.patch === patch);
    const deleted = file.deletions.filter(
      (d) => d.where.patch === patch && d.fn !== name && !isInert(d.text),
    );
    const texts = new Set(deleted.map((d) => norm(d.text)));
    const moved = body.filter(([, l]) => texts.has(norm(l.text)));
    if (body.length === 0 || moved.length / body.length < 0.6) continue;
    const movedTexts = new Set(moved.map(([, l]) => norm(l.text)));
    const from = new Set<string | null>();
    for (const d of deleted)
      if (movedTexts.has(norm(d.text))) {
        d.consumed = true;
        from.add(d.fn);
      }
    // Lines edited while moved stay changes of the helper: the code it runs is not the code it moved.
    const edited = editedWhileMoved(
      body.map(([, l]) => l),
      deleted.filter((d) => from.has(d.fn)),
    );
    for (const [, l] of rows) if (!edited.has(l)) l.consumed = true;
    for (const [, l] of sortedLines(file))
      if (l.added?.patch === patch && from.has(l.fn) && new RegExp(`\\b${name}\\s*\\(`).test(l.text))
        l.consumed = true;
  }
}

/**
 * The lines of an extracted helper that replace deleted lines at the same place of the moved code: the moved
 * lines (`added` and `deleted` in order, matched by a longest common subsequence of their texts) are anchors,
 * and where both sides hold unmatched lines between two anchors, the helper's are an edit of the deleted ones
 * (`M4_STATE_CRUN` where the moved block had `M4_STATE_OFF`). Lines before the first or after the last anchor
 * are the helper's own (its declarations and return), not edits.
 */
function editedWhileMoved(added: readonly VLine[], deleted: readonly { text: string }[]): Set<VLine> {
  const a = added.map((l) => norm(l.text));
  const d = deleted.map((x) => norm(x.text));
  // lcs[i][j]: the length of the longest common subsequence of a[i..] and d[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(d.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = d.length - 1; j >= 0; j--)
      (lcs[i] as number[])[j] =
        a[i] === d[j]
          ? ((lcs[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((lcs[i + 1] as number[])[j] as number, (lcs[i] as number[])[j + 1] as number);
  const anchors: [number, number][] = [];
  for (let i = 0, j = 0; i < a.length && j < d.length; ) {
    if (a[i] === d[j]) anchors.push([i++, j++]);
    else if (((lcs[i + 1] as number[])[j] as number) >= ((lcs[i] as number[])[j + 1] as number)) i++;
    else j++;
  }
  const out = new Set<VLine>();
  for (let k = 0; k + 1 < anchors.length; k++) {
    const [i0, j0] = anchors[k] as [number, number];
    const [i1, j1] = anchors[k + 1] as [number, number];
    if (i1 - i0 > 1 && j1 - j0 > 1) for (let i = i0 + 1; i < i1; i++) out.add(added[i] as VLine);
  }
  return out;
}

/** A deleted line added back unchanged in the same patch moved: it is explained when its new place is. */
function consumeMovedLines(file: FileView): void {
  const consumedAdded = new Map<string, Set<number>>();
  for (const [, l] of sortedLines(file)) {
    if (!l.added || !l.consumed) continue;
    const key = norm(l.text);
    consumedAdded.set(key, (consumedAdded.get(key) ?? new Set()).add(l.added.patch));
  }
  for (const d of file.deletions) if (consumedAdded.get(norm(d.text))?.has(d.where.patch)) d.consumed = true;
}

interface Run {
  first: Evidence;
  summary: string;
  count: number;
}

/**
 * Unexplained changes, one entry per run: added lines that follow one another in the file (inert lines in
 * between do not split a run), or deleted lines removed at one place, of the same patch and function.
 */
function unmodelledOf(file: FileView): Unmodelled[] {
  const runs: Run[] = [];
  let cur: Run | null = null;
  let prev = -1;
  for (const [n, l] of sortedLines(file)) {
    if (n !== prev + 1) cur = null;
    prev = n;
    if (isInert(l.text)) continue;
    const a = l.added;
    if (a === null || (l.consumed && l.unread === undefined)) {
      cur = null;
      continue;
    }
    if (cur && cur.first.patch === a.patch && cur.first.function === a.function) cur.count++;
    else {
      const why = l.unread === undefined ? "" : ` (${l.unread})`;
      cur = { first: a, summary: `+ ${l.text.trim()}${why}`, count: 1 };
      runs.push(cur);
    }
  }
  cur = null;
  for (const d of file.deletions) {
    if (isInert(d.text)) continue;
    if (!d.baseline || d.consumed) {
      cur = null;
      continue;
    }
    const w = d.where;
    if (cur && cur.first.patch === w.patch && cur.first.function === w.function && cur.first.line === w.line)
      cur.count++;
    else {
      cur = { first: w, summary: `- ${d.text.trim()}`, count: 1 };
      runs.push(cur);
    }
  }
  runs.sort((x, y) => x.first.patch - y.first.patch || x.first.line - y.first.line);
  return runs.map((r) => ({
    ...r.first,
    summary: r.count > 1 ? `${r.summary} (+${r.count - 1} more lines)` : r.summary,
    ...(r.first.function !== null && file.data.has(r.first.function) ? { data: true } : {}),
  }));
}

function outOfScopeOf(view: SeriesView): OutOfScope[] {
  return view.order
    .filter((path) => !isCovered(path))
    .map((path) => {
      const file = view.files.get(path);
      const created = file?.complete === true && !file.deleted && /\.c$/.test(path);
      return {
        file: path,
        patches: [...new Set(file?.patches ?? [])],
        ...(created ? { created: true as const } : {}),
      };
    });
}

/** Derives the design facts of a series from its diff. */
export function mapSeries(series: Series, parser: Parser): MapResult {
  const view = replaySeries(parser, series);
  const core = deriveCore(view, parser);
  const tee = deriveTee(parser, view);
  const stm32 = deriveStm32(parser, view);
  const derived = new Map<FactPath, Derived<unknown>>();
  for (const [k, d] of Object.entries(core)) derived.set(`core.${k}` as FactPath, d);
  derived.set("tee", tee.present);
  for (const [k, d] of Object.entries(tee.facts ?? {})) derived.set(`tee.${k}` as FactPath, d);
  for (const [k, d] of Object.entries(stm32)) derived.set(`stm32.${k}` as FactPath, d);

  const pick = <T extends object>(group: T): { [K in keyof T]: T[K] extends Derived<infer V> ? V : never } =>
    Object.fromEntries(Object.entries(group).map(([k, d]) => [k, (d as Derived<unknown>).value])) as {
      [K in keyof T]: T[K] extends Derived<infer V> ? V : never;
    };
  const candidate = {
    core: pick(core),
    tee: tee.facts === null ? null : pick(tee.facts),
    stm32: pick(stm32),
  };
  const parsed = DesignFactsSchema.safeParse(candidate);
  if (!parsed.success) throw new Error(`mapper produced invalid facts: ${parsed.error.message}`);
  const facts: DesignFacts = parsed.data;

  const status = {} as Record<FactPath, FactStatus>;
  const evidence: Partial<Record<FactPath, Evidence[]>> = {};
  for (const path of FACT_PATHS) {
    const d = derived.get(path);
    status[path] = d?.status ?? "baseline";
    if (d && d.status !== "baseline") evidence[path] = d.evidence;
  }

  const unknownWhy: MapResult["unknownWhy"] = {};
  for (const path of FACT_PATHS)
    if (status[path] === "unknown")
      unknownWhy[path] = {
        why: derived.get(path)?.why ?? "the series changes it in a way the mapper cannot read",
        files: [...new Set((evidence[path] ?? []).map((e) => e.file))],
      };
  // Baseline means untouched: files outside the model that define or call what it runs.
  for (const t of outsideTouches(view))
    for (const path of t.facts) {
      if (status[path] !== "unknown") {
        status[path] = "unknown";
        evidence[path] = [];
        unknownWhy[path] = { why: "", files: [] };
      }
      evidence[path]?.push(t.evidence);
      const why = unknownWhy[path] as { why: string; files: string[] };
      const phrase = `${t.file}, outside the modelled files, has ${t.symbol}`;
      if (!why.why.includes(phrase)) why.why = why.why === "" ? phrase : `${why.why}; ${phrase}`;
      if (!why.files.includes(t.file)) why.files.push(t.file);
    }

  const unmodelled: Unmodelled[] = [];
  for (const path of [...COVERED_FILES, ...view.order.filter((p) => environmentOf(p) !== null)]) {
    const file = view.files.get(path);
    if (file === undefined) continue;
    if (/\.[ch]$/.test(path)) consumeExtractedFunctions(file);
    consumeMovedLines(file);
    unmodelled.push(...unmodelledOf(file));
  }
  // A change of a stood-for file outside any function it can name counts too (review/run.ts mappedDesign).
  const unmodelledInBase = unmodelled.filter(
    (u) =>
      (u.function !== null || isStoodFor(u.file)) &&
      /\.[ch]$/.test(u.file) &&
      view.files.get(u.file)?.complete === false,
  );
  return {
    facts,
    status,
    evidence,
    unmodelled,
    unmodelledInBase,
    outOfScope: outOfScopeOf(view),
    unknownWhy,
  };
}
