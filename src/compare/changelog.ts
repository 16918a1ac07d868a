/**
 * Changelog check: do the "Updates from/vs version …" notes of the newer version say what behaves
 * differently? A note matches a behaviour difference when it names a function, op, file or fact that the
 * difference's evidence names (responsible facts and their human labels, evidence functions and files, the
 * functions at the first divergence, the places of introduced or fixed findings).
 */
import { escapeRegExp } from "../regexp.ts";
import type { FactPath } from "../semantics/facts.ts";
import type { ChangelogNote, Series } from "../series/types.ts";
import { FACT_LABELS } from "./labels.ts";
import type {
  ChangelogCheck,
  CheckedNote,
  FactChange,
  NoteMatch,
  ScenarioDiff,
  VersionDiff,
  VersionSide,
} from "./types.ts";

/** Only names that look like code (snake_case, a file, a DT property) or curated labels are matched. */
const CODE_NAME = /[_.,]/;
const MIN_NAME = 4;

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function adder(names: Set<string>): (name: string | null | undefined) => void {
  return (name) => {
    if (!name) return;
    const n = name.toLowerCase().replace(/\(\)$/, "");
    if (n.length >= MIN_NAME && CODE_NAME.test(n)) names.add(n);
  };
}

/** The lower-case names of one fact change: its path, its human labels, its evidence's functions and files. */
export function namesOfFact(f: FactChange): Set<string> {
  const names = new Set<string>();
  const addCode = adder(names);
  const key = f.path.split(".")[1];
  if (key !== undefined) names.add(f.path.toLowerCase()).add(key.toLowerCase());
  for (const label of FACT_LABELS[f.path]) names.add(label);
  for (const e of [...f.evidenceA, ...f.evidenceB]) {
    addCode(e.function);
    addCode(e.file);
    addCode(basename(e.file));
  }
  return names;
}

/** The lower-case names a difference's evidence names. */
export function namesOfDifference(d: ScenarioDiff): Set<string> {
  const names = new Set<string>();
  const addCode = adder(names);
  for (const f of d.facts) for (const n of namesOfFact(f)) names.add(n);
  addCode(d.divergence?.a?.fn);
  addCode(d.divergence?.b?.fn);
  for (const f of d.findings) if (f.class !== "pre-existing") addCode(f.at);
  return names;
}

/** The names that occur in a note as whole words (an identifier is not matched inside a longer one). */
const WHOLE_WORD = new Map<string, RegExp>();

/** The whole-word pattern of a name, made once. */
function wholeWord(name: string): RegExp {
  let re = WHOLE_WORD.get(name);
  if (re === undefined) {
    re = new RegExp(`(?<![a-z0-9_])${escapeRegExp(name)}(?![a-z0-9_])`);
    if (WHOLE_WORD.size > 10_000) WHOLE_WORD.clear();
    WHOLE_WORD.set(name, re);
  }
  return re;
}

export function namesInNote(note: string, names: Iterable<string>): string[] {
  const text = note.toLowerCase();
  const found: string[] = [];
  for (const name of names) {
    // A name that is not in the text at all needs no pattern.
    if (text.includes(name) && wholeWord(name).test(text)) found.push(name);
  }
  return found.sort();
}

const versionNumber = (label: string | null | undefined): number | null => {
  const m = /^v(\d+)/i.exec(label ?? "");
  return m ? Number(m[1]) : null;
};

/** A note's text as compared across versions: case, spacing and trailing punctuation aside. */
const noteKey = (text: string): string =>
  text
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/[.;,:]+$/, "")
    .trim();

/**
 * The notes of B that describe changes since A or later: notes "since" a version at least A's, notes "in" a
 * version after A's (and not after B's), notes about "the previous version"; all when A has no version
 * number. A note A's own mails already have is carried over from A, not B's changelog, whatever its heading.
 */
export function relevantNotes(a: VersionSide, b: Series): { note: ChangelogNote; where: string }[] {
  return partitionNotes(a, b).kept;
}

/** relevantNotes, and how many notes of B were left out as older or carried over. */
export function partitionNotes(
  a: VersionSide,
  b: Series,
): { kept: { note: ChangelogNote; where: string }[]; setAside: number } {
  const aNum = versionNumber(a.series?.version.label ?? a.id);
  const bNum = b.version.major;
  const inA = new Set(
    a.series === null
      ? []
      : [...(a.series.cover?.changelog ?? []), ...a.series.patches.flatMap((p) => p.changelog)].map((n) =>
          noteKey(n.text),
        ),
  );
  const keep = (n: ChangelogNote): boolean => {
    if (inA.has(noteKey(n.text))) return false;
    const ref = versionNumber(n.refersTo);
    if (aNum === null || ref === null) return true;
    if (n.relation === "since") return ref >= aNum;
    return ref > aNum && (bNum <= 0 || ref <= bNum);
  };
  const out: { note: ChangelogNote; where: string }[] = [];
  let setAside = 0;
  const take = (note: ChangelogNote, where: string) => {
    if (keep(note)) out.push({ note, where });
    else setAside++;
  };
  for (const note of b.cover?.changelog ?? []) take(note, "cover letter");
  for (const p of b.patches)
    for (const note of p.changelog) take(note, `patch ${p.index}/${p.total}: ${p.title}`);
  return { kept: out, setAside };
}

/** Checks B's changelog against the behaviour differences of `diff`. */
export function checkChangelog(diff: VersionDiff, a: VersionSide, b: VersionSide): ChangelogCheck {
  const differing = diff.scenarios.filter((s) => s.status === "different");
  const unavailable = (source: string): ChangelogCheck => ({
    available: false,
    source,
    withDifference: [],
    withoutDifference: [],
    unmentioned: differing.map((s) => s.scenario),
    unmentionedFacts: [],
  });
  if (b.series === null)
    return unavailable(
      `${b.id} has no series attached (a built-in design without its mails): no changelog to check`,
    );
  const aNum = versionNumber(a.series?.version.label ?? a.id);
  if (aNum !== null && b.series.version.major < aNum)
    return unavailable(
      `${b.id} is older than ${a.id}: its changelog describes earlier changes, not this comparison`,
    );
  // Fact changes that explain at least one difference, with the scenarios they explain.
  const causal = new Map<FactPath, { change: FactChange; scenarios: string[] }>();
  for (const s of differing) {
    for (const f of s.facts) {
      const entry = causal.get(f.path) ?? { change: f, scenarios: [] };
      entry.scenarios.push(s.scenario);
      causal.set(f.path, entry);
    }
  }
  const factNames = [...causal.values()].map((c) => ({ path: c.change.path, names: namesOfFact(c.change) }));
  const { kept: notes, setAside } = partitionNotes(a, b.series);
  const names = new Map(differing.map((s) => [s.scenario, namesOfDifference(s)]));
  const checked: CheckedNote[] = notes.map(({ note, where }) => {
    const matches: NoteMatch[] = [];
    for (const [scenario, set] of names) {
      const via = namesInNote(note.text, set);
      if (via.length > 0) matches.push({ scenario, via });
    }
    const facts = factNames.filter((f) => namesInNote(note.text, f.names).length > 0).map((f) => f.path);
    return { note, where, matches, facts };
  });
  const mentionedFacts = new Set(checked.flatMap((c) => c.facts));
  const mentioned = new Set(checked.flatMap((c) => c.matches.map((m) => m.scenario)));
  const patchesWithNotes = new Set(
    notes.filter((n) => n.note.source === "patch").map((n) => n.note.patchIndex),
  );
  const coverNotes = notes.filter((n) => n.note.source === "cover").length;
  return {
    available: true,
    source:
      notes.length === 0
        ? `no changelog notes in ${b.series.id} since ${a.id}${setAside > 0 ? ` (${setAside} older notes set aside: of versions up to ${a.id}, or already in ${a.id}'s mails)` : ""}`
        : `${notes.length} notes of ${b.series.id} (${coverNotes} in the cover letter, ${notes.length - coverNotes} in ${patchesWithNotes.size} patch${patchesWithNotes.size === 1 ? "" : "es"})` +
          (setAside > 0
            ? `; ${setAside} older notes set aside (of versions up to ${a.id}, or already in ${a.id}'s mails)`
            : ""),
    withDifference: checked.filter((c) => c.matches.length > 0 || c.facts.length > 0),
    withoutDifference: checked.filter((c) => c.matches.length === 0 && c.facts.length === 0),
    unmentioned: differing.filter((s) => !mentioned.has(s.scenario)).map((s) => s.scenario),
    unmentionedFacts: [...causal.values()]
      .filter((c) => !mentionedFacts.has(c.change.path))
      .map((c) => ({ path: c.change.path, scenarios: c.scenarios })),
  };
}
