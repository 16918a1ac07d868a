import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { InputError } from "../../errors.ts";
import { describeMissing, seriesMissing } from "../../series/missing.ts";
import type { Series, SeriesChain } from "../../series/types.ts";
import { printJson, printText } from "../output.ts";
import { requireCommandPaths } from "../paths.ts";

function seriesJson(s: Series, key: string) {
  return {
    series: {
      id: s.id,
      key,
      title: s.title,
      version: s.version.label,
      resend: s.version.resend,
      rfc: s.version.rfc,
      base: s.base,
      testedOn: s.testedOn,
      changeId: s.changeId,
      prerequisites: s.prerequisites,
      author: s.author,
      date: s.date,
      origin: s.origin,
      total: s.total,
      missing: s.missing,
      missingRanges: seriesMissing(s),
      cover: s.cover
        ? {
            messageId: s.cover.messageId,
            subject: s.cover.subject,
            inReplyTo: s.cover.inReplyTo,
            references: s.cover.references,
            changelog: s.cover.changelog,
          }
        : null,
    },
    patches: s.patches.map((p) => ({
      index: p.index,
      total: p.total,
      subject: p.subject,
      messageId: p.messageId,
      author: p.author,
      files: p.files.map((f) => f.path),
      fileChanges: p.files.map((f) => ({
        path: f.path,
        oldPath: f.oldPath,
        status: f.status,
        additions: f.additions,
        deletions: f.deletions,
      })),
      changelog: p.changelog,
      trailers: p.trailers,
      patchId: p.patchId,
    })),
    warnings: s.warnings,
  };
}

function note(n: { text: string; refersTo: string | null; relation: string }): string {
  const ref = n.refersTo === null ? "vs previous" : `${n.relation === "in" ? "in" : "vs"} ${n.refersTo}`;
  return `(${ref}) ${n.text}`;
}

function seriesText(s: Series): string {
  const out: string[] = [];
  const flags = [s.version.resend ? "RESEND" : "", s.version.rfc ? "RFC" : ""].filter(Boolean).join(" ");
  out.push(`${s.title}`);
  out.push(`  version:  ${s.version.label}${flags ? ` ${flags}` : ""}   (${s.origin})`);
  out.push(`  author:   ${s.author.name} <${s.author.email}>${s.date ? `, ${s.date}` : ""}`);
  out.push(`  base:     ${s.base ?? "(none)"}${s.testedOn ? `   tested on ${s.testedOn}` : ""}`);
  if (s.changeId) out.push(`  change-id: ${s.changeId}`);
  if (s.cover) out.push(`  cover:    <${s.cover.messageId}>`);
  for (const n of s.cover?.changelog ?? []) out.push(`    - ${note(n)}`);
  const missing = describeMissing(seriesMissing(s), s.total);
  out.push(`  patches:  ${s.patches.length}/${s.total}${missing ? ` (missing ${missing})` : ""}`);
  for (const p of s.patches) {
    out.push(`  ${String(p.index).padStart(3)}/${p.total} ${p.title}`);
    for (const f of p.files)
      out.push(`          ${f.status.padEnd(8)} ${f.path} (+${f.additions} -${f.deletions})`);
    for (const n of p.changelog) out.push(`          - ${note(n)}`);
  }
  for (const w of s.warnings) out.push(`  warning: ${w.message}`);
  return out.join("\n");
}

function chainText(chain: SeriesChain): string {
  const out = ["chain (oldest first):"];
  for (const e of chain.entries) {
    const follows = e.follows ? `follows ${e.follows} (${e.linkedBy})` : "first";
    const same = e.sameCodeAs ? `, same code as ${e.sameCodeAs}` : "";
    out.push(`  ${e.id.padEnd(12)} <${e.messageId}>  ${follows}${same}`);
  }
  for (const w of chain.warnings) out.push(`  warning: ${w}`);
  return out.join("\n");
}

export function register(program: Command): void {
  program
    .command("series")
    .description(
      "read patch series (mbox file, directory of mails, pr:owner/repo#n, git:<dir>:<a>..<b>) and show version, patches, base, changelog and, given several, the version chain",
    )
    .argument("<input...>", "series inputs")
    .option("--json", "print JSON")
    .option(
      "--archive <dir>",
      "local archive (public-inbox repository, mbox or directory of mails) where message-id inputs are looked up",
    )
    .option(
      "--store <dir>",
      "also keep each series, whole, in this directory (the store review --store and b4-check --store read)",
    )
    .action(async (inputs: string[], opts: { json?: boolean; store?: string; archive?: string }) => {
      await requireCommandPaths({ inputs, ...(opts.archive !== undefined ? { archive: opts.archive } : {}) });
      const { loadInputs } = await import("../../node/inputs.ts");
      const { chainVersions } = await import("../../series/chain.ts");
      const { seriesKey } = await import("../../series/patchid.ts");
      const all = await loadInputs(inputs, opts.archive !== undefined ? { archive: opts.archive } : {});
      const chain = chainVersions(all);
      const ordered = chain.entries.map((e) => all[e.input] as Series);
      if (opts.store !== undefined) {
        const dir = opts.store;
        await mkdir(dir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
          throw new InputError(`cannot create the store: ${e.code ?? e.message}`, { subject: dir });
        });
        for (const s of all) await writeFile(join(dir, `${seriesKey(s)}.json`), `${JSON.stringify(s)}\n`);
      }
      if (opts.json) {
        const newest = ordered[ordered.length - 1] as Series;
        const doc = {
          ...seriesJson(newest, seriesKey(newest)),
          chain: chain.entries,
          chainWarnings: chain.warnings,
          ...(all.length > 1
            ? {
                inputs: ordered.map((s, i) => ({ id: chain.entries[i]?.id, ...seriesJson(s, seriesKey(s)) })),
              }
            : {}),
        };
        printJson(doc);
        return;
      }
      printText(`${ordered.map(seriesText).join("\n\n")}\n`);
      if (all.length > 1) printText(`\n${chainText(chain)}\n`);
    });
}
