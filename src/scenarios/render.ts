/**
 * The text form of a matrix: scenarios as rows, designs as columns (identical columns folded, with a note),
 * a short verdict per cell with finding markers, a legend, then the findings of every cell.
 */
import type { InterleaveRows, KernelFindingKind } from "../explore/kernel-interleave.ts";
import { errnoName } from "../semantics/kernel.ts";
import { type CellResult, describeRan, type FindingKind, type MatrixResult, ranWarnings } from "./result.ts";

export const FINDING_MARKERS: Record<FindingKind, string> = {
  "use-after-free": "uaf",
  "double-free": "dfree",
  leak: "leak",
  "double-release": "drel",
  "error-swallowed": "swallow",
  "sleep-in-atomic": "atomic",
  "unauthenticated-start": "unauth",
  warn: "warn",
  "state-mismatch": "state",
};

/** The short verdict of a cell: ok, -EIO, n/a or ? (unknown), then one !marker per finding kind. */
export function cellVerdict(c: CellResult): string {
  if (c.unknown) return "?";
  if (!c.applicable) return "n/a";
  const head = c.errno === 0 ? "ok" : errnoName(c.errno);
  const kinds = [...new Set(c.findings.map((f) => f.kind))];
  return [head, ...kinds.map((k) => `!${FINDING_MARKERS[k]}`)].join(" ");
}

/** What makes two cells the same for folding: verdict, final state, TA commands and findings. */
function cellKey(c: CellResult | undefined): string {
  if (c === undefined) return "";
  return JSON.stringify([
    cellVerdict(c),
    c.finalState,
    c.reason ?? "",
    c.tee,
    c.findings.map((f) => [f.kind, f.detail, f.at]),
    c.unknownBecause ?? [],
  ]);
}

function pad(s: string, n: number): string {
  return s + " ".repeat(Math.max(0, n - s.length));
}

export function renderMatrixText(m: MatrixResult): string {
  const cell = new Map(m.results.map((c) => [`${c.version}\u0000${c.scenario}`, c]));
  const get = (v: string, s: string): CellResult | undefined => cell.get(`${v}\u0000${s}`);
  // Fold columns whose every cell is identical.
  const groups: { ids: string[]; rep: string }[] = [];
  for (const v of m.versions) {
    const sig = m.scenarios.map((s) => cellKey(get(v.id, s.id))).join("\n");
    const g = groups.find((x) => m.scenarios.map((s) => cellKey(get(x.rep, s.id))).join("\n") === sig);
    if (g) g.ids.push(v.id);
    else groups.push({ ids: [v.id], rep: v.id });
  }
  const headers = groups.map((g) => g.ids.join("="));
  const rowHead = Math.max(8, ...m.scenarios.map((s) => s.id.length));
  const widths = groups.map((g, i) =>
    Math.max(
      (headers[i] ?? "").length,
      ...m.scenarios.map((s) => {
        const c = get(g.rep, s.id);
        return c === undefined ? 0 : cellVerdict(c).length;
      }),
    ),
  );
  const lines: string[] = [];
  lines.push(
    [pad("scenario", rowHead), ...headers.map((h, i) => pad(h, widths[i] ?? 0))].join("  ").trimEnd(),
  );
  lines.push(["-".repeat(rowHead), ...widths.map((w) => "-".repeat(w))].join("  "));
  for (const s of m.scenarios) {
    const cells = groups.map((g, i) => {
      const c = get(g.rep, s.id);
      return pad(c === undefined ? "" : cellVerdict(c), widths[i] ?? 0);
    });
    lines.push([pad(s.id, rowHead), ...cells].join("  ").trimEnd());
  }
  // What ran each column, when any file of any design ran from C (the hand model's columns say so too).
  if (m.versions.some((v) => v.ran !== undefined)) {
    lines.push("");
    for (const v of m.versions) lines.push(`ran: ${v.id}: ${describeRan(v.ran)}`);
    for (const v of m.versions) for (const w of ranWarnings(v.ran)) lines.push(`warning: ${v.id}: ${w}`);
  }
  const folded = groups.filter((g) => g.ids.length > 1);
  if (folded.length > 0) {
    lines.push("");
    for (const g of folded) {
      lines.push(`note: ${g.ids.join(", ")} give identical results in every scenario and share one column.`);
    }
  }
  lines.push("");
  lines.push("legend: ok = every driven operation returned 0; -EXXX = first failing operation's errno;");
  lines.push("        n/a = the design lacks the mechanism; ? = did not run the posted code (see unknown);");
  lines.push(
    `        ${Object.entries(FINDING_MARKERS)
      .map(([k, v]) => `!${v} = ${k}`)
      .join(", ")}`,
  );
  const unknown = new Map<string, string[]>();
  for (const c of m.results)
    for (const u of c.unknown ? (c.unknownBecause ?? []) : []) {
      const key = `${c.version}: ${u.what}${u.files.length > 0 ? ` (${u.files.join(", ")})` : ""}: ${u.why}`;
      unknown.set(key, [...(unknown.get(key) ?? []), c.scenario]);
    }
  if (unknown.size > 0) {
    lines.push("");
    lines.push("unknown (cells that did not run the posted code; their findings are not verdicts):");
    for (const [key, scenarios] of unknown) lines.push(`  ${key} [${scenarios.join(", ")}]`);
  }
  const withFindings = m.results.filter((c) => c.findings.length > 0 || !c.applicable);
  if (withFindings.length > 0) {
    lines.push("");
    lines.push("findings:");
    for (const c of m.results) {
      if (!c.applicable || c.unknown) continue;
      for (const f of c.findings) {
        const at = f.site ? ` at ${f.site.file}:${f.site.line}` : "";
        lines.push(`  ${c.version} / ${c.scenario}: ${f.kind} in ${f.at}${at} (step ${f.step}): ${f.detail}`);
      }
    }
    const na = m.results.filter((c) => !c.applicable);
    if (na.length > 0) {
      lines.push("");
      lines.push("not applicable:");
      for (const c of na) lines.push(`  ${c.version} / ${c.scenario}: ${c.reason ?? ""}`);
    }
  }
  return lines.join("\n");
}

/** Markers of the findings only the interleavings raise (the kernel threads' monitors). */
const THREAD_MARKERS: Record<Exclude<KernelFindingKind, FindingKind>, string> = {
  "lock-inversion": "lockdep",
  deadlock: "deadlock",
  "data-race": "race",
  fault: "fault",
  unknown: "unknown",
};

/** An interleaving cell: ok (every schedule to the depth clean), ? (unknown), or a !marker per finding kind. */
export function interleaveCellVerdict(c: InterleaveRows["cells"][number]): string {
  if (c.unknown !== null) return "?";
  const kinds = [...new Set(c.findings.map((f) => f.kind))];
  if (kinds.length === 0) return "ok";
  return kinds
    .map(
      (k) =>
        `!${k in THREAD_MARKERS ? THREAD_MARKERS[k as keyof typeof THREAD_MARKERS] : FINDING_MARKERS[k as FindingKind]}`,
    )
    .join(" ");
}

/**
 * The interleaving rows (matrix --interleave): the three scenarios as rows, every design a column (not
 * folded), then each finding with its shortest schedule and the unknown cells with why.
 */
export function renderInterleaveRowsText(x: InterleaveRows, versions: readonly string[]): string {
  const get = (v: string, s: string) => x.cells.find((c) => c.version === v && c.scenario === s);
  const rowHead = Math.max(8, ...x.scenarios.map((s) => s.id.length));
  const widths = versions.map((v) =>
    Math.max(
      v.length,
      ...x.scenarios.map((s) => {
        const c = get(v, s.id);
        return c === undefined ? 0 : interleaveCellVerdict(c).length;
      }),
    ),
  );
  const lines = [
    `interleavings (every schedule to ${x.depth} scheduling choice${x.depth === 1 ? "" : "s"}, sleep sets; explore --interleave --scenario <id> --depth ${x.depth} prints one):`,
    [pad("scenario", rowHead), ...versions.map((v, i) => pad(v, widths[i] ?? 0))].join("  ").trimEnd(),
    ["-".repeat(rowHead), ...widths.map((w) => "-".repeat(w))].join("  "),
  ];
  for (const s of x.scenarios)
    lines.push(
      [
        pad(s.id, rowHead),
        ...versions.map((v, i) => {
          const c = get(v, s.id);
          return pad(c === undefined ? "" : interleaveCellVerdict(c), widths[i] ?? 0);
        }),
      ]
        .join("  ")
        .trimEnd(),
    );
  const unknown = x.cells.filter((c) => c.unknown !== null);
  if (unknown.length > 0) {
    lines.push(
      "",
      "unknown (the interleavings did not run the posted code; their findings are not verdicts):",
    );
    for (const c of unknown) lines.push(`  ${c.version} / ${c.scenario}: ${c.unknown}`);
  }
  // One line per scenario, finding and shortest schedule, with the versions raising it.
  const found = new Map<string, { line: string; versions: string[] }>();
  for (const c of x.cells) {
    if (c.unknown !== null) continue;
    for (const f of c.findings) {
      const sched = f.schedule.length === 0 ? "(default)" : f.schedule.map((t) => `t${t}`).join(",");
      const key = `${c.scenario}\u0000${f.kind}\u0000${f.at}\u0000${sched}`;
      const g = found.get(key) ?? {
        line: `${c.scenario}: ${f.kind} in ${f.at} on ${f.thread}, schedule ${sched}: ${f.detail}`,
        versions: [],
      };
      g.versions.push(c.version);
      found.set(key, g);
    }
  }
  if (found.size > 0) {
    lines.push(
      "",
      "interleaving findings (shortest schedule: the thread chosen at each choice, then the lowest):",
    );
    for (const g of found.values()) lines.push(`  [${g.versions.join(", ")}] ${g.line}`);
  }
  return lines.join("\n");
}
