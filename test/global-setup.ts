/**
 * Tests that run the built CLI (bin/rproc-review.js) would see it fall back to src/ with a note on stderr
 * after any edit since the last build, and fail on that note instead of on what they test: build first, once
 * per run, when dist/ is older than src/ (a fresh `npm ci` has just built it, so CI never rebuilds here).
 */
import { spawnSync } from "node:child_process";
import { changedSinceBuild } from "../bin/stale.js";

export default function setup(): void {
  const root = new URL("..", import.meta.url);
  const stale = changedSinceBuild(root);
  if (stale === null) return;
  process.stderr.write(`test set-up: dist/ is older than ${stale}: npm run build\n`);
  const r = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0)
    throw new Error(`npm run build failed (exit ${r.status}): the CLI tests would run stale code`);
}
