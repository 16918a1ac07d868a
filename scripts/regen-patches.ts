/**
 * Regenerates patches/<id>/manifest.json and patches/<id>/facts.json from the mails of each built-in version
 * (default ../shared/lkml/<id>/*.eml). The facts are what the mapper derives from the mails; nothing here is
 * copied from them but message-ids, subjects and digests.
 *
 *   npx tsx scripts/regen-patches.ts [lkml dir]
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cParser } from "../src/node/c-parser.ts";
import { loadInput } from "../src/node/inputs.ts";
import { mapSeries } from "../src/semantics/map/index.ts";
import { mapJson } from "../src/semantics/map/report.ts";

export const PATCH_IDS = ["v13", "v14", "v15", "v16", "v16-resend"] as const;
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_LKML = resolve(REPO, "..", "shared", "lkml");

/** The two files of one version, as text, derived from the mails in `dir`. */
export async function derivePatchFiles(dir: string): Promise<{ manifest: string; facts: string }> {
  const series = await loadInput(dir);
  const names = (await readdir(dir))
    .filter((n) => n.endsWith(".eml"))
    .sort(new Intl.Collator("en", { numeric: true }).compare);
  const mails = [];
  for (const name of names) {
    const bytes = await readFile(join(dir, name));
    mails.push({ file: name, sha256: createHash("sha256").update(bytes).digest("hex") });
  }
  const manifest = {
    id: basename(dir),
    title: series.title,
    base: series.base,
    cover: series.cover ? { messageId: series.cover.messageId, subject: series.cover.subject } : null,
    patches: series.patches.map((p) => ({
      index: p.index,
      subject: p.subject,
      messageId: p.messageId,
      patchId: p.patchId,
    })),
    mails,
  };
  const facts = mapJson(series, mapSeries(series, await cParser()));
  return { manifest: `${JSON.stringify(manifest, null, 2)}\n`, facts: `${JSON.stringify(facts, null, 2)}\n` };
}

async function main(): Promise<void> {
  const lkml = resolve(process.argv[2] ?? DEFAULT_LKML);
  for (const id of PATCH_IDS) {
    const out = join(REPO, "patches", id);
    const files = await derivePatchFiles(join(lkml, id));
    await mkdir(out, { recursive: true });
    await writeFile(join(out, "manifest.json"), files.manifest);
    await writeFile(join(out, "facts.json"), files.facts);
    process.stdout.write(`patches/${id}: manifest.json, facts.json\n`);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main();
