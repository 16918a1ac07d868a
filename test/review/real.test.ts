/** The review room on the real mails (../shared/lkml): the RESEND still carries v16's spinlock bugs. */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import { loadInput } from "../../src/node/inputs.ts";
import type { B4Check } from "../../src/report/index.ts";
import type { ReviewReport } from "../../src/review/index.ts";
import { runCli } from "../helpers/cli.ts";
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

describe.skipIf(!has)("the same review from every front end (real mails)", () => {
  it("b4-check on the RESEND's cover letter says fail with the CLI's verdict line", async () => {
    const cli = JSON.parse((await runCli(["review", RESEND, "--format", "json"])).out) as ReviewReport;
    const cover = await readFile(join(RESEND, "0.eml"));
    const r = await runCli(["b4-check", "--series", RESEND], cover);
    expect(r.code).toBe(0);
    const [c] = JSON.parse(r.out) as B4Check[];
    expect(c?.status).toBe("fail");
    expect(c?.summary).toBe(cli.verdict.line);
  });
});

describe.skipIf(!has)("the version a series follows (real mails)", () => {
  it("is taken from the chain of the stored series before the built-in versions, and the report says why", async () => {
    const store = await mkdtemp(join(tmpdir(), "rproc-chain-"));
    try {
      await writeFile(join(store, "v14.json"), JSON.stringify(await loadInput(join(SHARED, "lkml", "v14"))));
      const r = await runCli([
        "review",
        join(SHARED, "lkml", "v15"),
        "--store",
        store,
        "--format",
        "json",
        "--explore-depth",
        "0",
      ]);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.out) as ReviewReport;
      expect(report.comparison.why).toMatch(/the version it follows in the chain/);
      expect(report.a.factSource).toBe("mapper");
      expect(report.a.series?.version).toBe("v14");
    } finally {
      await rm(store, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!has)("the reports of the real reviews", () => {
  // 87 lines: 80, plus the 7 of the cause the CONFIG_REMOTEPROC_TEE=n scenario finds (the WARN_ON of the
  // header's rproc_tee_unregister stub on remove, carried since v13): its line in the list and its excerpt;
  // plus the 2 of the note that v16's base (0a0ba9924445) is not the hand model's Linux v6.15; plus the 6 of the
  // double-release's excerpt (the posted line whose tee_client_invoke_func sent the second RELEASE_FW); plus the
  // 3 of the note that the series' Kconfig and Makefile are read by nothing.
  it("the v15 -> v16 mail is under 100 lines, lists each root cause once and fits a list mail", async () => {
    const r = await runCli(["review", join(SHARED, "lkml", "v16"), "--format", "email"]);
    const lines = r.out.trimEnd().split("\n");
    expect(lines.length).toBeLessThanOrEqual(98);
    expect(r.out).toContain("note:       v16: based on 0a0ba9924445, but the hand model's files");
    expect(r.out).toMatch(/RC\d+ carried since v13: warn in rproc_tee_unregister\(\) \(include\/lin/);
    expect(r.out).toMatch(
      /RC\d+ include\/linux\/remoteproc_tee\.h:\d+ \(patch 2\):\n.*\n +>> +\d+ +WARN_ON\(1\);/,
    );
    expect(r.out).toContain("ran:        v16: remoteproc_tee.c from C; the rest from the model");
    expect(new TextEncoder().encode(r.out).length).toBeLessThan(100_000);
    const causes = lines
      .filter((l) => /^ {2}RC\d+ (introduced|carried)/.test(l))
      .map((l) => l.trim().split(" ")[0]);
    expect(new Set(causes).size).toBe(causes.length);
    // The three sleep-in-atomic findings share the spinlock: one cause, with the posted line.
    expect(
      lines.filter((l) => /^ {2}RC\d+ introduced: sleep-in-atomic under spinlock ctx_lock/.test(l)),
    ).toHaveLength(1);
    expect(r.out).toMatch(/>> +\d+ +spin_lock\(&ctx_lock\);/);
  });

  it("every format of the v15 -> v16 review fits where it goes", { timeout: 120_000 }, async () => {
    const v16 = join(SHARED, "lkml", "v16");
    const size = (t: string) => new TextEncoder().encode(t).length;
    // markdown is the check run's text: GitHub takes 65,535 characters
    const md = (await runCli(["review", v16, "--format", "markdown"])).out;
    expect(md.length).toBeLessThanOrEqual(65_535);
    expect(md).toMatch(/^### Root causes \(\d+\)$/m);
    // the sticky comment is one screen: the verdict, one row per root cause, a link
    const { renderComment } = await import("../../src/report/github.ts");
    const json = (await runCli(["review", v16, "--format", "json"])).out;
    const report = JSON.parse(json) as ReviewReport;
    const comment = renderComment(report, {});
    expect(comment.split("\n").length).toBeLessThanOrEqual(40);
    expect(size(comment)).toBeLessThan(8_000);
    // the JSON and the HTML page are the full report, served by the bot: bounded, not trimmed
    expect(size(json)).toBeLessThan(5_000_000);
    const html = (await runCli(["review", v16, "--format", "html"])).out;
    expect(html).toContain("<h2>Root causes");
    expect(size(html)).toBeLessThan(8_000_000);
    // b4 shows the details under each check: a few screens
    const checks = JSON.parse(
      (await runCli(["b4-check", "--series", v16], new Uint8Array(await readFile(join(v16, "2.eml"))))).out,
    ) as B4Check[];
    for (const c of checks) expect(size(c.details)).toBeLessThan(12_000);
  });

  it("the RESEND's mail names the carried spinlock cause", async () => {
    const r = await runCli(["review", RESEND, "--format", "email"]);
    expect(r.out).toMatch(/RC\d+ carried since v16: sleep-in-atomic under spinlock ctx_lock/);
    // The RESEND runs from C, built-in v16 from the model: the ran line and the note (see above), and the
    // cause of the CONFIG_REMOTEPROC_TEE=n scenario, and the double-release's excerpt, and the build files' note.
    expect(r.out.trimEnd().split("\n").length).toBeLessThanOrEqual(96);
  });
});
