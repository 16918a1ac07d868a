import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { parseMailCommand } from "../../src/mail/commands.ts";
import { signMail } from "../../src/mail/hmac.ts";
import { runCli } from "../helpers/cli.ts";
import {
  bodyOf,
  FROM,
  headerOf,
  LIST,
  MAIL_SECRET,
  MAILS,
  type MailHarness,
  MBOX,
  mailHarness,
} from "./helpers.ts";

interface OutboxRow {
  id: number;
  job_id: number;
  status: string;
  eml: string;
  to: string[];
}

function outbox(dbPath: string): OutboxRow[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db
      .prepare<[], { id: number; job_id: number; status: string; body: string }>(
        "SELECT id, job_id, status, body FROM outbox WHERE kind = 'mail' ORDER BY id",
      )
      .all()
      .map((r) => {
        const body = JSON.parse(r.body) as { eml: string; to: string[] };
        return { id: r.id, job_id: r.job_id, status: r.status, eml: body.eml, to: body.to };
      });
  } finally {
    db.close();
  }
}

/** A reply to `parent` (a mail of the thread) with `text` as its body. */
function replyMail(
  id: string,
  parent: { messageId: string; references: string[] },
  subject: string,
  text: string,
): string {
  return [
    "From: Mathieu Reviewer <mathieu@example.org>",
    `Subject: Re: ${subject}`,
    "Date: Tue, 6 Jan 2026 08:00:00 +0000",
    `Message-ID: <${id}>`,
    `In-Reply-To: <${parent.messageId}>`,
    `References: ${[...parent.references, parent.messageId].map((r) => `<${r}>`).join(" ")}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    "> quoted text of the bot",
    "",
    text,
    "",
  ].join("\n");
}

const COVER = "fixture-v2-0@example.org";
const SUBJECT = "[PATCH v2 0/3] remoteproc: fixture TEE loader";

let h: MailHarness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

describe("POST /mail", () => {
  it("refuses a body without a valid signature", async () => {
    h = await mailHarness();
    const bad = await h.bot.app.request("/mail", {
      method: "POST",
      body: MBOX,
      headers: { "x-rproc-signature": await signMail("another-secret-0123456789", MBOX) },
    });
    expect(bad.status).toBe(401);
    const none = await h.bot.app.request("/mail", { method: "POST", body: MBOX });
    expect(none.status).toBe(401);
    expect(outbox(h.dbPath)).toEqual([]);
  });

  it("turns a posted mbox into exactly one reply threaded to the cover letter, within 72 columns", {
    timeout: 60_000,
  }, async () => {
    h = await mailHarness();
    const res = await h.post(MBOX);
    expect(res.status).toBe(202);
    const answer = (await res.json()) as { jobs: number[]; messages: Array<{ outcome: string }> };
    expect(answer.messages.map((m) => m.outcome)).toEqual(["part", "part", "part", "part"]);
    expect(answer.jobs).toHaveLength(1);
    // The same mails again (a second delivery, a poller overlap) change nothing.
    const again = (await (await h.post(MBOX)).json()) as {
      jobs: number[];
      messages: Array<{ outcome: string }>;
    };
    expect(again.messages.map((m) => m.outcome)).toEqual([
      "duplicate",
      "duplicate",
      "duplicate",
      "duplicate",
    ]);
    expect(again.jobs).toEqual([]);

    expect(await h.drain()).toBe(1);
    const rows = outbox(h.dbPath);
    expect(rows).toHaveLength(1);
    const mail = rows[0] as OutboxRow;
    expect(headerOf(mail.eml, "Subject")).toBe(`Re: ${SUBJECT}`);
    expect(headerOf(mail.eml, "In-Reply-To")).toBe(`<${COVER}>`);
    expect(headerOf(mail.eml, "References")?.split(" ").at(-1)).toBe(`<${COVER}>`);
    expect(headerOf(mail.eml, "From")).toBe(FROM);
    expect(headerOf(mail.eml, "Cc")).toBe(LIST);
    expect(mail.to).toEqual(["rita.fixture@example.org", LIST]);
    const long = bodyOf(mail.eml)
      .split("\n")
      .filter(
        (l) =>
          l.length > 72 &&
          !/^\s*\S+$/.test(l) &&
          !l.startsWith("        ") &&
          !/^\s*(RC\d+ +)?(rproc-review |url: |patch link: |\| Closes: )/.test(l),
      );
    expect(long).toEqual([]);
    expect(bodyOf(mail.eml)).toMatch(/^Verdict: (PASS|WARN|FAIL): /m);
    // The review room's verdict, the one the CLI prints by default for the same mails: the series' TEE driver
    // runs from C in both.
    const cli = await runCli([
      "review",
      fileURLToPath(new URL("../fixtures/map/tee-series.mbox", import.meta.url)),
      "--format",
      "json",
    ]);
    const verdict = (JSON.parse(cli.out) as { verdict: { status: string; line: string } }).verdict;
    expect(bodyOf(mail.eml).replace(/\s+/g, " ")).toContain(
      `Verdict: ${verdict.status.toUpperCase()}: ${verdict.line.replace(/→/g, "->")}.`,
    );
    // The commands name the series by a file the reader fetches from the list by its message-id.
    expect(bodyOf(mail.eml)).toContain(`b4 am -o - ${COVER} > v2.mbox`);
    expect(bodyOf(mail.eml)).toMatch(/rproc-review diff \S+ v2\.mbox --format html/);
    // Dry run: written to the outbox directory as <id>.eml, not sent.
    expect(mail.status).toBe("pending");
    expect(readFileSync(join(h.outboxDir, `${mail.id}.eml`), "utf8")).toBe(mail.eml);
  });

  it("compares a new version with the one it follows among the series it reviewed before", {
    timeout: 90_000,
  }, async () => {
    h = await mailHarness();
    expect((await h.post(MBOX)).status).toBe(202);
    expect(await h.drain()).toBe(1);
    // v3 of the same series, posted later: new message-ids, same author, title and files.
    const v3 = MBOX.toString("utf8")
      .replace(/\[PATCH v2 /g, "[PATCH v3 ")
      .replace(/fixture-v2-/g, "fixture-v3-")
      .replace(/^Date: .*$/gm, "Date: Mon, 12 Jan 2026 09:00:00 +0000");
    expect((await h.post(v3)).status).toBe(202);
    expect(await h.drain()).toBe(1);
    const rows = outbox(h.dbPath);
    expect(rows).toHaveLength(2);
    const body = bodyOf((rows[1] as OutboxRow).eml).replace(/\s+/g, " ");
    expect(body).toContain("compared them with v2");
    expect(body).toMatch(/Verdict: \w+: v2 -> v3: /);
  });

  it("keeps the full report with the run, links it from the reply and serves it at GET /reports/<id>", {
    timeout: 60_000,
  }, async () => {
    h = await mailHarness({ RPROC_PUBLIC_URL: "https://rproc-review.example.org/" });
    expect((await h.post(MBOX)).status).toBe(202);
    expect(await h.drain()).toBe(1);
    const body = bodyOf((outbox(h.dbPath)[0] as OutboxRow).eml);
    const url = /https:\/\/rproc-review\.example\.org\/reports\/([0-9a-f]{24})/.exec(body);
    expect(url).not.toBeNull();
    const id = url?.[1] as string;
    const json = await h.bot.app.request(`/reports/${id}.json`);
    expect(json.status).toBe(200);
    const report = (await json.json()) as { verdict: { line: string }; causes: unknown[] };
    expect(body.replace(/\s+/g, " ")).toContain(report.verdict.line.replace(/→/g, "->"));
    expect(report.causes.length).toBeGreaterThan(0);
    const page = await h.bot.app.request(`/reports/${id}`);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(await page.text()).toContain("<h2>Root causes");
    expect((await h.bot.app.request(`/reports/${"0".repeat(24)}`)).status).toBe(404);
    expect((await h.bot.app.request("/reports/../../etc/passwd")).status).toBe(404);
  });

  it("rejects a body that holds no message with a clear 400", async () => {
    h = await mailHarness();
    const res = await h.post("\n\n");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/no message/);
  });
});

describe("series assembly", () => {
  it("waits for every part, then reviews once; a restart in between loses nothing", {
    timeout: 60_000,
  }, async () => {
    h = await mailHarness();
    const [cover, p1, p2, p3] = MAILS as [string, string, string, string];
    // Out of order: a patch before its cover letter.
    for (const m of [p2, cover]) expect((await h.post(m)).status).toBe(202);
    expect(await h.drain()).toBe(0);
    await h.restart();
    const r1 = (await (await h.post(p1)).json()) as { jobs: number[] };
    expect(r1.jobs).toEqual([]);
    const r3 = (await (await h.post(p3)).json()) as { jobs: number[] };
    expect(r3.jobs).toHaveLength(1);
    // Assembled and queued, then the service restarts before the worker ran: the job is still there.
    await h.restart();
    expect(await h.drain()).toBe(1);
    const rows = outbox(h.dbPath);
    expect(rows).toHaveLength(1);
    expect(headerOf((rows[0] as OutboxRow).eml, "In-Reply-To")).toBe(`<${COVER}>`);
    expect(bodyOf((rows[0] as OutboxRow).eml)).not.toMatch(/Incomplete series/);
  });

  it("queues an assembled series that a crash left without its job", { timeout: 60_000 }, async () => {
    h = await mailHarness();
    for (const m of MAILS.slice(0, 3)) await h.post(m);
    // The crash point: the series was marked assembled, then the process died before queueing its review.
    expect(await h.mail.context.store.finishAssembly(COVER, "assembled", true, h.now.value)).toBe(true);
    await h.restart();
    expect(await h.drain()).toBe(0);
    await h.mail.tick();
    expect(await h.drain()).toBe(1);
    expect(outbox(h.dbPath)).toHaveLength(1);
    await h.mail.tick();
    expect(await h.drain()).toBe(0);
  });

  it("assembles a deeply threaded series whose parts arrive out of order", { timeout: 60_000 }, async () => {
    h = await mailHarness();
    const [cover, p1, p2, p3] = MAILS as [string, string, string, string];
    // git send-email --chain-reply-to: each patch answers the one before it.
    const chain = (mail: string, parents: string[]) =>
      mail
        .replace(/^In-Reply-To: .*$/m, `In-Reply-To: <${parents.at(-1)}>`)
        .replace(/^References: .*$/m, `References: ${parents.map((p) => `<${p}>`).join(" ")}`);
    const deep2 = chain(p2, [COVER, "fixture-v2-1@example.org"]);
    const deep3 = chain(p3, [COVER, "fixture-v2-1@example.org", "fixture-v2-2@example.org"]);
    const jobs: number[] = [];
    for (const m of [deep3, deep2, cover, p1])
      jobs.push(...((await (await h.post(m)).json()) as { jobs: number[] }).jobs);
    expect(jobs).toHaveLength(1);
    expect(await h.drain()).toBe(1);
    const rows = outbox(h.dbPath);
    expect(rows).toHaveLength(1);
    expect(bodyOf((rows[0] as OutboxRow).eml)).not.toMatch(/Incomplete series/);
  });

  it("reviews what arrived after the timeout, with an incomplete-series note", {
    timeout: 60_000,
  }, async () => {
    h = await mailHarness();
    const [cover, p1, p2] = MAILS as [string, string, string, string];
    for (const m of [cover, p1, p2]) await h.post(m);
    await h.mail.tick();
    expect(await h.drain()).toBe(0);
    h.now.value += 10 * 60_000;
    await h.mail.tick();
    expect(await h.drain()).toBe(1);
    const rows = outbox(h.dbPath);
    expect(rows).toHaveLength(1);
    const body = bodyOf((rows[0] as OutboxRow).eml).replace(/\s+/g, " ");
    expect(body).toMatch(
      /note: Incomplete series: patch 3\/3 had not arrived 10 minutes after the first part/,
    );
    // The late patch does not start a second review.
    const late = (await (await h.post(MAILS[3] as string)).json()) as { jobs: number[] };
    expect(late.jobs).toEqual([]);
    await h.mail.tick();
    expect(await h.drain()).toBe(0);
  });
});

describe("commands in replies", () => {
  it("answers #rproc-review run and diff in the thread, and explains an unknown scenario", {
    timeout: 90_000,
  }, async () => {
    h = await mailHarness();
    await h.post(MBOX);
    await h.drain();
    const review = outbox(h.dbPath)[0] as OutboxRow;
    const botId = (headerOf(review.eml, "Message-ID") ?? "").replace(/[<>]/g, "");
    const thread = { messageId: botId, references: [COVER] };

    const run = replyMail("cmd-run@example.org", thread, SUBJECT, "#rproc-review run boot");
    const posted = (await (await h.post(run)).json()) as {
      jobs: number[];
      messages: Array<{ outcome: string }>;
    };
    expect(posted.messages[0]?.outcome).toBe("command");
    expect(await h.drain()).toBe(1);
    const answer = outbox(h.dbPath).filter((r) => r.job_id === posted.jobs[0]);
    expect(answer).toHaveLength(1);
    const eml = (answer[0] as OutboxRow).eml;
    expect(headerOf(eml, "Subject")).toBe(`Re: ${SUBJECT}`);
    expect(headerOf(eml, "In-Reply-To")).toBe("<cmd-run@example.org>");
    expect(headerOf(eml, "References")).toBe(`<${COVER}> <${botId}> <cmd-run@example.org>`);
    expect(headerOf(eml, "To")).toBe("Mathieu Reviewer <mathieu@example.org>");
    expect(bodyOf(eml)).toMatch(/^Hi Mathieu,/);
    expect(bodyOf(eml)).toMatch(/This answers the command of Mathieu Reviewer/);
    expect(bodyOf(eml)).toMatch(/of 1 scenario/);

    const diff = replyMail("cmd-diff@example.org", thread, SUBJECT, "#rproc-review diff v15");
    const d = (await (await h.post(diff)).json()) as { jobs: number[] };
    expect(await h.drain()).toBe(1);
    const diffMail = (outbox(h.dbPath).find((r) => r.job_id === d.jobs[0]) as OutboxRow).eml;
    expect(headerOf(diffMail, "In-Reply-To")).toBe("<cmd-diff@example.org>");
    expect(bodyOf(diffMail)).toMatch(/compared them with v15 \(/);

    const bad = replyMail("cmd-bad@example.org", thread, SUBJECT, "#rproc-review run no-such-scenario");
    const b = (await (await h.post(bad)).json()) as { jobs: number[] };
    expect(await h.drain()).toBe(1);
    const badMail = (outbox(h.dbPath).find((r) => r.job_id === b.jobs[0]) as OutboxRow).eml;
    expect(headerOf(badMail, "In-Reply-To")).toBe("<cmd-bad@example.org>");
    expect(bodyOf(badMail)).toMatch(/Unknown scenario no-such-scenario\. Known scenarios: .*boot/s);
  });

  it("ignores a command outside a known thread and a reply without one", async () => {
    h = await mailHarness();
    const stray = replyMail(
      "stray@example.org",
      { messageId: "unknown@example.org", references: [] },
      "hello",
      "#rproc-review run boot",
    );
    const chat = replyMail(
      "chat@example.org",
      { messageId: COVER, references: [] },
      SUBJECT,
      "Looks good to me.",
    );
    const r = (await (await h.post(`${stray}\n`)).json()) as {
      messages: Array<{ outcome: string; reason?: string }>;
    };
    expect(r.messages[0]?.outcome).toBe("ignored");
    const c = (await (await h.post(chat)).json()) as { messages: Array<{ outcome: string }> };
    expect(c.messages[0]?.outcome).toBe("ignored");
    expect(await h.drain()).toBe(0);
  });

  it("obeys only the senders RPROC_MAIL_COMMANDS_FROM names", { timeout: 60_000 }, async () => {
    h = await mailHarness({ RPROC_MAIL_COMMANDS_FROM: "@kernel.example, mathieu@example.org" });
    await h.post(MBOX);
    await h.drain();
    const thread = { messageId: COVER, references: [] };
    const stranger = replyMail("s@example.org", thread, SUBJECT, "#rproc-review run boot").replace(
      "Mathieu Reviewer <mathieu@example.org>",
      "Someone <someone@example.net>",
    );
    const r = (await (await h.post(stranger)).json()) as {
      messages: Array<{ outcome: string; reason?: string }>;
    };
    expect(r.messages[0]).toMatchObject({
      outcome: "ignored",
      reason: "someone@example.net may not give commands",
    });
    const maintainer = replyMail("m@example.org", thread, SUBJECT, "#rproc-review help").replace(
      "Mathieu Reviewer <mathieu@example.org>",
      "Bjorn <bjorn@kernel.example>",
    );
    const m = (await (await h.post(maintainer)).json()) as { messages: Array<{ outcome: string }> };
    expect(m.messages[0]?.outcome).toBe("command");
    const listed = replyMail("l@example.org", thread, SUBJECT, "#rproc-review help");
    expect(((await (await h.post(listed)).json()) as { jobs: number[] }).jobs).toHaveLength(1);
  });

  it("reads the command word only on an unquoted line", () => {
    expect(parseMailCommand("> #rproc-review run boot\nthanks")).toBeNull();
    expect(parseMailCommand("/rproc-review run boot")).toBeNull();
    expect(parseMailCommand("Hi,\n#rproc-review diff v15 v16\n")).toEqual({
      kind: "diff",
      a: "v15",
      b: "v16",
    });
    expect(parseMailCommand("#rproc-review frobnicate")).toMatchObject({
      kind: "invalid",
      line: "#rproc-review frobnicate",
    });
  });
});

describe("configuration", () => {
  it("is off without a secret and names each bad variable", async () => {
    const { loadMailConfig } = await import("../../src/node/mail-config.ts");
    expect(loadMailConfig({})).toBeNull();
    expect(() => loadMailConfig({ RPROC_MAIL_SECRET: "short", SMTP_URL: "http://x" })).toThrow(
      /RPROC_MAIL_SECRET: too short.*SMTP_URL: expected smtp/,
    );
    expect(loadMailConfig({ RPROC_MAIL_SECRET: MAIL_SECRET })?.smtpUrl).toBeNull();
  });
});
