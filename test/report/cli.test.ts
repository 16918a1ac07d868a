/** diff and b4-check through the CLI, on the built-in versions and, when present, the real mails. */

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { B4Check, ReviewReport } from "../../src/report/index.ts";
import { runCli } from "../helpers/cli.ts";
import { sharedAvailable } from "../helpers/shared.ts";
import { mermaidBlocks, mermaidParse } from "./mermaid-parser.ts";

const LKML = join(import.meta.dirname, "..", "..", "..", "shared", "lkml");
const haveMails = sharedAvailable(join(LKML, "v16", "0.eml"));
if (!haveMails) console.warn(`skipping the tests on the real mails: ${LKML} is absent`);

const run = (args: string[], stdin?: Uint8Array) => runCli(args, stdin);

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  process.exitCode = undefined;
});

describe("rproc-review diff", () => {
  it("compares two built-in versions as JSON, with mainline for pre-existing findings", async () => {
    vi.stubEnv("RPROC_REVIEW_MAILS", await mkdtemp(join(tmpdir(), "no-mails-"))); // empty: no version's mails
    const { code, out } = await run(["diff", "v15", "v16", "--json", "--scenarios", "boot,crash-recovery"]);
    expect(code).toBe(0);
    const r = JSON.parse(out) as ReviewReport;
    expect(r.a.id).toBe("v15");
    expect(r.b.id).toBe("v16");
    expect(r.diff.mainline?.id).toBe("mainline");
    expect(r.a.factSource).toBe("oracle-mapped");
    expect(r.reproduce.command).toBe(
      "rproc-review matrix --versions v15,v16 --scenarios boot,crash-recovery",
    );
    expect(r.changelog.available).toBe(false);
    expect(r.notes.join(" ")).toMatch(/--mails/);
    const boot = r.diff.scenarios.find((s) => s.scenario === "boot");
    const parse = boot?.facts.find((f) => f.path === "tee.parseFwLoads");
    expect(parse?.evidenceB[0]).toMatchObject({
      file: "drivers/remoteproc/remoteproc_tee.c",
      function: "rproc_tee_parse_fw",
    });
  });

  it("writes the email and HTML formats to --out", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rproc-diff-"));
    /** `diff a b` of the boot scenario in `format`, written to `file` in dir without a word on stderr. */
    const written = async (a: string, b: string, format: string, file: string): Promise<string> => {
      const out = join(dir, file);
      const { code, err } = await run([
        "diff",
        a,
        b,
        "--format",
        format,
        "--out",
        out,
        "--scenarios",
        "boot",
        "--debug",
      ]);
      expect(err).toBe("");
      expect(code).toBe(0);
      return readFile(out, "utf8");
    };
    try {
      const text = await written("v14", "v15", "email", "reply.txt");
      expect(text).toMatch(/^From: rproc-review </m);
      expect(text).toContain("Full report: rproc-review diff");
      const html = await written("mainline", "v16", "html", "report.html");
      expect(html).toContain('<pre class="mermaid">');
      expect(html.length).toBeGreaterThan(1_000_000); // mermaid's bundle is inlined
      const diagram = /<pre class="mermaid">([\s\S]*?)<\/pre>/.exec(html)?.[1] ?? "";
      await mermaidParse(
        diagram
          .replace(/&gt;/g, ">")
          .replace(/&lt;/g, "<")
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&amp;/g, "&"),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses an unknown format with exit 2", async () => {
    const { code, err } = await run(["diff", "v15", "v16", "--format", "pdf"]);
    expect(code).toBe(2);
    expect(err).toMatch(/--format: unknown format "pdf"/);
  });

  it.skipIf(!haveMails)("explains what the v16 cover letter claims and what it leaves out", async () => {
    const { code, out } = await run(["diff", "v15", "v16", "--json", "--mails", LKML]);
    expect(code).toBe(0);
    const r = JSON.parse(out) as ReviewReport;
    expect(r.b.series?.replyTo?.messageId).toBe("20250325095833.3059895-1-arnaud.pouliquen@foss.st.com");
    const cover = r.changelog.withDifference.filter((n) => n.where === "cover letter");
    const named = (text: RegExp) => cover.find((n) => text.test(n.note.text))?.facts ?? [];
    expect(named(/load_fw/)).toContain("core.loadFwCalls");
    expect(named(/rproc_tee_parse_fw/)).toContain("tee.parseFwLoads");
    expect(named(/spinlock/)).toEqual(expect.arrayContaining(["tee.ctxLock", "tee.deviceLink"]));
    expect(r.changelog.unmentionedFacts.map((u) => u.path)).toContain("core.loadSegmentsOp");
    const md = (await run(["diff", "v15", "v16", "--mails", LKML])).out;
    expect(md.length).toBeLessThanOrEqual(65_535);
    expect(md).toMatch(/✂️ Trimmed \d+ details sections/);
    expect(md).toContain("⚠️ No changelog note names it.");
    for (const block of mermaidBlocks(md)) await mermaidParse(block);
  });
});

describe("rproc-review review with the report renderers", () => {
  it.skipIf(!haveMails)(
    "exits 1 with --fail-on introduced when the series introduces findings, 0 when not",
    async () => {
      const v16 = await run(["review", join(LKML, "v16"), "--fail-on", "introduced", "--format", "email"]);
      expect(v16.code).toBe(1);
      const head = v16.out.slice(0, v16.out.indexOf("\n\n")).replace(/\n /g, " ");
      expect(head).toContain(
        "Subject: Re: [PATCH v16 0/6] Introduction of a remoteproc tee to load signed firmware",
      );
      expect(v16.out).toContain("In-Reply-To: <20250325095833.3059895-1-arnaud.pouliquen@foss.st.com>");
      const body = v16.out.slice(v16.out.indexOf("\n\n") + 2);
      for (const line of body.split("\n").filter((l) => l.length > 72))
        expect(line).toMatch(
          /^\s*(RC\d+(,RC\d+)* +)?(rproc-review (matrix|replay|diff) |b4 am |url: +https:\/\/|patch link: +https:\/\/|\| Closes: )/,
        );
      const resend = await run([
        "review",
        join(LKML, "v16-resend"),
        "--fail-on",
        "introduced",
        "--json",
        "--format",
        "json",
      ]);
      expect(resend.code).toBe(0);
      expect((JSON.parse(resend.out) as ReviewReport).diff.counts.introduced).toBe(0);
    },
  );

  it("refuses an unknown --fail-on value with exit 2", async () => {
    const mbox = join(import.meta.dirname, "..", "fixtures", "map", "unrelated.mbox");
    const { code, err } = await run(["review", mbox, "--fail-on", "everything"]);
    expect(code).toBe(2);
    expect(err).toMatch(/--fail-on: unknown value "everything"/);
  });
});

describe("rproc-review b4-check", () => {
  it("prints [] for a message that is not a patch", async () => {
    const mail = new TextEncoder().encode(
      "From: A <a@example.org>\nSubject: Re: [PATCH v2 1/2] foo\nMessage-ID: <r@example.org>\n\nThanks!\n",
    );
    const { code, out } = await run(["b4-check"], mail);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual([]);
  });

  it.skipIf(!haveMails)("checks a patch with its series, and says when it checked one alone", async () => {
    const patch2 = await readFile(join(LKML, "v16", "2.eml"));
    const withSeries = await run(["b4-check", "--series", join(LKML, "v16")], patch2);
    expect(withSeries.code).toBe(0);
    const [c] = JSON.parse(withSeries.out) as B4Check[];
    expect(c).toMatchObject({ tool: "rproc-review", status: "fail" });
    expect(c?.summary).toMatch(/^patch 2: \d+ scenarios behave differently from v15 because of this patch/);
    expect(c?.summary).toContain("RC1 introduced sleep-in-atomic at remoteproc_tee.c:");
    expect(c?.details.replace(/\s+/g, " ")).toContain(
      "sleep-in-atomic under spinlock ctx_lock in rproc_tee_register()",
    );
    // The posted line, marked, and what b4 shows stays a few screens.
    expect(c?.details).toMatch(/>> +\d+ +spin_lock\(&ctx_lock\);/);
    expect(c?.details.split("\n").length).toBeLessThan(120);
    const alone = JSON.parse((await run(["b4-check"], patch2)).out) as B4Check[];
    expect(alone[0]?.details).toMatch(/^checked alone/);
    // a series ingested before, found in the store directory by the message's id
    const store = await mkdtemp(join(tmpdir(), "rproc-store-"));
    try {
      // as the README says to fill it: `rproc-review series <input> --store DIR`
      expect((await run(["series", join(LKML, "v16"), "--store", store])).code).toBe(0);
      const stored = JSON.parse((await run(["b4-check", "--store", store], patch2)).out) as B4Check[];
      expect(stored[0]?.summary).toBe(c?.summary);
      expect(stored[0]?.details).not.toMatch(/checked alone/);
    } finally {
      await rm(store, { recursive: true, force: true });
    }
    // A patch of a `b4 prep` branch: its own message-id, no thread, another place in the series; found by
    // its code (patch id) and checked as the posted patch 2.
    const prep = new TextEncoder().encode(
      patch2
        .toString("utf8")
        .replace(/^Message-ID: .*$/m, "Message-ID: <20990101000000.1-4-someone@example.org>")
        .replace(/^(In-Reply-To|References): .*\n/gm, "")
        .replace("[PATCH v16 2/6]", "[PATCH v17 3/7]"),
    );
    const fromPrep = JSON.parse(
      (await run(["b4-check", "--series", join(LKML, "v16")], prep)).out,
    ) as B4Check[];
    expect(fromPrep[0]?.status).toBe("fail");
    expect(fromPrep[0]?.summary).toBe(c?.summary);
    // One review serves the series' other patches (b4 calls the command once a patch); a torn cache file
    // is reviewed again, not trusted.
    const cache = await mkdtemp(join(tmpdir(), "rproc-b4-cache-"));
    try {
      const args = ["b4-check", "--series", join(LKML, "v16"), "--cache", cache];
      await run(args, patch2);
      const files = await readdir(cache);
      expect(files).toHaveLength(1);
      await writeFile(join(cache, files[0] as string), "{ torn");
      const again = JSON.parse((await run(args, patch2)).out) as B4Check[];
      expect(again[0]?.summary).toBe(c?.summary);
      expect(JSON.parse(await readFile(join(cache, files[0] as string), "utf8"))).toHaveProperty("verdict");
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
    const cover = JSON.parse(
      (await run(["b4-check"], await readFile(join(LKML, "v16", "0.eml")))).out,
    ) as B4Check[];
    expect(cover[0]).toMatchObject({
      status: "warn",
      summary: "cover letter checked alone: no patch to run",
    });
  });
});
