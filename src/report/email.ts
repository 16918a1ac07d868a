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
import { escapeRegExp } from "../regexp.ts";
import type { RootCause } from "../review/causes.ts";
import type { ReviewReport } from "../review/report.ts";
import { describeRan } from "../scenarios/result.ts";
import { builtinVersion } from "../semantics/versions.ts";
import { shellWord } from "../shell.ts";
import { VERSION } from "../version.ts";
import {
  describeChanged,
  describeExploreFinding,
  describeExploreMainline,
  describeFactChange,
  describeFinding,
  describeHunk,
  describeInterleaveClass,
  describeResponsible,
  describeSchedule,
  describeStep,
  describeStepSite,
  describeTee,
  describeUnmentionedFact,
  EXPLORE_NOTHING_ALONE,
  evidenceLines,
  exploreIntro,
  factsHeading,
  INTERLEAVE_NOTHING,
  inertLine,
  interleaveGroups,
  interleaveIntro,
  scenarioList,
} from "./describe.ts";
import { headerValue } from "./escape.ts";
import { DEFAULT_FROM } from "./formats.ts";
import {
  cannotReviewLines,
  describeNote,
  describeNoteMatches,
  differing,
  groupFindings,
  notesMentioning,
  sectionFindings,
  silentFactChanges,
} from "./sections.ts";
import { MAIL_WIDTH, wrap } from "./wrap.ts";

export interface EmailOptions {
  /** From header; default DEFAULT_FROM. */
  from?: string;
  /** Date header and part of the Message-ID; required so that output is reproducible. */
  date: Date;
  /** Extra Cc addresses (the list, other reviewers). */
  cc?: string[];
  /** Where the full report lives (the bot serves it at /reports/<id>); absent: the mail says how to make it. */
  reportUrl?: string;
}

/** Root-cause sections a mail details; the rest are only listed (a reply stays short). */
const MAIL_SECTIONS = 12;
/** Hard bound of a mail body, whatever the review holds (the list refuses large mails). */
export const MAIL_MAX_BYTES = 100_000;

/** The posted lines around a cause ("  >> 460  spin_lock(&ctx_lock);"), `>>` on its line. */
function excerptLines(c: RootCause, around = 1): string[] {
  const x = c.excerpt;
  if (x === null) return [];
  const rows = x.lines.filter((l) => Math.abs(l.n - x.line) <= around);
  return rows.map(
    (l) =>
      `   ${l.n === x.line ? ">>" : "  "} ${String(l.n).padStart(4)}  ${ascii(l.text.replace(/\t/g, "        ")).trimEnd().slice(0, 58)}`,
  );
}

/**
 * The command that shows a cause: the matrix cell of its first scenario, else its explored sequence, else its
 * shortest schedule in an interleaving scenario.
 */
function causeCommand(r: ReviewReport, c: RootCause): string | null {
  const side = c.class === "fixed" ? r.reproduce.versions[0] : r.reproduce.versions[1];
  const cmd =
    c.scenarios.length > 0
      ? `rproc-review matrix --versions ${shellWord(side ?? r.b.id)} --scenarios ${c.scenarios[0]}`
      : (c.explore?.replay ?? c.interleave?.replay ?? null);
  return cmd === null ? null : fetchable(r).rewrite(cmd);
}

/** A cause with posted code: where (a few lines), then how to see it. */
export function causeSection(r: ReviewReport, c: RootCause): string[] {
  const x = c.excerpt;
  const out =
    x === null ? [] : [`${c.id} ${x.file}:${x.line}${x.patch !== null ? ` (patch ${x.patch})` : ""}:`];
  out.push(...excerptLines(c));
  const cmd = causeCommand(r, c);
  if (cmd !== null) out.push(`        ${cmd}`);
  out.push("");
  return out;
}

/** One line, cut to the mail's width. */
const oneLine = (text: string, indent = "  "): string => {
  const t = ascii(text);
  return `${indent}${t.length > MAIL_WIDTH - indent.length ? `${t.slice(0, MAIL_WIDTH - indent.length - 3)}...` : t}`;
};

/**
 * The reply in the 0-day robot's form: greeting, bracketed context, url/base/patch link, one line per root
 * cause, the tags to paste, one short section per introduced or carried cause (posted code, reproduction),
 * then where the full report lives.
 */
function mailBody(r: ReviewReport, opts: EmailOptions, from: string, messageId: string): string[] {
  const s = r.b.series;
  const reply = s?.replyTo ?? null;
  const body: string[] = [];
  const para = (text: string) => body.push(...wrap(ascii(text), MAIL_WIDTH), "");
  body.push(`Hi ${firstName(s?.author.name ?? "") || "all"},`, "");
  const explored = r.explore ? ` and every sequence of up to ${r.explore.depth} events` : "";
  para(
    `rproc-review ran the scenarios of ${r.b.id}${explored} and compared them with ${r.a.id} (${r.comparison.why}).${reply && !reply.isCover ? " (This series has no cover letter; replying to its first patch.)" : ""}`,
  );
  const context = [`rproc-review behaviour check of ${r.b.id}`, ...(s ? [`series: ${s.title}`] : [])];
  for (const c of context)
    body.push(
      ...wrap(ascii(c), MAIL_WIDTH - 1, "[", " ").map((l, i, all) => (i === all.length - 1 ? `${l}]` : l)),
    );
  body.push("");
  if (reply) body.push(`url:        https://lore.kernel.org/r/${reply.messageId}`);
  body.push(`base:       ${s?.base ?? "the series names no base commit"}`);
  for (const v of [r.a, r.b])
    if (v.ran !== undefined)
      body.push(
        ...wrap(ascii(`${v.id}: ${describeRan(v.ran, true)}`), MAIL_WIDTH, "ran:        ", "            "),
      );
  const open = r.causes.filter((c) => c.class === "introduced" || c.class === "carried");
  const patch = open.find((c) => c.excerpt?.patch != null)?.excerpt?.patch ?? null;
  const patchMail = patch === null ? null : (s?.patches.find((p) => p.index === patch) ?? null);
  if (patchMail) body.push(`patch link: https://lore.kernel.org/r/${patchMail.messageId}`);
  for (const n of r.notes) body.push(...wrap(ascii(n), MAIL_WIDTH, "note:       ", "            "));
  body.push("");
  para(`Verdict: ${r.verdict.status.toUpperCase()}: ${r.verdict.line}.`);
  const { fetch, rewrite } = fetchable(r);
  if (r.verdict.cannotReview) {
    body.push("Could not review:");
    for (const l of cannotReviewLines(r).slice(0, 4))
      body.push(...wrap(ascii(l), MAIL_WIDTH, "  - ", "    "));
    body.push("");
  }
  const fixedCauses = r.causes.filter((c) => c.class === "fixed");
  if (r.causes.length > 0) {
    body.push("Root causes:");
    for (const c of r.causes) if (c.class !== "fixed") body.push(oneLine(`${c.id} ${c.line}`));
    if (fixedCauses.length > 0)
      body.push(
        oneLine(
          `fixed: ${fixedCauses.length === 1 ? (fixedCauses[0] as RootCause).line : `${fixedCauses[0]?.id}..${fixedCauses.at(-1)?.id} (${fixedCauses.length} causes, in the full report)`}`,
        ),
      );
    body.push("");
  }
  if (open.length > 0) {
    body.push("If you fix an issue in a separate patch, kindly add these tags:");
    body.push(`| Reported-by: ${from}`, `| Closes: https://lore.kernel.org/r/${messageId}/`, "");
    if (fetch.length > 0)
      body.push("Fetch the series, then run the commands below:", ...fetch.map((f) => `        ${f}`), "");
    const shown = open.slice(0, MAIL_SECTIONS);
    for (const c of shown.filter((x) => x.excerpt !== null)) body.push(...causeSection(r, c));
    const plain = shown.filter((x) => x.excerpt === null);
    if (plain.length > 0) {
      body.push(shown.some((x) => x.excerpt !== null) ? "Reproduce the others:" : "Reproduce:");
      // Causes shown by the same command share its line.
      const byCommand = new Map<string, string[]>();
      for (const c of plain) {
        const cmd = causeCommand(r, c);
        if (cmd !== null) byCommand.set(cmd, [...(byCommand.get(cmd) ?? []), c.id]);
      }
      for (const [cmd, ids] of byCommand) body.push(`  ${ids.join(",").padEnd(5)} ${cmd}`);
      body.push("");
    }
    if (open.length > MAIL_SECTIONS)
      para(`${open.length - MAIL_SECTIONS} more causes are listed above and detailed in the full report.`);
  } else if (r.diff.counts.different === 0) {
    para(
      r.verdict.cannotReview === null
        ? `No scenario behaves differently between ${r.a.id} and ${r.b.id}, and nothing is open.`
        : `No scenario that could be reviewed behaves differently between ${r.a.id} and ${r.b.id}.`,
    );
  }
  // The full report's command names the fetched file too: say how to fetch it when no cause above did.
  if (!opts.reportUrl && open.length === 0 && fetch.length > 0)
    body.push("Fetch the series, then run the command below:", ...fetch.map((f) => `        ${f}`), "");
  para(
    opts.reportUrl
      ? `Full report (differences, evidence, changelog check, diagrams): ${opts.reportUrl}`
      : `Full report: rproc-review diff ${r.reproduce.versions.map((v) => rewrite(shellWord(v))).join(" ")} --format html`,
  );
  return body;
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

export function ascii(s: string): string {
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
    para(`${r.a.id}: ${describeStep(d.a)}${describeStepSite(d.aAt)}`, "    ", "      ");
    para(`${r.b.id}: ${describeStep(d.b)}${describeStepSite(d.bAt)}`, "    ", "      ");
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
  if (x.introduced.length + x.fixed.length + x.carried.length === 0) {
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
      body.push(`        ${fetchable(r).rewrite(f.replay)}`);
    }
    body.push("");
  };
  list(`Raised by ${r.b.id} only:`, x.introduced);
  list(`Raised by ${r.a.id} only:`, x.fixed);
  // Not judged (x.unknown): who raised them, not that they are still open.
  list(
    `Raised by both and not by mainline${x.unknown === null ? ` (still open in ${r.b.id})` : ""}:`,
    x.carried,
  );
  return body;
}

/** The interleavings: each finding's class, scenarios, shortest schedule and replay command. */
function interleaveBlock(r: ReviewReport): string[] {
  const x = r.interleave;
  if (x === undefined) return [];
  const body = [
    `Thread interleavings (depth ${x.depth}):`,
    "",
    ...wrap(ascii(interleaveIntro(x)), MAIL_WIDTH),
    "",
  ];
  const groups = interleaveGroups(x);
  if (groups.length === 0) {
    body.push(INTERLEAVE_NOTHING, "");
    return body;
  }
  for (const g of groups) {
    const site = g.site === undefined ? "" : ` (${g.site.file}:${g.site.line})`;
    body.push(
      ...wrap(
        ascii(
          `${g.class}: ${g.kind} in ${g.at} on ${g.thread}${site}, ${describeInterleaveClass(g.class, r.a.id, r.b.id)}, ${g.scenarios.join(", ")}, ${describeSchedule(g.schedule)}: ${g.detail}`,
        ),
        MAIL_WIDTH,
        "  - ",
        "    ",
      ),
    );
    body.push(`        ${fetchable(r).rewrite(g.replay)}`);
  }
  body.push("");
  return body;
}

/**
 * A mail's commands must run on the reader's machine: a version named by a local path, or by the series id the
 * mail bot gave it, is fetched from the list by its message-id (`b4 am -o - <id> > <file>`), and the commands
 * name that file instead.
 */
export function fetchable(r: ReviewReport): { fetch: string[]; rewrite: (cmd: string) => string } {
  const fetch: string[] = [];
  const swaps: [string, string][] = [];
  const sides = [
    [r.reproduce.versions[0], r.a.series],
    [r.reproduce.versions[1], r.b.series],
  ] as const;
  for (const [spec, s] of sides) {
    if (spec === undefined || s === null || s.replyTo === null) continue;
    if (builtinVersion(spec) || spec.startsWith("pr:")) continue;
    const file = `${s.version.replace(/[^\w.-]+/g, "_") || "series"}.mbox`;
    fetch.push(`b4 am -o - ${s.replyTo.messageId} > ${file}`);
    swaps.push([shellWord(spec), file], [spec, file]);
  }
  // One pass, whole words only (a spec never matches inside the file name that replaces it).
  const literal = escapeRegExp;
  const pattern =
    swaps.length === 0
      ? null
      : new RegExp(`(?<=^|[\\s,])(${swaps.map(([from]) => literal(from)).join("|")})(?=$|[\\s,])`, "g");
  const to = new Map(swaps);
  const rewrite = (cmd: string): string =>
    pattern === null ? cmd : cmd.replace(pattern, (m) => to.get(m) ?? m);
  return { fetch, rewrite };
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
  const blocked = r.verdict.cannotReview;
  if (blocked !== null) {
    body.push(`Could not review ${blocked.scenarios.length} of ${blocked.total} scenarios:`, "");
    for (const l of cannotReviewLines(r)) body.push(...wrap(ascii(l), MAIL_WIDTH, "  - ", "    "));
    body.push("");
  }

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
  const carried = groupFindings(
    r,
    "carried",
    (f) => shown(f.scenario) && (opts.findingsAt?.has(f.at) ?? true),
  );
  if (carried.length > 0) {
    body.push(`Findings ${r.b.id} still carries (mainline does not have them):`, "");
    for (const g of carried)
      body.push(
        ...wrap(
          ascii(
            `${g.kind} in ${g.at}${g.since ? ` (since ${g.since})` : ""}, ${scenarioList(g.scenarios)}: ${g.detail}`,
          ),
          MAIL_WIDTH,
          "  - ",
          "    ",
        ),
      );
    body.push("");
  }
  body.push(...exploreBlock(r));
  body.push(...interleaveBlock(r));
  const diffs = differing(r).filter((d) => shown(d.scenario));
  if (diffs.length > 0) {
    body.push(`Behaviour differences (${diffs.length} of ${r.diff.scenarios.length} scenarios):`, "");
    for (const d of diffs) body.push(...scenarioBlock(r, d));
  } else {
    para(
      blocked === null
        ? `No scenario behaves differently between ${r.a.id} and ${r.b.id}.`
        : `No scenario that could be reviewed behaves differently between ${r.a.id} and ${r.b.id}; ${blocked.scenarios.length} could not be reviewed (above).`,
    );
  }
  body.push(...changelogBlock(r));
  const silent = silentFactChanges(r);
  if (silent.length > 0) {
    body.push("Design changes no scenario shows:");
    for (const f of silent)
      body.push(...wrap(ascii(describeFactChange(f, r.a, r.b)), MAIL_WIDTH, "  - ", "    "));
    body.push("");
  }
  const { fetch, rewrite } = fetchable(r);
  body.push("How to reproduce:", "");
  for (const f of fetch) body.push(`        ${f}`);
  body.push(`        ${rewrite(r.reproduce.command)}`, "");
  return body;
}

/** The mail, headers and body, as one RFC 5322 text with LF line ends. */
export function renderEmail(r: ReviewReport, opts: EmailOptions): string {
  const s = r.b.series;
  const reply = s?.replyTo ?? null;
  const from = opts.from ?? DEFAULT_FROM;
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? "rproc-review.invalid";
  // The Message-ID comes from what the review says and when: the body names it (Closes:).
  const digest = bytesToHex(
    sha256(
      new TextEncoder().encode(
        `${r.a.id}\n${r.b.id}\n${r.verdict.line}\n${r.causes.map((c) => c.line).join("\n")}\n${opts.date.toISOString()}`,
      ),
    ),
  ).slice(0, 16);
  const messageId = `rproc-review.${digest}.${opts.date.getTime()}@${domain}`;
  const body = mailBody(r, opts, from, messageId);
  body.push("-- ");
  body.push(...wrap(`rproc-review ${VERSION} runs each version on a model; it can be wrong.`, MAIL_WIDTH));
  let text = body.join("\n");
  if (new TextEncoder().encode(text).length > MAIL_MAX_BYTES)
    text = `${text.slice(0, MAIL_MAX_BYTES - 200)}\n[cut: the review is longer than a list mail may be; see the full report]`;
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
    `Message-ID: <${messageId}>`,
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
  return `${headers.join("\n")}\n\n${text}\n`;
}
