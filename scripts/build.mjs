#!/usr/bin/env node
/**
 * `npm run build`: compiles src/ into dist/ (tsc -p tsconfig.build.json) and writes dist/build-stamp.json with
 * the time the build started. bin/rproc-review.js compares it with the sources' modification times, so a
 * checkout whose src/ changed after the build does not silently run the old dist/.
 */
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// Before tsc reads anything: a source saved during the build is newer than the stamp.
const started = Date.now();
rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(new URL("../dist/build-stamp.json", import.meta.url), `${JSON.stringify({ started })}\n`);
