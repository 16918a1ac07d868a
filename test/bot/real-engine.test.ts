import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";
import { checkTitle, STICKY_MARKER } from "../../src/bot/jobs.ts";
import { createReviewEngine } from "../../src/bot/review-engine.ts";
import { main } from "../../src/cli/main.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { deliver, eventually, type Harness, harness } from "./helpers.ts";

/** The mapper's fixture series: a TEE loader in three patches, as a pull request of three commits. */
const MBOX = fileURLToPath(new URL("../fixtures/map/tee-series.mbox", import.meta.url));
const mails = readFileSync(MBOX, "utf8")
  .split(/^(?=From [0-9a-f]{40} )/m)
  .filter((m) => !/^Subject: \[PATCH v2 0\/3\]/m.test(m));
const SHAS = ["c1", "c2", "c3"].map((p) => p.repeat(20));
const HEAD = SHAS[2] as string;

const payload = {
  action: "opened",
  number: 7,
  installation: { id: 99 },
  repository: { name: "linux", owner: { login: "rproc" }, full_name: "rproc/linux" },
  pull_request: { number: 7, head: { sha: HEAD } },
};

let h: Harness | null = null;
afterAll(async () => {
  await h?.close();
});

describe("the bot with the real review engine", () => {
  it("posts the review the CLI prints for the same series", { timeout: 180_000 }, async () => {
    expect(mails).toHaveLength(3);
    const engine = createReviewEngine({ parser: await cParser() });
    h = await harness(engine);
    h.fake.addPull({
      owner: "rproc",
      repo: "linux",
      number: 7,
      title: "[PATCH v2] remoteproc: fixture TEE loader",
      body: "A fixture series for the rproc-review mapper tests.",
      baseSha: "0".repeat(40),
      commits: mails.map((patch, i) => ({ sha: SHAS[i] as string, patch })),
    });
    const s = await h.start({ RPROC_PUBLIC_URL: "https://rproc-review.example.org" });
    expect((await deliver(s.url, "pull_request", payload)).status).toBe(202);
    const fake = h.fake;
    const logs = h.logs;
    await eventually("the check run", () => fake.checkRuns.length === 1, {
      ms: 150_000,
      diagnose: () => logs.join("\n"),
    });

    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    let cli: { verdict: { status: string; line: string } };
    try {
      // The CLI's default: the series' TEE driver runs from C, as the bot's engine runs it.
      expect(await main(["node", "rproc-review", "diff", "mainline", MBOX, "--json"])).toBe(0);
      cli = JSON.parse(out.mock.calls.map((c) => String(c[0])).join(""));
    } finally {
      out.mockRestore();
    }
    const conclusion = { pass: "success", warn: "neutral", fail: "failure" }[cli.verdict.status];
    expect(cli.verdict.line).toMatch(/^mainline → v2: /);
    expect(fake.checkRuns).toEqual([
      expect.objectContaining({
        head_sha: HEAD,
        conclusion,
        output: expect.objectContaining({ title: checkTitle(cli.verdict.line), summary: cli.verdict.line }),
      }),
    ]);
    expect(fake.comments).toHaveLength(1);
    expect(fake.comments[0]?.body.startsWith(STICKY_MARKER)).toBe(true);
    expect(fake.comments[0]?.body).toContain(cli.verdict.line);
    // The comment is one screen; the check run carries the report, where the pull request is named by its
    // pr: input, so a reader can run the commands as printed.
    expect(fake.comments[0]?.body).toContain("rproc-review check run");
    expect(fake.comments[0]?.body).not.toContain("**Reproduce:**");
    const text = String((fake.checkRuns[0] as { output?: { text?: string } }).output?.text ?? "");
    expect(text).toContain("**Reproduce:** `rproc-review matrix --versions 'mainline,pr:rproc/linux#7'");
    // The exploration runs the series' posted C, whose TEE driver defers the STM32 probe (the mapper fixture's
    // driver): no sequence raises anything there, so there is no replay command; the section says what ran.
    expect(text).toContain("v2 explored on its posted C");
    expect(text).not.toMatch(/`rproc-review replay --version 'pr:rproc\/linux#7' --events /);
    // The full report is kept with the run: the check run's details and the comment link it, the service
    // serves it.
    const details = String((fake.checkRuns[0] as { details_url?: string }).details_url ?? "");
    expect(details).toMatch(/^https:\/\/rproc-review\.example\.org\/reports\/[0-9a-f]{24}$/);
    expect(fake.comments[0]?.body).toContain(`[full report](${details})`);
    const kept = await fetch(`${s.url}${new URL(details).pathname}.json`);
    expect(kept.status).toBe(200);
    expect(((await kept.json()) as { verdict: { line: string } }).verdict.line).toBe(cli.verdict.line);
    const page = await fetch(`${s.url}${new URL(details).pathname}`);
    expect(await page.text()).toContain("<h2>Matrix</h2>");

    // The stored revision against the series under review: the same code, so nothing differs.
    const comment = {
      action: "created",
      installation: payload.installation,
      repository: payload.repository,
      issue: { number: 7, pull_request: { url: "https://api.github.com/repos/rproc/linux/pulls/7" } },
      comment: {
        id: 77,
        body: "/rproc-review diff v2",
        author_association: "OWNER",
        user: { login: "rita", type: "User" },
      },
    };
    expect((await deliver(s.url, "issue_comment", comment)).status).toBe(202);
    await eventually("the reply", () => fake.comments.length === 2, { diagnose: () => logs.join("\n") });
    // The fixture posts no remoteproc_tee.h, so its config scenario cannot run its stubs and says so.
    expect(fake.comments[1]?.body).toMatch(
      /v2 → v2 \(B\): cannot review 1 of \d+ scenarios: [^\n]*no CONFIG_REMOTEPROC_TEE=n stubs[^\n]*, 0 of \d+ reviewed scenarios behave differently/,
    );
  });
});
