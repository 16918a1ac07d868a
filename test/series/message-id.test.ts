/**
 * Naming a series as maintainers do: a message-id or a lore URL resolved through a local public-inbox
 * archive (or b4 when there is none), `-` for an mbox on stdin, and b4's own .mbx with its separate .cover.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { messageIdOf, threadIds } from "../../src/series/thread.ts";
import { runCli } from "../helpers/cli.ts";

const MBOX = fileURLToPath(new URL("../fixtures/map/tee-series.mbox", import.meta.url));
const mails = readFileSync(MBOX, "utf8").split(/^(?=From [0-9a-f]{40} )/m);
const strip = (m: string) => m.replace(/^From [0-9a-f]{40} .*\n/, "");
const COVER = "fixture-v2-0@example.org";

const OTHER = [
  "From: Someone Else <else@example.org>",
  "Subject: [PATCH] mailbox: unrelated fix",
  "Message-ID: <unrelated-1@example.org>",
  "Date: Mon, 5 Jan 2026 09:00:00 +0000",
  "",
  "Not part of the series.",
  "",
].join("\n");
const REPLY = [
  "From: Mathieu Reviewer <mathieu@example.org>",
  "Subject: Re: [PATCH v2 2/3] remoteproc: add a TEE loader",
  "Message-ID: <reply-1@example.org>",
  `In-Reply-To: <fixture-v2-2@example.org>`,
  `References: <${COVER}> <fixture-v2-2@example.org>`,
  "Date: Tue, 6 Jan 2026 08:00:00 +0000",
  "",
  "Looks fine.",
  "",
].join("\n");

const tmp = mkdtempSync(join(tmpdir(), "rproc-msgid-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());

/** A public-inbox v2 repository (git/0.git, one commit a mail, the mail in blob m) holding `texts`. */
function publicInbox(texts: readonly string[]): string {
  const inbox = mkdtempSync(join(tmp, "inbox-"));
  const epoch = join(inbox, "git", "0.git");
  execFileSync("git", ["init", "-q", "--bare", epoch]);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "a",
    GIT_AUTHOR_EMAIL: "a@b",
    GIT_COMMITTER_NAME: "a",
    GIT_COMMITTER_EMAIL: "a@b",
  };
  const git = (args: string[], input?: string): string =>
    execFileSync("git", ["--git-dir", epoch, ...args], { input, env })
      .toString()
      .trim();
  texts.forEach((t, i) => {
    const blob = git(["hash-object", "-w", "--stdin"], t);
    const tree = git(["mktree"], `100644 blob ${blob}\tm\n`);
    const parent = i === 0 ? [] : ["-p", git(["rev-parse", "HEAD"])];
    git(["update-ref", "HEAD", git(["commit-tree", tree, ...parent, "-m", `mail ${i}`])]);
  });
  return inbox;
}

const verdictOf = (out: string) => (JSON.parse(out) as { verdict: { status: string; line: string } }).verdict;

describe("message-id inputs", () => {
  it("reads the forms maintainers paste", () => {
    expect(messageIdOf("<20250325095833.3059895-1-a@foss.st.com>")).toBe(
      "20250325095833.3059895-1-a@foss.st.com",
    );
    expect(messageIdOf("20250325095833.3059895-1-a@foss.st.com")).toBe(
      "20250325095833.3059895-1-a@foss.st.com",
    );
    for (const url of [
      "https://lore.kernel.org/r/x-1-a@foss.st.com",
      "https://lore.kernel.org/linux-remoteproc/x-1-a@foss.st.com/",
      "https://lore.kernel.org/linux-remoteproc/x-1-a@foss.st.com/T/",
      "https://lore.kernel.org/all/x-1-a%40foss.st.com/t.mbox.gz",
      "https://patch.msgid.link/x-1-a@foss.st.com",
    ])
      expect(messageIdOf(url)).toBe("x-1-a@foss.st.com");
    expect(messageIdOf("series.mbox")).toBeNull();
    expect(messageIdOf("https://example.org/x@y/z/w")).toBeNull();
    expect(messageIdOf("pr:owner/repo#1")).toBeNull();
  });

  it("reads the threading headers only, folded or not", () => {
    const t = threadIds(new TextEncoder().encode(`${REPLY.replace("References: <", "References:\n <")}`));
    expect(t).toEqual({
      messageId: "reply-1@example.org",
      inReplyTo: "fixture-v2-2@example.org",
      references: [COVER, "fixture-v2-2@example.org"],
    });
  });

  it("reviews the series a patch's message-id or a lore URL names, from a public-inbox archive", {
    timeout: 60_000,
  }, async () => {
    const inbox = publicInbox([OTHER, ...mails.map(strip), REPLY]);
    const direct = await runCli(["review", MBOX, "--json"]);
    expect(direct.code).toBe(0);
    const byPatch = await runCli(["review", "<fixture-v2-2@example.org>", "--archive", inbox, "--json"]);
    expect(byPatch.err).toBe("");
    expect(verdictOf(byPatch.out)).toEqual(verdictOf(direct.out));
    const byUrl = await runCli([
      "series",
      `https://lore.kernel.org/linux-remoteproc/${COVER}/`,
      "--archive",
      inbox,
      "--json",
    ]);
    const doc = JSON.parse(byUrl.out) as { series: { cover: { messageId: string } }; patches: unknown[] };
    expect(doc.series.cover.messageId).toBe(COVER);
    expect(doc.patches).toHaveLength(3);
    // The environment names the archive too.
    vi.stubEnv("RPROC_REVIEW_ARCHIVE", inbox);
    expect(verdictOf((await runCli(["review", COVER, "--json"])).out)).toEqual(verdictOf(direct.out));
  });

  it("names what is missing: a message-id not in the archive, no archive and no b4", async () => {
    const inbox = publicInbox([OTHER]);
    const missing = await runCli(["review", "nowhere-1@example.org", "--archive", inbox]);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain("no mail with Message-ID <nowhere-1@example.org> in the archive");
    vi.stubEnv("RPROC_REVIEW_B4", join(tmp, "no-such-b4"));
    const noB4 = await runCli(["review", "nowhere-1@example.org"]);
    expect(noB4.code).not.toBe(0);
    expect(noB4.err).toMatch(/needs a local archive \(--archive .*\) or b4 installed/);
  });

  it("fetches the thread with b4 mbox -o - when there is no archive", { timeout: 60_000 }, async () => {
    // A stand-in for b4 that prints the thread of the one message-id it knows, as b4 mbox -o - does.
    const b4 = join(tmp, "b4");
    const thread = join(tmp, "thread.mbox");
    writeFileSync(thread, readFileSync(MBOX));
    writeFileSync(
      b4,
      `#!/bin/sh\n[ "$1 $2 $3 $4 $5" = "-q mbox -o - ${COVER}" ] || { echo "unexpected: $*" >&2; exit 2; }\ncat '${thread}'\n`,
    );
    chmodSync(b4, 0o755);
    vi.stubEnv("RPROC_REVIEW_B4", b4);
    const r = await runCli(["series", COVER, "--json"]);
    expect(r.err).toBe("");
    expect((JSON.parse(r.out) as { patches: unknown[] }).patches).toHaveLength(3);
  });
});

describe("other inputs b4 users have", () => {
  it("reads an mbox on stdin with -", { timeout: 60_000 }, async () => {
    const direct = await runCli(["review", MBOX, "--json"]);
    const piped = await runCli(["review", "-", "--json"], new Uint8Array(readFileSync(MBOX)));
    expect(verdictOf(piped.out)).toEqual(verdictOf(direct.out));
    const empty = await runCli(["series", "-"], new Uint8Array(0));
    expect(empty.code).not.toBe(0);
    expect(empty.err).toContain("nothing on standard input");
  });

  it("reads b4 am's .mbx with the cover letter from the .cover beside it", async () => {
    const mbx = join(tmp, "v2_20260105_rita_fixture_tee_loader.mbx");
    writeFileSync(mbx, mails.slice(1).join(""));
    const alone = JSON.parse((await runCli(["series", mbx, "--json"])).out) as { series: { cover: unknown } };
    expect(alone.series.cover).toBeNull();
    writeFileSync(mbx.replace(/\.mbx$/, ".cover"), strip(mails[0] as string));
    const withCover = JSON.parse((await runCli(["series", mbx, "--json"])).out) as {
      series: { cover: { messageId: string } };
      patches: unknown[];
    };
    expect(withCover.series.cover.messageId).toBe(COVER);
    expect(withCover.patches).toHaveLength(3);
  });
});
