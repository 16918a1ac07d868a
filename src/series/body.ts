import { DIFF_START } from "./diff.ts";
import type { ChangelogNote, Person, Trailer } from "./types.ts";

/** The parts of a patch mail's text. */
export interface PatchBody {
  /** Commit message: everything before the first `---` line (or before the diff). */
  message: string;
  /** Between the first `---` line and the diffstat/diff: where changelogs and b4 tags go. */
  notes: string;
  /** From the first diff header on; "" when the mail has no diff. */
  diff: string;
}

const DIFFSTAT = /^ (?:\S.* \| +(?:\d+ ?[-+]*|Bin .*)|\d+ files? changed.*)$/m;

/** `diffAt`: where DIFF_START first matches in text, when the caller has searched for it already. */
export function splitPatchBody(text: string, diffAt = text.search(DIFF_START)): PatchBody {
  const head = diffAt < 0 ? text : text.slice(0, diffAt);
  const diff = diffAt < 0 ? "" : text.slice(diffAt);
  const sep = /^---\s*$/m.exec(head);
  if (!sep) return { message: head.trimEnd(), notes: "", diff };
  const after = head.slice(sep.index + sep[0].length);
  const stat = DIFFSTAT.exec(after);
  return {
    message: head.slice(0, sep.index).trimEnd(),
    notes: stat ? after.slice(0, stat.index) : after,
    diff,
  };
}

const TRAILER_KEYS = [
  "Signed-off-by",
  "Reviewed-by",
  "Acked-by",
  "Tested-by",
  "Reported-by",
  "Suggested-by",
  "Co-developed-by",
  "Link",
  "Closes",
  "Fixes",
  "Cc",
];
const CANONICAL = new Map(TRAILER_KEYS.map((k) => [k.toLowerCase(), k]));
const TRAILER_LINE = /^([A-Za-z][A-Za-z0-9-]*):[ \t]*(\S.*)$/;
const PERSON = /^(.*?)\s*<([^<>\s]+@[^<>\s]+)>/;

export function parsePerson(value: string): Person | null {
  const m = PERSON.exec(value.trim());
  if (!m) return null;
  return { name: (m[1] ?? "").replace(/^"|"$/g, "").trim(), email: (m[2] ?? "").toLowerCase() };
}

/** Known trailers (and any other `*-by:`) found at line starts of a commit message. */
export function parseTrailers(message: string): Trailer[] {
  const trailers: Trailer[] = [];
  for (const line of message.split("\n")) {
    const m = TRAILER_LINE.exec(line.trim());
    if (!m) continue;
    const raw = m[1] as string;
    const key = CANONICAL.get(raw.toLowerCase()) ?? (/-by$/i.test(raw) ? raw : null);
    if (key === null) continue;
    const value = (m[2] as string).trim();
    trailers.push({ key, value, person: key === "Link" || key === "Closes" ? null : parsePerson(value) });
  }
  return trailers;
}

/** b4/git tags and Tested-on, wherever they appear in the text. */
export interface SeriesTags {
  base: string | null;
  changeId: string | null;
  testedOn: string | null;
  prerequisites: string[];
}

/** The b4 change-id tag of a text (parseTags' changeId, alone: the index reads no other tag). */
export function changeIdOf(text: string): string | null {
  return /^change-id:[ \t]*(\S+)[ \t]*$/im.exec(text)?.[1] ?? null;
}

export function parseTags(text: string): SeriesTags {
  return {
    base: /^base-commit:[ \t]*([0-9a-f]{7,64})[ \t]*$/im.exec(text)?.[1]?.toLowerCase() ?? null,
    changeId: changeIdOf(text),
    testedOn: /^Tested-on:[ \t]*(\S.*?)\s*$/im.exec(text)?.[1] ?? null,
    prerequisites: [...text.matchAll(/^prerequisite-(?:patch|message|change)-id:[ \t]*(\S+)/gim)].map(
      (m) => m[1] as string,
    ),
  };
}

const LINK =
  /https?:\/\/(?:lore\.kernel\.org|lkml\.kernel\.org|(?:patch\.)?msgid\.link)\/(?:[^/\s]+\/)?([^/\s<>"]+(?:@|%40)[^/\s<>"]+)/g;

/** Message-ids named by lore/msgid links in a text. */
export function linkedMessageIds(text: string): string[] {
  const ids: string[] = [];
  for (const m of text.matchAll(LINK)) {
    const raw = (m[1] as string).replace(/[.,;)\]]+$/, "");
    try {
      ids.push(decodeURIComponent(raw));
    } catch {
      ids.push(raw);
    }
  }
  return ids;
}

const NUM = String.raw`v?(\d+(?:\.\d+)?)`;
/** A version as headings write it: "v18", "18", "[18]" (the bracketed form of "Updates vs version [18]:"). */
const VNUM = String.raw`\[?v?(\d+(?:\.\d+)?)\]?`;
const SINCE = new RegExp(
  String.raw`^(?:main\s+)?(?:updates?|changes?|changelog)\s+(?:from|vs\.?|versus|since|compared\s+to|against)\s+(?:the\s+)?(?:(?:previous|last|prior)\s+(?:version|revision|series|iteration|patch(?:set)?)|(?:version|revision)?\s*${VNUM})\s*(?:\[\d+\])?\s*:?$`,
  "i",
);
const IN = new RegExp(
  String.raw`^(?:changes?|updates?)\s+in\s+${NUM}\s*:?$|^v(\d+(?:\.\d+)?)\s*:$|^(?:version\s+v?|v)(\d+(?:\.\d+)?)\s+(?:updates?|changes?|changelog)\s*:?$`,
  "i",
);
const ARROW = new RegExp(
  String.raw`^(?:(?:changes?|updates?)\s+(?:from\s+)?)?${NUM}\s*(?:->|→|=>|to|\.\.)\s*${NUM}\s*:?$`,
  "i",
);
const BULLET = /^(?:[-*•+]|\d+[.)])\s+/;
const STOP = /^(?:\[\d+\]|---|[A-Za-z][\w-]*-by:|Closes:|Link:|base-commit:|Tested-on:|change-id:)/i;
/** An underline below a heading ("-----", "====="): the heading opens a section that blank lines do not end. */
const UNDERLINE = /^(?:-{3,}|={3,})$/;
/** The cover letter's shortlog ("Arnaud Pouliquen (6):"): what follows is no longer a changelog. */
const SHORTLOG = /^\S.*\(\d+\):$/;

interface Heading {
  refersTo: string | null;
  relation: "since" | "in";
}

function heading(line: string): Heading | null {
  const since = SINCE.exec(line);
  if (since) return { refersTo: since[1] ? `v${since[1]}` : null, relation: "since" };
  const inV = IN.exec(line);
  if (inV) return { refersTo: `v${inV[1] ?? inV[2] ?? inV[3]}`, relation: "in" };
  const arrow = ARROW.exec(line);
  if (arrow) return { refersTo: `v${arrow[1]}`, relation: "since" };
  return null;
}

/** Items of every changelog block ("Updates vs previous version:" and the like) in a text. */
export function parseChangelog(
  text: string,
  source: "cover" | "patch",
  patchIndex: number | null,
): ChangelogNote[] {
  const notes: ChangelogNote[] = [];
  let current: (Heading & { heading: string; section: boolean }) | null = null;
  let item: string[] = [];
  let items = 0;
  const flush = (): void => {
    const body = item.join(" ").replace(/\s+/g, " ").trim().replace(/[,;]$/, "");
    if (current && body !== "" && !/^Link to v\d+(?:\.\d+)?:/i.test(body)) {
      notes.push({
        text: body,
        heading: current.heading,
        refersTo: current.refersTo,
        relation: current.relation,
        source,
        patchIndex,
      });
      items++;
    }
    item = [];
  };
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const h = heading(line);
    if (h) {
      flush();
      current = { ...h, heading: line, section: false };
      items = 0;
      continue;
    }
    if (!current) continue;
    if (UNDERLINE.test(line) && items === 0 && item.length === 0 && !current.section) {
      current.section = true;
      continue;
    }
    if (line === "") {
      // A blank line ends a plain block once it has items; in an underlined section it ends an item.
      if (current.section) flush();
      else if (item.length > 0 || items > 0) {
        flush();
        current = null;
      }
      continue;
    }
    if (STOP.test(line) || DIFFSTAT.test(raw) || SHORTLOG.test(line)) {
      flush();
      current = null;
      continue;
    }
    if (BULLET.test(line)) {
      flush();
      item.push(line.replace(BULLET, ""));
    } else item.push(line);
  }
  flush();
  return notes;
}
