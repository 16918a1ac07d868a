import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import {
  type ArchiveMail,
  generateArchive,
  indexArchive,
  parseMail,
  type SplitStats,
  splitMboxStream,
} from "../../src/index/index.ts";
import { openArchive } from "../../src/node/archive.ts";
import { splitMbox } from "../../src/series/index.ts";
import { sharedAvailable } from "../helpers/shared.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/series");
const LKML = join(import.meta.dirname, "../../../shared/lkml");
const haveLkml = sharedAvailable(LKML);
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The fixture series, one list of mail texts per series; bar's changes moved to remoteproc_core.c. */
function fixtureSeries(): { name: string; mails: string[] }[] {
  return readdirSync(FIXTURES)
    .sort()
    .map((name) => {
      const p = join(FIXTURES, name);
      const files = statSync(p).isDirectory()
        ? readdirSync(p)
            .sort()
            .map((f) => join(p, f))
        : [p];
      const mails = files
        .flatMap((f) => splitMbox(new Uint8Array(readFileSync(f))))
        .map((b) => decoder.decode(b));
      return {
        name,
        mails: name.startsWith("bar")
          ? mails.map((m) => m.replaceAll("drivers/foo/foo_core.c", "drivers/remoteproc/remoteproc_core.c"))
          : mails,
      };
    });
}

const REPLY = [
  "From: Zoe Reviewer <zoe@example.net>",
  "Subject: Re: [PATCH v3 1/2] foo: core: log failed boots",
  "Message-ID: <reply-1@example.net>",
  "In-Reply-To: <20260901080000.55-2-jane.roe@example.org>",
  "",
  '> +\tdev_err(dev, "boot failed");',
  "From the log alone this is hard to read.",
  "",
].join("\n");

/** An mboxrd archive of every fixture mail plus a reply (whose body has a "From " line to quote). */
function archiveText(): string {
  const mails = [...fixtureSeries().flatMap((s) => s.mails), REPLY];
  return mails
    .map((m) => `From mboxrd@z Thu Jan  1 00:00:00 1970\n${m.replace(/^(>*From )/gm, ">$1")}\n`)
    .join("");
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function* mailsOf(bytes: Uint8Array, size: number, stats?: SplitStats): AsyncGenerator<ArchiveMail> {
  let i = 0;
  for await (const b of splitMboxStream(chunked(bytes, size), stats)) yield { bytes: b, origin: `a#${++i}` };
}

const tmp = mkdtempSync(join(tmpdir(), "rproc-index-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; out: string }> {
  const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    const code = await main(["node", "rproc-review", ...args]);
    return { code, out: out.mock.calls.map((c) => String(c[0])).join("") };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe("index", () => {
  it("groups the fixtures into version chains and lists only the one touching modelled code", async () => {
    const r = await indexArchive(mailsOf(encoder.encode(archiveText()), 777));
    expect(r.counts).toMatchObject({ mails: 19, patches: 13, covers: 5, other: 1, unreadable: 0 });
    expect(r.series).toBe(5);
    expect(r.chains).toBe(2);
    expect(r.touching).toHaveLength(1);
    const chain = r.touching[0];
    expect(chain?.versions.map((v) => [v.id, v.follows])).toEqual([
      ["v3", null],
      ["v4", "v3"],
    ]);
    expect(chain?.modelled).toEqual(["drivers/remoteproc/remoteproc_core.c"]);
    expect(chain?.author.email).toBe("jane.roe@example.org");
  });

  it("splits a stream exactly as splitMbox splits the whole file, whatever the chunk size", async () => {
    const bytes = encoder.encode(archiveText());
    const whole = splitMbox(bytes);
    for (const size of [1, 13, 4096]) {
      const parts: Uint8Array[] = [];
      for await (const m of splitMboxStream(chunked(bytes, size))) parts.push(m);
      expect(parts).toEqual(whole);
    }
    const single = encoder.encode(REPLY);
    const parts: Uint8Array[] = [];
    for await (const m of splitMboxStream(chunked(single, 10))) parts.push(m);
    expect(parts).toEqual([single]);
  });

  it("streams a generated archive holding one mail and one chunk at a time", async () => {
    const text = [
      ...generateArchive(
        fixtureSeries().map((s) => s.mails.map((t) => ({ text: t }))),
        { mails: 1500, modelledEvery: 10 },
      ),
    ].join("");
    const bytes = encoder.encode(text);
    const stats: SplitStats = { bytes: 0, messages: 0, maxBuffered: 0 };
    const chunk = 16 * 1024;
    const r = await indexArchive(mailsOf(bytes, chunk, stats));
    expect(stats.bytes).toBe(bytes.length);
    expect(r.counts.mails).toBe(stats.messages);
    expect(r.counts.mails).toBeGreaterThanOrEqual(1500);
    expect(stats.maxBuffered).toBeLessThan(chunk + 16 * 1024);
    expect(bytes.length).toBeGreaterThan(100 * stats.maxBuffered);
    // Each copy is its own pair of chains; every 10th copy's bar chain touches modelled code.
    expect(r.series % 5).toBe(0);
    expect(r.chains).toBe((r.series / 5) * 2);
    expect(r.touching.length).toBeGreaterThan(0);
    for (const c of r.touching) expect(c.modelled).toEqual(["drivers/remoteproc/remoteproc_core.c"]);
  });

  it("the plain-text fast path reads what postal-mime reads", async () => {
    const mails = splitMbox(encoder.encode(archiveText()));
    const generated = [
      ...generateArchive(
        fixtureSeries().map((s) => s.mails.map((t) => ({ text: t }))),
        { mails: 40 },
      ),
    ];
    for (const m of [...mails, ...generated.flatMap((g) => splitMbox(encoder.encode(g)))]) {
      expect(await parseMail(m, "x", true)).toEqual(await parseMail(m, "x", false));
    }
  });

  it("reads an mbox file, a directory and a public-inbox v2 repository alike (CLI, --json)", async () => {
    const mbox = join(tmp, "list.mbox");
    writeFileSync(mbox, archiveText());
    const dir = join(tmp, "maildir");
    mkdirSync(dir);
    const texts = [...fixtureSeries().flatMap((s) => s.mails), REPLY];
    texts.forEach((t, i) => {
      writeFileSync(join(dir, `${String(i).padStart(3, "0")}.eml`), t);
    });
    const inbox = join(tmp, "inbox");
    texts.forEach((t, i) => {
      const epoch = join(inbox, "git", `${i < 10 ? 0 : 1}.git`);
      if (i === 0 || i === 10) execFileSync("git", ["init", "-q", "--bare", epoch]);
      const git = (args: string[], input?: string): string =>
        execFileSync("git", ["--git-dir", epoch, ...args], {
          input,
          env: {
            ...process.env,
            GIT_AUTHOR_NAME: "a",
            GIT_AUTHOR_EMAIL: "a@b",
            GIT_COMMITTER_NAME: "a",
            GIT_COMMITTER_EMAIL: "a@b",
          },
        })
          .toString()
          .trim();
      const blob = git(["hash-object", "-w", "--stdin"], t);
      const tree = git(["mktree"], `100644 blob ${blob}\tm\n`);
      const parent = i % 10 === 0 ? [] : ["-p", git(["rev-parse", "HEAD"])];
      git(["update-ref", "HEAD", git(["commit-tree", tree, ...parent, "-m", `mail ${i}`])]);
      if (i === 3) {
        // A deleted mail: public-inbox replaces blob m by d; the index skips it.
        const dtree = git(["mktree"], `100644 blob ${blob}\td\n`);
        git([
          "update-ref",
          "HEAD",
          git(["commit-tree", dtree, "-p", git(["rev-parse", "HEAD"]), "-m", "delete"]),
        ]);
      }
    });
    const results = [];
    for (const source of [mbox, dir, inbox]) {
      const r = await run("index", source, "--json");
      expect(r.code).toBe(0);
      results.push(
        JSON.parse(r.out) as {
          kind: string;
          counts: { mails: number };
          chains: number;
          touching: { modelled: string[] }[];
        },
      );
    }
    expect(results.map((r) => r.kind)).toEqual(["mbox", "directory", "public-inbox"]);
    for (const r of results) {
      expect(r.counts.mails).toBe(19);
      expect(r.chains).toBe(2);
      expect(r.touching.map((c) => c.modelled)).toEqual([["drivers/remoteproc/remoteproc_core.c"]]);
    }
    const opened = await openArchive(inbox);
    let n = 0;
    for await (const m of opened.mails) if (m.origin.startsWith("1.git@")) n++;
    expect(n).toBe(texts.length - 10);
    const text = await run("index", mbox);
    expect(text.out).toMatch(/19 mails .* 5 series in 2 version chains; 1 chain touches modelled code/s);
    expect(text.out).toMatch(/v3 -> v4 {2}"foo: core: diagnostics of boot failures"/);
    expect((await run("index", join(tmp, "missing"))).code).toBe(3); // bad input
  });

  it.skipIf(!haveLkml)(
    "chains the five postings of the series in ../shared/lkml (skipped when absent)",
    async () => {
      const opened = await openArchive(LKML);
      const r = await indexArchive(opened.mails);
      expect(opened.kind).toBe("directory");
      expect(r.touching).toHaveLength(1);
      expect(r.touching[0]?.versions.map((v) => v.id)).toEqual(["v13", "v14", "v15", "v16", "v16-resend"]);
      expect(r.touching[0]?.modelled).toContain("drivers/remoteproc/remoteproc_tee.c");
    },
  );
});
