/**
 * Functions a newer version renamed: a finding is identified by (kind, C function), so a series that renames
 * `rproc_tee_register` to `rproc_tee_attach_dev` and changes nothing else would read as the old finding
 * "fixed" and a new one "introduced". Both would be claims about behaviour that did not change.
 *
 * A rename is read from what ran, never from a version: in a scenario both sides ran, the traces are walked
 * step by step up to their first difference that is not a name; a step where only the function differs (same
 * layer and event, the same detail once the new name is read as the old) pairs A's function with B's. A pair
 * is kept when it is one-to-one in every scenario and neither name runs on the other side at all: B never
 * runs A's function and A never runs B's (a function that runs instead of one still present is no rename),
 * and B's series adds a line that names the new function (a trace alone cannot tell a rename from code the
 * series did not write: B's names must be the posted code's).
 */
import { escapeRegExp } from "../regexp.ts";
import type { CellResult, TraceStep } from "../scenarios/result.ts";
import { detailBehaviour } from "../scenarios/result.ts";
import type { Series } from "../series/types.ts";

/** One rename: A's function `from` runs as `to` in B, step for step. */
export interface Rename {
  from: string;
  to: string;
  /** Scenarios in which the traces showed it. */
  scenarios: string[];
}

/** The renames from A's cells to B's (empty when there is none), sorted by A's name. */
export function renamesOf(
  a: readonly CellResult[],
  b: readonly CellResult[],
  postedInB: (name: string) => boolean,
): Rename[] {
  const ran = (cells: readonly CellResult[]) => new Set(cells.flatMap((c) => c.trace.map((s) => s.fn)));
  const ranA = ran(a);
  const ranB = ran(b);
  const toB = new Map<string, string>();
  const toA = new Map<string, string>();
  const conflicting = new Set<string>();
  const seen = new Map<string, Set<string>>();
  const byScenario = new Map(b.map((c) => [c.scenario, c]));
  for (const ca of a) {
    const cb = byScenario.get(ca.scenario);
    if (cb === undefined || ca.unknown || cb.unknown || !ca.applicable || !cb.applicable) continue;
    const n = Math.min(ca.trace.length, cb.trace.length);
    for (let i = 0; i < n; i++) {
      const sa = ca.trace[i] as TraceStep;
      const sb = cb.trace[i] as TraceStep;
      if (sa.layer !== sb.layer || sa.event !== sb.event) break;
      const pair = sa.fn === sb.fn ? null : ([sa.fn, sb.fn] as const);
      const renamed = (d: string) => {
        let out = detailBehaviour(d);
        for (const [x, y] of pair === null ? toB : [...toB, pair])
          out = out.replace(new RegExp(`\\b${escapeRegExp(y)}\\b`, "g"), x);
        return out;
      };
      if (renamed(sb.detail) !== detailBehaviour(sa.detail)) break;
      if (pair === null) continue;
      const [fa, fb] = pair;
      if ((toB.has(fa) && toB.get(fa) !== fb) || (toA.has(fb) && toA.get(fb) !== fa)) {
        conflicting.add(fa);
        break;
      }
      toB.set(fa, fb);
      toA.set(fb, fa);
      const s = seen.get(fa) ?? new Set<string>();
      s.add(ca.scenario);
      seen.set(fa, s);
    }
  }
  const out: Rename[] = [];
  for (const [from, to] of toB) {
    if (conflicting.has(from) || ranB.has(from) || ranA.has(to) || !postedInB(to)) continue;
    out.push({ from, to, scenarios: [...(seen.get(from) ?? [])] });
  }
  return out.sort((x, y) => x.from.localeCompare(y.from));
}

/** Whether a series adds a line naming `name` (a whole word): the test renamesOf needs of B. */
export function addedBy(series: Series | null): (name: string) => boolean {
  if (series === null) return () => false;
  const added = series.patches
    .flatMap((p) => p.files.flatMap((f) => f.hunks.flatMap((h) => h.lines)))
    .filter((l) => l.kind === "add")
    .map((l) => l.text)
    .join("\n");
  return (name) => new RegExp(`\\b${escapeRegExp(name)}\\b`).test(added);
}

/** B's function name as A knew it (the name itself when B did not rename it). */
export function asNamedInA(renames: readonly Rename[]): (fn: string) => string {
  const m = new Map(renames.map((r) => [r.to, r.from]));
  return (fn) => m.get(fn) ?? fn;
}

/** B's trace step as A would have written it: the function and the names in the detail as A knew them. */
export function stepAsInA(renames: readonly Rename[]): (s: TraceStep) => TraceStep {
  if (renames.length === 0) return (s) => s;
  const name = asNamedInA(renames);
  const words = new RegExp(`\\b(?:${renames.map((r) => escapeRegExp(r.to)).join("|")})\\b`, "g");
  return (s) => ({ ...s, fn: name(s.fn), detail: s.detail.replace(words, name) });
}
