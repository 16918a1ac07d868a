/**
 * Root causes: findings that come from the same lock, the same posted line or the same design change are one
 * cause, listed once with the scenarios (and exploration sequences) it shows in. Every report leads with one
 * line per root cause. Built in the review room, where both sides (their series and evidence) are at hand.
 */
import type { ExploreDiff, ExploreFindingRef } from "../compare/explore.ts";
import type { InterleaveDiff, InterleaveFindingRef } from "../compare/interleave.ts";
import type {
  ClassifiedFinding,
  EvidenceItem,
  FindingClass,
  ResponsibleFact,
  VersionDiff,
  VersionSide,
} from "../compare/types.ts";
import type { KernelFindingKind } from "../explore/kernel-interleave.ts";
import type { FactPath } from "../semantics/facts.ts";
import type { Series } from "../series/types.ts";

/** A few lines of the posted code around the line a cause points at. */
export interface CodeExcerpt {
  file: string;
  line: number;
  /** 1-based patch index the lines come from. */
  patch: number | null;
  lines: { n: number; text: string }[];
}

export interface RootCause {
  /** "RC1", "RC2", … in report order. */
  id: string;
  class: FindingClass;
  kind: KernelFindingKind;
  /** The C functions in which the monitors raised it. */
  functions: string[];
  /** The lock it is about ("spinlock ctx_lock"), when its findings name one. */
  lock: string | null;
  /** For carried causes: the oldest version of the chain that has it. */
  since: string | null;
  /** The design change behind it (facts that differ and that the scenarios read), possibly none. */
  facts: FactPath[];
  /** "tee.ctxLock: v15 none → v16 spinlock", or null. */
  change: string | null;
  /** The posted line: evidence of the side that has it, in the function that raises it when there is one. */
  where: EvidenceItem | null;
  /**
   * The posted C statements that raised its findings, when the side ran that file from C (the interpreter
   * decided; `where` is the facts' explanation): file and lines, in line order.
   */
  raisedAt: { file: string; lines: number[] }[];
  /**
   * For a cause with neither a posted line nor a raising statement (a state monitor, checked after an
   * operation): where the traces of its first scenario first part, at the posted C statement that made the
   * step of the side that has the finding. Where the behaviour starts to differ, not a proven cause.
   */
  divergedAt: { scenario: string; file: string; line: number } | null;
  excerpt: CodeExcerpt | null;
  /** Detail of its first finding. */
  detail: string;
  scenarios: string[];
  /** Findings it stands for (scenarios × places). */
  findings: number;
  /** The shortest external sequence that shows it, when the exploration raised it. */
  explore: { events: string[]; replay: string } | null;
  /** The shortest schedule that shows it, when an interleaving scenario raised it. */
  interleave: { scenario: string; schedule: number[]; replay: string } | null;
  /** One line: class, kind, function and posted line, the design change. */
  line: string;
}

const LOCK_FACTS: readonly FactPath[] = ["tee.ctxLock", "tee.lockedCalls"];

const LOCK = /\bholding (spinlock|mutex|lock|rwlock|semaphore) (\w+)/;

function lockOf(detail: string): string | null {
  const m = LOCK.exec(detail);
  return m ? `${m[1]} ${m[2]}` : null;
}

/** A fact value in a cause's one line: scalars as they are, structures only named (the report has them). */
const isScalar = (v: unknown): boolean => v === null || v === undefined || typeof v !== "object";
const value = (v: unknown): string => (v === null || v === undefined ? "none" : String(v));

interface Group {
  class: FindingClass;
  kind: KernelFindingKind;
  functions: Set<string>;
  lock: string | null;
  since: string | null;
  facts: Map<FactPath, ResponsibleFact>;
  detail: string;
  scenarios: Set<string>;
  findings: number;
  explore: ExploreFindingRef | null;
  interleave: InterleaveFindingRef | null;
  /** Posted lines that raised its findings from C, by file. */
  sites: Map<string, Set<number>>;
}

/**
 * The design change behind a finding in one scenario: the responsible facts of the scenario (those attribution
 * kept, when it ran) whose evidence lies in the function that raises it. A carried or pre-existing finding has
 * none (the change between A and B did not cause it); so has a finding no such fact explains.
 */
function factsOf(diff: VersionDiff, f: ClassifiedFinding): ResponsibleFact[] {
  if (f.class !== "introduced" && f.class !== "fixed") return [];
  const s = diff.scenarios.find((x) => x.scenario === f.scenario);
  if (s?.status !== "different") return [];
  const attributed = s.facts.filter((x) => x.effect === "changes-behaviour");
  const candidates = attributed.length > 0 ? attributed : s.facts;
  // A finding about a lock comes from the lock's facts (which lock, what runs under it).
  if (lockOf(f.detail) !== null) return candidates.filter((x) => LOCK_FACTS.includes(x.path));
  return candidates.filter((x) =>
    (f.class === "fixed" ? x.evidenceA : x.evidenceB).some((e) => e.function === f.at),
  );
}

/** The lines of the posted file around `line` in the patch that the evidence names. */
export function excerptOf(series: Series | null, e: EvidenceItem, around = 2): CodeExcerpt | null {
  if (series === null || e.line === null) return null;
  const line = e.line;
  const patches = series.patches.filter((p) => e.patch === null || p.index === e.patch);
  for (const p of [...patches].reverse())
    for (const f of p.files) {
      if (f.path !== e.file) continue;
      for (const h of f.hunks) {
        const rows = h.lines.filter((l) => l.newLine !== null);
        const at = rows.findIndex((l) => l.newLine === line);
        if (at < 0) continue;
        const lines = rows
          .slice(Math.max(0, at - around), at + around + 1)
          .map((l) => ({ n: l.newLine as number, text: l.text }));
        return { file: e.file, line, patch: p.index, lines };
      }
    }
  return null;
}

/** Evidence of `side` in function `fn` (any fact), else null. */
function evidenceIn(
  side: VersionSide,
  fns: ReadonlySet<string>,
  prefer: readonly FactPath[],
  sites: ReadonlyMap<string, ReadonlySet<number>> = new Map(),
): EvidenceItem | null {
  const ordered = [
    ...prefer,
    ...(Object.keys(side.evidence) as FactPath[]).filter((p) => !prefer.includes(p)),
  ];
  // A finding raised from C is where the C raised it: evidence of a function of that name in another file
  // (the TEE driver's rproc_tee_unregister for its header stub's WARN) is not its place.
  const inFile = (e: EvidenceItem) => sites.size === 0 || sites.has(e.file);
  for (const fn of fns)
    for (const path of ordered)
      for (const e of side.evidence[path] ?? []) if (e.function === fn && inFile(e)) return e;
  const [file, lines] = [...sites][0] ?? [];
  if (file === undefined || lines === undefined || lines.size === 0) return null;
  const patch = side.series?.patches.find((p) => p.files.some((f) => f.path === file)) ?? null;
  return {
    patch: patch?.index ?? null,
    subject: patch?.subject ?? "",
    file,
    function: [...fns][0] ?? null,
    line: Math.min(...lines),
  };
}

const CLASS_RANK: Record<FindingClass, number> = { introduced: 0, carried: 1, fixed: 2, "pre-existing": 3 };

/**
 * The root causes of a review: its introduced, carried and fixed findings (scenarios and exploration), merged
 * by lock, by posted line and by design change; pre-existing findings are not causes of this series.
 */
export function rootCauses(
  diff: VersionDiff,
  a: VersionSide,
  b: VersionSide,
  explored?: ExploreDiff,
  interleaved?: InterleaveDiff,
): RootCause[] {
  const groups: Group[] = [];
  const add = (
    cls: FindingClass,
    kind: KernelFindingKind,
    at: string,
    detail: string,
    since: string | null,
    scenario: string | null,
    facts: ResponsibleFact[],
    x: ExploreFindingRef | null,
    sites: readonly { file: string; line: number }[] = [],
    t: InterleaveFindingRef | null = null,
  ) => {
    const lock = lockOf(detail);
    const g =
      groups.find(
        (o) =>
          o.class === cls && ((lock !== null && o.lock === lock) || (o.kind === kind && o.functions.has(at))),
      ) ?? null;
    const target: Group = g ?? {
      class: cls,
      kind,
      functions: new Set(),
      lock,
      since,
      facts: new Map(),
      detail,
      scenarios: new Set(),
      findings: 0,
      explore: null,
      interleave: null,
      sites: new Map(),
    };
    if (g === null) groups.push(target);
    target.functions.add(at);
    if (scenario !== null) target.scenarios.add(scenario);
    for (const f of facts) target.facts.set(f.path, f);
    target.findings++;
    for (const site of sites)
      target.sites.set(site.file, new Set([...(target.sites.get(site.file) ?? []), site.line]));
    if (x && (target.explore === null || x.events.length < target.explore.events.length)) target.explore = x;
    if (t && (target.interleave === null || t.schedule.length < target.interleave.schedule.length))
      target.interleave = t;
  };
  for (const s of diff.scenarios)
    for (const f of s.findings as ClassifiedFinding[]) {
      if (f.class === "pre-existing") continue;
      add(f.class, f.kind, f.at, f.detail, f.since ?? null, s.scenario, factsOf(diff, f), null, f.sites);
    }
  if (explored && !explored.unknown) {
    const list: [FindingClass, readonly ExploreFindingRef[]][] = [
      ["introduced", explored.introduced],
      ["carried", explored.carried],
      ["fixed", explored.fixed],
    ];
    for (const [cls, fs] of list)
      for (const x of fs) if (x.mainline !== "present") add(cls, x.kind, x.at, x.detail, null, null, [], x);
  }
  // The interleaving scenarios' findings, in the scenarios judged (a not-judged one has no class).
  for (const s of interleaved?.scenarios ?? [])
    for (const t of s.findings)
      if (t.class !== "pre-existing")
        add(t.class, t.kind, t.at, t.detail, null, null, [], null, t.site ? [t.site] : [], t);
  // Same kind and the same design change, or always raised together (the same scenarios): one cause.
  const sameSet = <T>(
    p: { size: number; keys(): Iterable<T>; has(k: T): boolean },
    q: { size: number; has(k: T): boolean },
  ) => p.size > 0 && p.size === q.size && [...p.keys()].every((k) => q.has(k));
  for (let i = 0; i < groups.length; i++)
    for (let j = groups.length - 1; j > i; j--) {
      const x = groups[i] as Group;
      const y = groups[j] as Group;
      const same =
        x.class === y.class &&
        x.kind === y.kind &&
        x.explore === null &&
        y.explore === null &&
        x.interleave === null &&
        y.interleave === null &&
        (sameSet(x.facts, y.facts) || sameSet(x.scenarios, y.scenarios));
      if (!same) continue;
      for (const fn of y.functions) x.functions.add(fn);
      for (const sc of y.scenarios) x.scenarios.add(sc);
      for (const [file, lines] of y.sites)
        x.sites.set(file, new Set([...(x.sites.get(file) ?? []), ...lines]));
      x.findings += y.findings;
      groups.splice(j, 1);
    }
  groups.sort((x, y) => CLASS_RANK[x.class] - CLASS_RANK[y.class] || y.findings - x.findings);
  return groups.map((g, i) => {
    const side = g.class === "fixed" ? a : b;
    const facts = [...g.facts.keys()];
    const where = evidenceIn(side, g.functions, facts, g.sites);
    const change =
      facts.length === 0
        ? null
        : facts
            .map((p) => {
              const f = g.facts.get(p) as ResponsibleFact;
              return isScalar(f.a) && isScalar(f.b)
                ? `${p}: ${a.id} ${value(f.a)} → ${b.id} ${value(f.b)}`
                : `${p} changed`;
            })
            .join("; ");
    const fns = [...g.functions];
    const at = where?.line != null ? ` (${where.file}:${where.line})` : "";
    const since = g.class === "carried" && g.since ? ` since ${g.since}` : "";
    const what = g.lock ? `${g.kind} under ${g.lock}` : g.kind;
    const raisedAt = [...g.sites].map(([file, lines]) => ({ file, lines: [...lines].sort((p, q) => p - q) }));
    const raised =
      raisedAt.length > 0
        ? `; raised from C at ${raisedAt.map((r) => `${r.file}:${r.lines.join(",")}`).join(", ")}`
        : "";
    const divergedAt = where === null && raisedAt.length === 0 ? divergenceOf(diff, g) : null;
    const diverged =
      divergedAt === null
        ? ""
        : `; the traces first part at ${divergedAt.file}:${divergedAt.line} (${divergedAt.scenario})`;
    return {
      id: `RC${i + 1}`,
      class: g.class,
      kind: g.kind,
      functions: fns,
      lock: g.lock,
      since: g.since,
      facts,
      change,
      where,
      raisedAt,
      divergedAt,
      excerpt: where ? excerptOf(side.series, where) : null,
      detail: g.detail,
      scenarios: [...g.scenarios],
      findings: g.findings,
      explore: g.explore ? { events: [...g.explore.events], replay: g.explore.replay } : null,
      interleave: g.interleave
        ? {
            scenario: g.interleave.scenario,
            schedule: [...g.interleave.schedule],
            replay: g.interleave.replay,
          }
        : null,
      line: `${g.class}${since}: ${what} ${placeOf(g.kind, fns)}${at}${raised}${diverged}${change ? `; design change ${change}` : ""}`,
    };
  });
}

/**
 * Where a root cause's findings were raised: C functions as `f()`; a state monitor's findings name the driven
 * operation they were checked after (`start`, `firmware NAME`, `the last thread`), which is no function.
 */
function placeOf(kind: string, fns: readonly string[]): string {
  if (kind === "state-mismatch") return `after ${fns.join(", ")}`;
  return `in ${fns.map((f) => (/^\w+$/.test(f) ? `${f}()` : f)).join(", ")}`;
}

/** The first of a cause's scenarios whose first divergence the posted C made on the side with the finding. */
function divergenceOf(diff: VersionDiff, g: Group): { scenario: string; file: string; line: number } | null {
  for (const s of diff.scenarios) {
    if (!g.scenarios.has(s.scenario) || s.divergence === null) continue;
    const at = g.class === "fixed" ? s.divergence.aAt : s.divergence.bAt;
    if (at !== undefined) return { scenario: s.scenario, file: at.file, line: at.line };
  }
  return null;
}
