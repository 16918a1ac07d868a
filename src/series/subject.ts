import type { SeriesVersion } from "./types.ts";

/** What the `[…]` prefixes of a patch subject say. */
export interface SubjectInfo {
  /** True when the subject carries a PATCH/RFC/RESEND prefix or an i/N counter. */
  isPatch: boolean;
  /** True for replies ("Re: …"). */
  isReply: boolean;
  version: SeriesVersion;
  /** i of i/N, or null when the subject has no counter. */
  index: number | null;
  total: number | null;
  /** The subject without "Re:" and bracket prefixes. */
  title: string;
}

const REPLY = /^\s*(?:re|aw|sv|fwd?)\s*:\s*/i;
const BRACKETS = /^\s*\[([^\]]*)\]\s*/;

export function versionLabel(major: number, minor: number | null): string {
  return minor === null ? `v${major}` : `v${major}.${minor}`;
}

/**
 * Parses "[PATCH v16 2/6] …", "[RESEND PATCH v16 0/6] …", "[PATCH RESEND v3] …", "[RFC PATCH v2 1/3] …",
 * "[PATCH v5.1 3/7] …", "[PATCH 0/3] …" (v1), "[PATCH net-next v2 1/2] …", "[PATCHv2] …", "[RFC/PATCH] …".
 */
export function parseSubject(subject: string): SubjectInfo {
  let rest = subject.replace(/\s+/g, " ").trim();
  let isReply = false;
  for (let m = REPLY.exec(rest); m; m = REPLY.exec(rest)) {
    isReply = true;
    rest = rest.slice(m[0].length);
  }
  const words: string[] = [];
  for (let m = BRACKETS.exec(rest); m; m = BRACKETS.exec(rest)) {
    // "RFC/PATCH" is two words; "2/7" is a counter.
    for (const w of (m[1] ?? "").split(/[\s,]+/)) {
      if (/^\d+\/\d+$/.test(w)) words.push(w);
      else words.push(...w.split("/").filter((x) => x !== ""));
    }
    rest = rest.slice(m[0].length);
  }
  let major = 1;
  let minor: number | null = null;
  let index: number | null = null;
  let total: number | null = null;
  let resend = false;
  let rfc = false;
  let isPatch = false;
  const tags: string[] = [];
  for (const word of words) {
    const upper = word.toUpperCase();
    const glued = /^PATCH[-_]?V(\d+)(?:\.(\d+))?$/i.exec(word);
    const ver = /^v(\d+)(?:\.(\d+))?$/i.exec(word);
    // At most 9 digits each: a counter is a number, never a loop bound (see missing.ts).
    const counter = /^(\d{1,9})\/(\d{1,9})$/.exec(word);
    if (upper === "PATCH" || upper === "PATCHES") isPatch = true;
    else if (upper === "RESEND") resend = true;
    else if (upper === "RFC") rfc = true;
    else if (glued || ver) {
      const m = (glued ?? ver) as RegExpExecArray;
      major = Number(m[1]);
      minor = m[2] === undefined ? null : Number(m[2]);
      if (glued) isPatch = true;
    } else if (counter) {
      index = Number(counter[1]);
      total = Number(counter[2]);
    } else tags.push(word);
  }
  isPatch = isPatch || rfc || resend || index !== null;
  return {
    isPatch,
    isReply,
    version: { label: versionLabel(major, minor), major, minor, resend, rfc, tags },
    index,
    total,
    title: rest.trim(),
  };
}

/** Words of a title for similarity: lower case, prefixes and punctuation dropped. */
export function titleWords(subject: string): Set<string> {
  const title = parseSubject(subject).title.toLowerCase();
  return new Set(title.split(/[^a-z0-9_]+/).filter((w) => w.length > 1));
}

/** Dice coefficient of two word sets (1 = same words, 0 = none shared). */
export function dice(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const w of a) if (b.has(w)) shared++;
  return (2 * shared) / (a.size + b.size);
}
