/**
 * bin/rproc-review.js picks what it runs: the build (dist/) when it is at least as new as src/ (its
 * dist/build-stamp.json, written by `npm run build`), else the sources through tsx, saying why. Run on a copy
 * of bin/ next to a tiny dist/ and src/ of our own, so that the two are told apart by what they print.
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
let dir = "";

function layout(opts: { stamp: number | null; src: boolean }): void {
  mkdirSync(join(dir, "bin"));
  copyFileSync(join(root, "bin", "rproc-review.js"), join(dir, "bin", "rproc-review.js"));
  copyFileSync(join(root, "bin", "stale.js"), join(dir, "bin", "stale.js"));
  writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  mkdirSync(join(dir, "dist", "cli"), { recursive: true });
  writeFileSync(join(dir, "dist", "cli", "run.js"), 'process.stdout.write("from dist\\n");\n');
  if (opts.stamp !== null)
    writeFileSync(join(dir, "dist", "build-stamp.json"), JSON.stringify({ started: opts.stamp }));
  if (opts.src) {
    mkdirSync(join(dir, "src", "cli"), { recursive: true });
    writeFileSync(
      join(dir, "src", "cli", "run.ts"),
      'const from: string = "src";\nprocess.stdout.write("from " + from + "\\n");\n',
    );
  }
}

/** Sets a source file's modification time (seconds since the epoch). */
const age = (file: string, seconds: number) => utimesSync(join(dir, file), seconds, seconds);

function run(): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [join(dir, "bin", "rproc-review.js")], { encoding: "utf8" });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rproc-bin-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("bin/rproc-review.js", () => {
  it("runs dist/ when no source changed after the build started", () => {
    layout({ stamp: 2_000_000_000_000, src: true });
    age("src/cli/run.ts", 1_900_000_000);
    expect(run()).toEqual({ stdout: "from dist\n", stderr: "", status: 0 });
  });

  it("runs src/ through tsx and names the changed file when a source is newer than the build", () => {
    layout({ stamp: 2_000_000_000_000, src: true });
    age("src/cli/run.ts", 2_000_000_001);
    const r = run();
    expect(r.stdout).toBe("from src\n");
    expect(r.stderr).toBe(
      "rproc-review: dist/ is older than src/cli/run.ts: running src/ through tsx (npm run build)\n",
    );
  });

  it("does not trust a dist/ without a build stamp in a checkout", () => {
    layout({ stamp: null, src: true });
    const r = run();
    expect(r.stdout).toBe("from src\n");
    expect(r.stderr).toContain("dist/build-stamp.json (missing: dist/ was not built by npm run build)");
  });

  it("exits 70 (internal error) naming the build when there is neither dist/ nor tsx", () => {
    mkdirSync(join(dir, "bin"));
    copyFileSync(join(root, "bin", "rproc-review.js"), join(dir, "bin", "rproc-review.js"));
    copyFileSync(join(root, "bin", "stale.js"), join(dir, "bin", "stale.js"));
    writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
    mkdirSync(join(dir, "src", "cli"), { recursive: true });
    writeFileSync(join(dir, "src", "cli", "run.ts"), "export {};\n");
    expect(run()).toEqual({
      stdout: "",
      stderr: "rproc-review: dist/ is missing and tsx is not installed: run npm run build\n",
      status: 70,
    });
  });

  it("runs dist/ as installed (no src/ shipped), stamp or not", () => {
    layout({ stamp: null, src: false });
    expect(run()).toEqual({ stdout: "from dist\n", stderr: "", status: 0 });
  });
});
