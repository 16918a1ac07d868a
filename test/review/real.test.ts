/** The review room on the real mails (../shared/lkml): the RESEND still carries v16's spinlock bugs. */
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import type { ReviewReport } from "../../src/review/index.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";

const RESEND = join(SHARED, "lkml", "v16-resend");
const has = sharedAvailable(join(RESEND, "0.eml"));

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    const code = await main(["node", "rproc-review", ...args]);
    return { code, out: out.mock.calls.map((c) => String(c[0])).join("") };
  } finally {
    out.mockRestore();
  }
}

describe.skipIf(!has)("review of the v16 RESEND (real mails)", () => {
  it("classes the spinlock findings as carried since v16 and fails", async () => {
    const { code, out } = await cli(["review", RESEND, "--format", "json"]);
    expect(code).toBe(0);
    const r = JSON.parse(out) as ReviewReport;
    expect(r.a.id).toBe("v16");
    expect(r.comparison.why).toMatch(/same code/);
    expect(r.verdict.status).toBe("fail");
    const all = r.diff.scenarios.flatMap((s) => s.findings);
    const spin = all.filter((f) => f.kind === "sleep-in-atomic");
    expect(spin.length).toBeGreaterThan(0);
    for (const f of spin) expect(f).toMatchObject({ class: "carried", since: "v16", inMainline: false });
    for (const f of all.filter((x) => x.class === "pre-existing")) expect(f.inMainline).toBe(true);
  });

  it("exits 1 with --fail-on carried and 0 with --fail-on introduced", async () => {
    expect(
      (await cli(["review", RESEND, "--fail-on", "carried", "--explore-depth", "0", "--json"])).code,
    ).toBe(1);
    expect(
      (await cli(["review", RESEND, "--fail-on", "introduced", "--explore-depth", "0", "--json"])).code,
    ).toBe(0);
  });
});
