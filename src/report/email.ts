/**
 * A plain-text reply for the kernel list, laid out as maintainers know it from build robots: `Re:` subject,
 * threading headers to the cover letter, a greeting, bracketed context lines, the findings with evidence, how
 * to reproduce, and a footer saying what the bot is. Body lines stay within 72 columns (a URL or the command
 * line, which cannot wrap, sits alone on its line); no HTML.
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { ExploreFindingRef } from "../compare/explore.ts";
import type { ScenarioDiff } from "../compare/types.ts";
import { builtinVersion } from "../semantics/versions.ts";
import {
  describeChanged,
  describeExploreFinding,
  describeExploreMainline,
  describeFactChange,
  describeFinding,
  describeHunk,
  describeResponsible,
  describeStep,
  describeTee,
  describeUnmentionedFact,
  EXPLORE_NOTHING_ALONE,
  evidenceLines,
  exploreIntro,
  factsHeading,
  inertLine,
  scenarioList,
} from "./describe.ts";
import { headerValue } from "./escape.ts";
import type { ReviewReport } from "./model.ts";
import {
  describeNote,
  describeNoteMatches,
  differing,
  groupFindings,
  notesMentioning,
  sectionFindings,
  silentFactChanges,
} from "./sections.ts";
import { MAIL_WIDTH, wrap } from "./wrap.ts";

export const DEFAULT_FROM = "rproc-review <rproc-review@rproc-review.invalid>";

export interface EmailOptions {
  /** From header; default DEFAULT_FROM. */
  from?: string;
  /** Date header and part of the Message-ID; required so that output is reproducible. */
  date: Date;
  /** Extra Cc addresses (the list, other reviewers). */
  cc?: string[];
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** RFC 5322 date in UTC: "Mon, 23 Nov 2026 11:25:28 +0000". */
export function rfc2822Date(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** RFC 2047 encoded word for a header value that is not ASCII. */
function headerText(raw: string): string {
  const s = headerValue(raw);
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return `=?UTF-8?B?${btoa(bin)}?=`;
}

/** Folds a header at spaces so that lines stay within 78 characters where the words allow. */
function header(name: string, value: string): string {
  return wrap(value, 78, `${name}: `, " ").join("\n");
}

function ascii(s: string): string {
  return s.replace(/→/g, "->").replace(/…/g, "...");
}

const firstName = (name: string) => name.trim().split(/\s+/)[0] ?? "";

function scenarioBlock(r: ReviewReport, s: ScenarioDiff): string[] {
  const out: string[] = [];
  const para = (text: string, indent: string, hang = indent) =>
    out.push(...wrap(ascii(text), MAIL_WIDTH, indent, hang));
  para(`* ${s.scenario} (${s.title})`, "", "  ");
  para(`changed: ${describeChanged(s.changed)}`, "  ", "    ");
  para(`TA commands: ${r.a.id} ${describeTee(s.a)} -> ${r.b.id} ${describeTee(s.b)}`, "  ", "    ");
  const d = s.divergence;
  if (d) {
    para(
      `first divergence at step ${d.step} (rproc state: ${d.before.rprocState ?? "no change yet"}; TA commands so far: ${d.before.taCommands.join(" ") || "none"})`,
      "  ",
      "    ",
    );
    para(`${r.a.id}: ${describeStep(d.a)}`, "    ", "      ");
    para(`${r.b.id}: ${describeStep(d.b)}`, "    ", "      ");
  }
  if (s.hunks.length > 0) {
    para("where the traces part:", "  ", "    ");
    for (const h of s.hunks) {
      const [x, y] = describeHunk(h, r.a, r.b);
      para(x, "    - ", "      ");
      para(y, "      ", "      ");
    }
  }
  const heading = factsHeading(r.diff.attributed === true);
  if (s.facts.length > 0) {
    para(`${heading}:`, "  ", "    ");
    for (const f of s.facts) {
      para(describeResponsible(f, r.a, r.b), "    ", "      ");
      for (const e of evidenceLines(f, r.a, r.b)) para(e, "      ", "        ");
    }
  } else {
    para(`${heading}: none`, "  ", "    ");
  }
  const inert = inertLine(s.inertFacts);
  if (inert) para(inert, "  ", "    ");
  const fs = sectionFindings(s);
  if (fs.length > 0) {
    out.push("  findings:");
    for (const f of fs) para(describeFinding(f), "    ", "      ");
  }
  const notes = notesMentioning(r, s.scenario);
  if (!r.changelog.available) para("changelog: not available", "  ", "    ");
  else if (notes.length === 0) para("changelog: no note mentions this difference", "  ", "    ");
  else for (const n of notes) para(`changelog: ${describeNote(n.note)}`, "  ", "    ");
  out.push("");
  return out;
}

function changelogBlock(r: ReviewReport): string[] {
  const c = r.changelog;
  const out = [...wrap(`Changelog check: ${c.source}.`, MAIL_WIDTH)];
  if (!c.available) return [...out, ""];
  const list = (title: string, items: string[]) => {
    out.push("", `  ${title}:`);
    if (items.length === 0) out.push("    none");
    for (const i of items) out.push(...wrap(ascii(i), MAIL_WIDTH, "    - ", "      "));
  };
  list(
    "stated, with a visible behaviour difference",
    c.withDifference.map((n) => `${describeNote(n)} -> ${describeNoteMatches(n)}`),
  );
  list(
    "stated, with no visible behaviour difference",
    c.withoutDifference.map((n) => describeNote(n)),
  );
  list("behaviour differences no note mentions", c.unmentioned);
  list(
    "fact changes behind behaviour differences that no note names",
    c.unmentionedFacts.map((u) => describeUnmentionedFact(u)),
  );
  out.push("");
  return out;
}

/** The explore comparison: what each version raises alone, with the sequence and the replay command. */
function exploreBlock(r: ReviewReport): string[] {
  const x = r.explore;
  if (x === undefined) return [];
  const body = [
    `Event interleavings (explore, depth ${x.depth}):`,
    "",
    ...wrap(ascii(exploreIntro(x)), MAIL_WIDTH),
    "",
  ];
  if (x.introduced.length + x.fixed.length === 0) {
    body.push(EXPLORE_NOTHING_ALONE, "");
    return body;
  }
  const list = (title: string, fs: readonly ExploreFindingRef[]) => {
    if (fs.length === 0) return;
    body.push(title, "");
    for (const f of fs) {
      const where = describeExploreMainline(f);
      body.push(
        ...wrap(
          ascii(`${describeExploreFinding(f)}${where ? ` (${where})` : ""}: ${f.detail}`),
          MAIL_WIDTH,
          "  - ",
          "    ",
        ),
      );
      body.push(`        ${f.replay}`);
    }
    body.push("");
  };
  list(`Raised by ${r.b.id} only:`, x.introduced);
  list(`Raised by ${r.a.id} only:`, x.fixed);
  return body;
}

/**
 * When B is named by its series id (the mail bot reviews mails, not files) and is not a built-in version, the
 * commands cannot run as printed: say how to fetch the series from the list and what to put in its place.
 */
function fetchHint(r: ReviewReport): string | null {
  const spec = r.reproduce.versions[1];
  const s = r.b.series;
  if (spec === undefined || s === null || s.replyTo === null || spec !== s.id || builtinVersion(spec))
    return null;
  return `The commands name ${spec}, a series read from the list: "b4 am ${s.replyTo.messageId}" fetches it as an mbox file; give that file in place of ${spec}.`;
}

/**
 * The review in plain text within 72 columns: verdict, introduced findings, the differences with evidence,
 * the changelog check and design changes no scenario shows. `scenarios` limits the differences shown,
 * `findingsAt` the introduced findings listed (to those raised in these functions).
 */
export function reviewText(
  r: ReviewReport,
  opts: { scenarios?: readonly string[]; findingsAt?: ReadonlySet<string | null> } = {},
): string[] {
  const body: string[] = [];
  const para = (text: string) => body.push(...wrap(ascii(text), MAIL_WIDTH), "");
  const only = opts.scenarios ? new Set(opts.scenarios) : null;
  const shown = (scenario: string) => only === null || only.has(scenario);
  para(`Verdict: ${r.verdict.status.toUpperCase()}: ${r.verdict.line}.`);

  const introduced = groupFindings(
    r,
    "introduced",
    (f) => shown(f.scenario) && (opts.findingsAt?.has(f.at) ?? true),
  );
  if (introduced.length > 0) {
    body.push(`Findings ${r.b.id} introduces:`, "");
    for (const g of introduced)
      body.push(
        ...wrap(
          ascii(`${g.kind} in ${g.at}, ${scenarioList(g.scenarios)}: ${g.detail}`),
          MAIL_WIDTH,
          "  - ",
          "    ",
        ),
      );
    body.push("");
  }
  body.push(...exploreBlock(r));
  const diffs = differing(r).filter((d) => shown(d.scenario));
  if (diffs.length > 0) {
    body.push(`Behaviour differences (${diffs.length} of ${r.diff.scenarios.length} scenarios):`, "");
    for (const d of diffs) body.push(...scenarioBlock(r, d));
  } else {
    para(`No scenario behaves differently between ${r.a.id} and ${r.b.id}.`);
  }
  body.push(...changelogBlock(r));
  const silent = silentFactChanges(r);
  if (silent.length > 0) {
    body.push("Design changes no scenario shows:");
    for (const f of silent)
      body.push(...wrap(ascii(describeFactChange(f, r.a, r.b)), MAIL_WIDTH, "  - ", "    "));
    body.push("");
  }
  body.push("How to reproduce:", "", `        ${r.reproduce.command}`, "");
  const fetch = fetchHint(r);
  if (fetch !== null) body.push(...wrap(ascii(fetch), MAIL_WIDTH), "");
  return body;
}

/** The mail, headers and body, as one RFC 5322 text with LF line ends. */
export function renderEmail(r: ReviewReport, opts: EmailOptions): string {
  const s = r.b.series;
  const reply = s?.replyTo ?? null;
  const from = opts.from ?? DEFAULT_FROM;
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? "rproc-review.invalid";
  const body: string[] = [];
  const para = (text: string) => body.push(...wrap(ascii(text), MAIL_WIDTH), "");

  body.push(`Hi ${firstName(s?.author.name ?? "") || "all"},`, "");
  para(
    `rproc-review ran the boot, recovery, shutdown and error scenarios of ${r.b.id} on its executable model and compared them with ${r.a.id}.${reply && !reply.isCover ? " (This series has no cover letter; replying to its first patch.)" : ""}`,
  );
  const context = [
    `rproc-review behaviour check of ${r.b.id}`,
    ...(s ? [`series: ${s.title}`] : []),
    ...(s?.base ? [`base: ${s.base}`] : []),
    `versions compared: ${r.a.id} -> ${r.b.id}${r.diff.mainline ? `, and ${r.diff.mainline.id} for pre-existing findings` : ""}`,
  ];
  for (const c of context)
    body.push(
      ...wrap(ascii(c), MAIL_WIDTH - 1, "[", " ").map((l, i, all) => (i === all.length - 1 ? `${l}]` : l)),
    );
  body.push("");
  if (reply) body.push(`url:    https://lore.kernel.org/r/${reply.messageId}`);
  if (s?.base) body.push(`base:   ${s.base}`);
  if (reply || s?.base) body.push("");
  for (const n of r.notes) para(`Note: ${n}`);
  body.push(...reviewText(r));
  body.push("-- ");
  for (const line of [
    "rproc-review is a review bot with executable semantics for the remoteproc TEE series: it reads each version's patches as design facts and runs boot, recovery, shutdown and error scenarios on a model of the remoteproc core, the TEE driver, an emulated OP-TEE TA and the coprocessor.",
    "It is not a person and it can be wrong. If a later version addresses a finding above, saying so in that version's changelog lets the bot check the claim.",
  ])
    body.push(...wrap(line, MAIL_WIDTH));

  const digest = bytesToHex(
    sha256(new TextEncoder().encode(`${body.join("\n")}\n${opts.date.toISOString()}`)),
  ).slice(0, 16);
  const headers = [
    header("From", from),
    ...(s
      ? [
          header(
            "To",
            `${s.author.name === "" ? "" : `${headerText(s.author.name)} `}<${headerValue(s.author.email)}>`,
          ),
        ]
      : []),
    ...(opts.cc && opts.cc.length > 0 ? [header("Cc", opts.cc.join(", "))] : []),
    header("Subject", headerText(reply ? `Re: ${reply.subject}` : `rproc-review: ${ascii(r.verdict.line)}`)),
    `Date: ${rfc2822Date(opts.date)}`,
    `Message-ID: <rproc-review.${digest}.${opts.date.getTime()}@${domain}>`,
    ...(reply
      ? [
          `In-Reply-To: <${reply.messageId}>`,
          header("References", [...reply.references, reply.messageId].map((id) => `<${id}>`).join(" ")),
        ]
      : []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
  ];
  return `${headers.join("\n")}\n\n${body.join("\n")}\n`;
}
