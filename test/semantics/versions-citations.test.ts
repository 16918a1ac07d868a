/**
 * The hand-read facts cite their sources: every comment line of src/semantics/versions.ts that cites patches
 * ([vNN/i]) and names C functions (name()) must name functions that appear in at least one of the cited
 * patch mails. Needs the saved mails in ../shared/lkml; skipped without them.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sharedAvailable } from "../helpers/shared.ts";

const ROOT = join(import.meta.dirname, "../..");
const LKML = join(ROOT, "../shared/lkml");
const has = sharedAvailable(LKML);
if (!has) console.warn(`versions-citations: ${LKML} is absent, citation checks skipped`);

describe.skipIf(!has)("citations of the built-in facts", () => {
  it("every function a citing comment names appears in one of the patches it cites", () => {
    const lines = readFileSync(join(ROOT, "src/semantics/versions.ts"), "utf8").split("\n");
    const mails = new Map<string, string>();
    const mail = (ref: string): string => {
      const cached = mails.get(ref);
      if (cached !== undefined) return cached;
      const [version, patch] = ref.split("/") as [string, string];
      const text = readFileSync(join(LKML, version, `${patch}.eml`), "utf8");
      mails.set(ref, text);
      return text;
    };
    let checked = 0;
    const problems: string[] = [];
    lines.forEach((line, i) => {
      const comment = line.slice(line.indexOf("//") + 2);
      if (!line.includes("//")) return;
      const refs = [...comment.matchAll(/\[(v1[3-6](?:-resend)?\/\d+)\]/g)].map((m) => m[1] as string);
      const fns = [...comment.matchAll(/\b([a-z_][a-z0-9_]*)\(\)/g)].map((m) => m[1] as string);
      if (refs.length === 0 || fns.length === 0) return;
      for (const fn of fns) {
        checked += 1;
        if (!refs.some((ref) => mail(ref).includes(fn)))
          problems.push(`line ${i + 1}: ${fn} not in ${refs.join(" ")}`);
      }
    });
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });
});
