/**
 * b4-check as b4 itself calls it: b4 0.15.2's own check runner (../shared/tools) over an mbox of the real v16
 * mails, with the git config lines the README gives, and b4's own reading of a local check command's output
 * (LoreMessage.run_local_check, what `b4 am --check` and `b4 prep --check` use) for `--format checkpatch`.
 * Needs Debian's python3 with python3-requests and python3-dkim (b4's imports): CI installs them, so there a
 * missing one fails this file instead of skipping it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";

const PYTHON = "/usr/bin/python3";
const B4_SRC = join(SHARED, "tools", "b4-0.15.2", "src");
const RUNNER = join(SHARED, "tools", "b4-check-runner.py");
const V16 = join(SHARED, "lkml", "v16");
const BIN = join(import.meta.dirname, "..", "..", "bin", "rproc-review.js");

/** Whether Debian's python3 can import what b4 needs; in CI its absence is an error. */
function pythonForB4(): boolean {
  const r = spawnSync(PYTHON, ["-c", "import requests, dkim"], { encoding: "utf8" });
  if (r.status === 0) return true;
  const why = `${PYTHON} cannot import requests and dkim (apt-get install -y python3-requests python3-dkim)`;
  if (process.env.CI === "true" || process.env.CI === "1")
    throw new Error(`CI=true but ${why}: CI must run b4's check runner`);
  console.warn(`skipping b4's check runner: ${why}`);
  return false;
}

const have = sharedAvailable(RUNNER) && sharedAvailable(V16) && pythonForB4();

const work = mkdtempSync(join(tmpdir(), "rproc-b4-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The v16 mails as one mbox (From_ lines, body lines that start with "From " quoted as mboxrd does). */
function v16Mbox(): string {
  const parts = readdirSync(V16)
    .filter((f) => f.endsWith(".eml"))
    .sort((x, y) => Number.parseInt(x, 10) - Number.parseInt(y, 10))
    .map((f) => {
      const text = readFileSync(join(V16, f), "utf8").replace(/\r\n/g, "\n");
      const quoted = text.replace(/^(>*From )/gm, ">$1");
      return `From rproc-review@example Thu Jan  1 00:00:00 1970\n${quoted}${quoted.endsWith("\n") ? "" : "\n"}\n`;
    });
  const file = join(work, "v16.mbox");
  writeFileSync(file, parts.join(""));
  return file;
}

/** A git repository whose config names the check commands, as the README's lines set them. */
function repoWith(config: Record<string, string>): string {
  const dir = mkdtempSync(join(work, "repo-"));
  const git = (...args: string[]) => {
    const r = spawnSync("git", args, { cwd: dir, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  };
  git("init", "-q");
  for (const [k, v] of Object.entries(config)) git("config", k, v);
  return dir;
}

const env = () => ({
  ...process.env,
  PYTHONPATH: B4_SRC,
  // b4 keeps its own cache of check results; each run starts without one.
  XDG_CACHE_HOME: mkdtempSync(join(work, "cache-")),
  NO_COLOR: "1",
});

const checkCmd = (...extra: string[]) =>
  [process.execPath, BIN, "b4-check", "--series", V16, ...extra].join(" ");

describe.skipIf(!have)("b4's own check runner", () => {
  it("fails the v16 patch that introduces the spinlock, and the series, with the README's review config", {
    timeout: 120_000,
  }, () => {
    const repo = repoWith({
      "b4.review-perpatch-check-cmd": checkCmd(),
      "b4.review-series-check-cmd": checkCmd(),
    });
    const r = spawnSync(PYTHON, [RUNNER, v16Mbox()], { cwd: repo, env: env(), encoding: "utf8" });
    expect(r.stderr).not.toMatch(/Traceback/);
    expect(r.status).toBe(0);
    // "  2/N   rproc-review  fail  'patch 2: …'  details: 40 lines, 2000 chars"
    const rows = new Map(
      [
        ...r.stdout.matchAll(
          /^ {2}(\d+)\/N +rproc-review +(\w+) +'(.*?)' +details: (\d+) lines, (\d+) chars$/gm,
        ),
      ].map((m) => [
        Number(m[1]),
        { status: m[2], summary: m[3] ?? "", lines: Number(m[4]), chars: Number(m[5]) },
      ]),
    );
    expect(rows.get(0)?.status).toBe("fail");
    const patch2 = rows.get(2);
    expect(patch2?.status).toBe("fail");
    expect(patch2?.summary).toMatch(/^patch 2: /);
    // What the review screen shows under a check stays a few screens.
    for (const row of rows.values()) expect(row.chars).toBeLessThan(12_000);
    // The patches that set none of the design changes behind a finding are not failed for it.
    const passed = [...rows.entries()].filter(([, v]) => v.status === "pass").map(([k]) => k);
    expect(passed.length).toBeGreaterThan(0);
    expect(passed).not.toContain(2);
  });

  it("answers b4 am/prep --check in checkpatch's form: ERROR lines fail the spinlock patch, silence passes", {
    timeout: 60_000,
  }, () => {
    const repo = repoWith({});
    const script = join(work, "local-check.py");
    writeFileSync(
      script,
      [
        "import sys, json, email, email.policy, b4",
        "b4._setup_main_config(None)",
        "msg = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.EmailPolicy(utf8=True))",
        "print(json.dumps(b4.LoreMessage.run_local_check(sys.argv[2:], sys.argv[1], msg, nocache=True)))",
      ].join("\n"),
    );
    const local = (patch: string) => {
      const r = spawnSync(
        PYTHON,
        [
          script,
          join(V16, patch),
          process.execPath,
          BIN,
          "b4-check",
          "--series",
          V16,
          "--format",
          "checkpatch",
        ],
        { cwd: repo, env: env(), encoding: "utf8" },
      );
      expect(r.stderr).not.toMatch(/Traceback/);
      return JSON.parse(r.stdout) as [string, string][];
    };
    const two = local("2.eml");
    expect(two.length).toBeGreaterThan(0);
    expect(two.every(([flag]) => flag === "fail")).toBe(true);
    expect(two[0]?.[1]).toMatch(
      /^node: ERROR: drivers\/remoteproc\/remoteproc_tee\.c:\d+: RC1 introduced: sleep-in-atomic under spinlock ctx_lock/,
    );
    const one = local("1.eml");
    // b4 names the command by its first word (here node; `rproc-review` when installed).
    expect(one).toEqual([["success", "node: passed all checks"]]);
  });
});
