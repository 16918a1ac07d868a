/**
 * The CLI as a Unix tool: its exit statuses (spawned as a process, and through main() for the many cases),
 * every missing path named, and text from mails and paths made inert on a terminal (issue 19 item 2, issue 20
 * defect 8).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { runProgram } from "../src/cli/main.ts";
import { fitWidth, jsonText, statusLine, terminalText } from "../src/cli/output.ts";
import { EXIT } from "../src/errors.ts";
import { runCli } from "./helpers/cli.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const TEE_SERIES = join(root, "test", "fixtures", "map", "tee-series.mbox");

let tmp: string;

/** A one-patch follow-up editing remoteproc_tee.c, which no series it comes with creates (own text). */
const FOLLOW_UP = `From 2222222222222222222222222222222222222222 Mon Sep 17 00:00:00 2001
From: Sam Sender <sam@example.org>
Date: Tue, 24 Nov 2026 09:00:00 +0000
Subject: [PATCH] remoteproc: tee: sleep-capable lock for the context

Signed-off-by: Sam Sender <sam@example.org>
---
 drivers/remoteproc/remoteproc_tee.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/drivers/remoteproc/remoteproc_tee.c b/drivers/remoteproc/remoteproc_tee.c
index 3333333..4444444 100644
--- a/drivers/remoteproc/remoteproc_tee.c
+++ b/drivers/remoteproc/remoteproc_tee.c
@@ -12,3 +12,3 @@ int rproc_tee_register(struct device *dev, struct rproc *rproc, unsigned int id)
 \tint err;
-\tspin_lock(&ctx_lock);
+\tmutex_lock(&ctx_lock);
 \tif (!ctx.dev)
--${" "}
2.43.0
`;

const ESC = "\x1b";
/** A patch mail whose subject and file path carry terminal escapes: clear screen, red, a window title. */
const HOSTILE = `From 5555555555555555555555555555555555555555 Mon Sep 17 00:00:00 2001
From: Mallory <mallory@example.org>
Date: Wed, 25 Nov 2026 08:00:00 +0000
Subject: [PATCH] foo: ${ESC}[2J${ESC}[31mall clear\x07

Signed-off-by: Mallory <mallory@example.org>
---
 drivers/foo/${ESC}]0;owned\x07x.c | 1 +
 1 file changed, 1 insertion(+)

diff --git a/drivers/foo/${ESC}]0;owned\x07x.c b/drivers/foo/${ESC}]0;owned\x07x.c
index 6666666..7777777 100644
--- a/drivers/foo/${ESC}]0;owned\x07x.c
+++ b/drivers/foo/${ESC}]0;owned\x07x.c
@@ -1,2 +1,3 @@
 int x;
+int y;
 int z;
--${" "}
2.43.0
`;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "rproc-exit-"));
  mkdirSync(join(tmp, "follow-up"));
  writeFileSync(join(tmp, "follow-up", "0001.patch"), FOLLOW_UP);
  writeFileSync(join(tmp, "hostile.mbox"), HOSTILE);
  mkdirSync(join(tmp, "mails"));
});

/** `rproc-review <args>` as a process, from the sources (tsx), with its exit status. */
function spawnCli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "src", "cli", "run.ts"), ...args], {
      cwd: root,
      env: { ...process.env, RPROC_REVIEW_MAILS: join(tmp, "mails") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code, out, err }));
  });
}

describe("exit statuses of the process", () => {
  it("0 for help, 2 for usage, 3 naming every missing path, 1 for a finding, 4 when it cannot say", async () => {
    const [help, usage, missing, findings, cannotSay, none] = await Promise.all([
      spawnCli(["--help"]),
      spawnCli(["review", TEE_SERIES, "--fail-on", "introduced,typo"]),
      spawnCli(["series", join(tmp, "nowhere-1.mbox"), TEE_SERIES, join(tmp, "nowhere-2")]),
      // --model-only: the fixture's TEE driver run from C never probes (its TA UUID is its own), so the hand
      // model's, with the fixture's facts, is what raises a finding here.
      spawnCli([
        "review",
        TEE_SERIES,
        "--model-only",
        "--fail-on",
        "introduced",
        "--explore-depth",
        "0",
        "--json",
      ]),
      spawnCli([
        "review",
        join(tmp, "follow-up"),
        "--fail-on",
        "introduced",
        "--explore-depth",
        "0",
        "--json",
      ]),
      spawnCli(["review", join(tmp, "follow-up"), "--explore-depth", "0", "--json"]),
    ]);
    expect(help.code).toBe(EXIT.ok);
    expect(help.out).toMatch(/Exit status:\n {2}0 .*\n {2}1 .*--fail-on.*\n {2}2 .*usage/);
    expect(help.out).toMatch(/\n {2}3 .*bad input.*\n.*\n {2}4 .*cannot|\n {2}4 .*could not be reviewed/);
    expect(help.out).toMatch(/\n {2}70 {2}internal error/);
    expect(usage).toMatchObject({ code: EXIT.usage, out: "" });
    expect(usage.err).toMatch(/--fail-on: unknown value "typo"/);
    expect(missing).toMatchObject({ code: EXIT.input, out: "" });
    expect(missing.err).toBe(
      `rproc-review: 2 paths cannot be used: ${join(tmp, "nowhere-1.mbox")} (input): no such file or directory; ${join(tmp, "nowhere-2")} (input): no such file or directory\n`,
    );
    expect(findings.code).toBe(EXIT.findings);
    expect(JSON.parse(findings.out).verdict.status).toBe("fail");
    expect(cannotSay.code).toBe(EXIT.cannotSay);
    expect(JSON.parse(cannotSay.out).verdict.cannotReview).toBeTruthy();
    // Without --fail-on, what the review found is its output, not a failure.
    expect(none.code).toBe(EXIT.ok);
  });
});

describe("exit statuses through main()", () => {
  it("70 for a bug, with the message and a hint; 3 for a file system error on a path", async () => {
    const failing = (e: Error) => {
      const program = new Command().exitOverride();
      program.command("x").action(() => {
        throw e;
      });
      return program;
    };
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await runProgram(failing(new TypeError("x is not a function")), ["node", "cli", "x"])).toBe(70);
      const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/no/such'"), {
        code: "ENOENT",
        syscall: "open",
        path: "/no/such",
      });
      expect(await runProgram(failing(enoent), ["node", "cli", "x"])).toBe(EXIT.input);
      const printed = err.mock.calls.map((c) => String(c[0])).join("");
      expect(printed).toContain("rproc-review: internal error: x is not a function\n");
      expect(printed).toContain("run again with --debug");
      expect(printed).toContain("rproc-review: /no/such: no such file or directory (ENOENT)\n");
    } finally {
      err.mockRestore();
    }
  });

  it("a file that exists but does not parse is bad input (3), as a missing one is", async () => {
    const notMail = join(tmp, "notes.txt");
    writeFileSync(notMail, "just some notes, no headers and no diff\n");
    const r = await runCli(["review", notMail, "--fail-on", "introduced", "--explore-depth", "0"]);
    expect(r.code).toBe(EXIT.input);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^rproc-review: .*notes\.txt: no patch found \(.*not a mail .*\)\n$/);
  });

  it("--mails pointing nowhere is bad input, not a skipped changelog check", async () => {
    const r = await runCli(["diff", "v15", "v16", "--mails", join(tmp, "no-mails"), "--explore-depth", "0"]);
    expect(r.code).toBe(EXIT.input);
    expect(r.err).toBe(`rproc-review: ${join(tmp, "no-mails")}: no such directory (--mails)\n`);
    // A mail directory without the version's sub-directory: the report says which path it looked for.
    const empty = await runCli([
      "diff",
      "v15",
      "v16",
      "--mails",
      join(tmp, "mails"),
      "--explore-depth",
      "0",
      "--json",
    ]);
    expect(empty.code).toBe(EXIT.ok);
    expect(empty.out).toContain(
      `${join(tmp, "mails", "v16")} does not exist, so its changelog was not checked`,
    );
  });

  it("a bad --out is bad input, said before the review runs, and a directory given as --out too", async () => {
    const out = join(tmp, "no-dir", "report.md");
    const before = await runCli(["review", TEE_SERIES, "--format", "markdown", "--out", out]);
    expect(before.code).toBe(EXIT.input);
    expect(before.err).toBe(
      `rproc-review: ${join(tmp, "no-dir")}: no such directory (the directory of --out ${out})\n`,
    );
    const dir = await runCli(["diff", "v15", "v16", "--explore-depth", "0", "--out", tmp]);
    expect(dir.code).toBe(EXIT.input);
    expect(dir.err).toBe(`rproc-review: ${tmp}: cannot write (--out): is a directory\n`);
    const image = await runCli([
      "image",
      "sign",
      "--in",
      join(tmp, "a.elf"),
      "--key",
      join(tmp, "k.pem"),
      "--out",
      out,
    ]);
    expect(image.code).toBe(EXIT.input);
    expect(image.err).toContain("3 paths cannot be used: ");
    expect(image.err).toContain(`${join(tmp, "a.elf")} (--in): no such file or directory`);
    expect(image.err).toContain(`${join(tmp, "no-dir")} (the directory of --out ${out}): no such directory`);
  });

  it("a version meant as a path is bad input, a mistyped id a usage error; a missing --env-file is bad input", async () => {
    const path = await runCli(["matrix", "--versions", `v15,${join(tmp, "v17.mbox")}`]);
    expect(path.code).toBe(EXIT.input);
    expect(path.err).toContain(`${join(tmp, "v17.mbox")}: no such file or directory (--versions)`);
    const id = await runCli(["matrix", "--versions", "v15,v17"]);
    expect(id.code).toBe(EXIT.usage);
    expect(id.err).toMatch(/--versions: unknown version "v17"/);
    const env = await runCli(["serve", "--env-file", join(tmp, "none.env")]);
    expect(env.code).toBe(EXIT.input);
    expect(env.err).toContain("no such file (--env-file)");
  });
});

describe("terminal output", () => {
  it("shows the control characters of subjects and paths as text; JSON keeps them, escaped", async () => {
    const text = await runCli(["series", join(tmp, "hostile.mbox")]);
    expect(text.code).toBe(EXIT.ok);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(text.out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(text.out).toContain("foo: ^[[2J^[[31mall clear^G");
    expect(text.out).toContain("drivers/foo/^[]0;owned^Gx.c (+1 -0)");
    const json = await runCli(["series", join(tmp, "hostile.mbox"), "--json"]);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(json.out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    const doc = JSON.parse(json.out) as { patches: { subject: string; files: string[] }[] };
    expect(doc.patches[0]?.subject).toContain(`${ESC}[2J${ESC}[31mall clear\x07`);
  });

  it("shows them in error messages, commander's included", async () => {
    const missing = await runCli(["series", `${tmp}/${ESC}[31mred`]);
    expect(missing.code).toBe(EXIT.input);
    expect(missing.err).toBe(`rproc-review: ${tmp}/^[[31mred: no such file or directory (input)\n`);
    const unknown = await runCli([`${ESC}]0;title\x07`]);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.err).not.toContain(ESC);
    expect(unknown.err).toContain("^[]0;title^G");
  });

  it("text and JSON forms of every kind of unsafe character", () => {
    expect(terminalText("a\x1b[1mb\rc\u009bd\u202ee\x7f\tf\ng")).toBe("a^[[1mb^Mc<U+009B>d<U+202E>e^?\tf\ng");
    const j = jsonText({ s: "\u009b\u202e\x1b" });
    expect(j).toBe('{\n  "s": "\\u009b\\u202e\\u001b"\n}\n');
    expect(JSON.parse(j)).toEqual({ s: "\u009b\u202e\x1b" });
  });

  it("a status line only on a terminal, cut to its width, and nothing on TERM=dumb or in a pipe", () => {
    const writes: string[] = [];
    const tty = {
      isTTY: true,
      columns: 20,
      write: (s: string) => writes.push(s),
    } as unknown as NodeJS.WriteStream;
    const line = statusLine(tty);
    expect(line.live).toBe(true);
    line.update(`v16 d3 1234 states ${ESC}[31m 5678/s and more`, true);
    line.done();
    expect(writes[0]).toBe(`\r${ESC}[K${fitWidth("v16 d3 1234 states ^[[31m 5678/s and more", 19)}`);
    expect([...(writes[0] as string).slice(4)].length).toBe(19);
    expect(writes[0]?.endsWith("…")).toBe(true);
    expect(writes[1]).toBe(`\r${ESC}[K`);
    vi.stubEnv("TERM", "dumb");
    try {
      expect(statusLine(tty).live).toBe(false);
    } finally {
      vi.unstubAllEnvs();
    }
    const pipe = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
    expect(statusLine(pipe).live).toBe(false);
  });
});
