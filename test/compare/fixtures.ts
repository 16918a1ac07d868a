/**
 * Hand-built cells, sides and series for the compare and report tests (own words and made-up traces, no
 * material from the mails).
 */
import type { EvidenceMap, FactSource, VersionSide } from "../../src/compare/index.ts";
import type { CellResult, Finding, TraceStep } from "../../src/scenarios/result.ts";
import type { DesignFacts, FactPath } from "../../src/semantics/facts.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";
import type { ChangelogNote, Series } from "../../src/series/types.ts";

export function facts(id: string): DesignFacts {
  const v = builtinVersion(id);
  if (!v) throw new Error(`no built-in ${id}`);
  return structuredClone(v.facts);
}

export const step = (layer: TraceStep["layer"], fn: string, event: string, detail = ""): TraceStep => ({
  layer,
  fn,
  event,
  detail,
});

export function cell(
  version: string,
  scenario: string,
  trace: TraceStep[],
  extra: Partial<CellResult> & { findings?: Finding[]; factsRead?: FactPath[] } = {},
): CellResult {
  return {
    version,
    scenario,
    applicable: true,
    ok: true,
    errno: 0,
    finalState: "running",
    tee: [],
    findings: [],
    trace,
    unknown: false,
    ...extra,
  };
}

export function side(
  id: string,
  f: DesignFacts,
  cells: CellResult[],
  opts: { source?: FactSource; evidence?: EvidenceMap; series?: Series | null } = {},
): VersionSide {
  return {
    id,
    title: `${id} title`,
    spec: id,
    facts: f,
    cells,
    factSource: opts.source ?? "oracle",
    evidence: opts.evidence ?? {},
    series: opts.series ?? null,
  };
}

export function note(text: string, extra: Partial<ChangelogNote> = {}): ChangelogNote {
  return {
    text,
    heading: "Changes since v1:",
    refersTo: "v1",
    relation: "since",
    source: "cover",
    patchIndex: null,
    ...extra,
  };
}

export function series(id: string, coverNotes: ChangelogNote[], patchNotes: ChangelogNote[][] = []): Series {
  const author = { name: "Ada Lovelace", email: "ada@example.org" };
  const mail = (n: number) => ({
    messageId: `${id}-${n}@example.org`,
    inReplyTo: n === 0 ? null : `${id}-0@example.org`,
    references: n === 0 ? ["older-thread@example.org"] : [`${id}-0@example.org`],
    author,
    date: "2026-01-01T00:00:00.000Z",
    origin: `${id}/${n}.eml`,
  });
  const total = Math.max(patchNotes.length, 1);
  return {
    id,
    title: "Make the widget frobnicate",
    version: {
      label: id,
      major: Number(id.replace(/\D/g, "")) || 1,
      minor: null,
      resend: false,
      rfc: false,
      tags: [],
    },
    base: "0123456789ab",
    testedOn: null,
    changeId: null,
    prerequisites: [],
    cover: {
      ...mail(0),
      subject: `[PATCH ${id} 0/${total}] Make the widget frobnicate`,
      title: "Make the widget frobnicate",
      body: "",
      changelog: coverNotes,
    },
    patches: patchNotes.map((notes, i) => ({
      ...mail(i + 1),
      subject: `[PATCH ${id} ${i + 1}/${total}] widget: part ${i + 1}`,
      index: i + 1,
      total,
      title: `widget: part ${i + 1}`,
      message: "",
      trailers: [],
      changelog: notes.map((n) => ({ ...n, source: "patch" as const, patchIndex: i + 1 })),
      files: [],
      patchId: `pid${i}`,
    })),
    total,
    missing: [],
    author,
    date: "2026-01-01T00:00:00.000Z",
    origin: id,
    mentions: [],
    warnings: [],
  };
}
