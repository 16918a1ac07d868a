#!/usr/bin/env node
// The built CLI (dist/, made by `npm run build`, which `npm install` runs through `prepare`); in a checkout
// that was never built, the TypeScript sources through tsx (a development dependency). In a checkout whose
// src/ changed after the build (dist/build-stamp.json), the sources through tsx too, saying so: a stale dist/
// never runs silently.
import { existsSync } from "node:fs";
import { changedSinceBuild } from "./stale.js";

const built = new URL("../dist/cli/run.js", import.meta.url);

const stale = existsSync(built) ? changedSinceBuild(new URL("..", import.meta.url)) : null;
if (existsSync(built) && stale === null) {
  await import(built.href);
} else {
  let register = null;
  try {
    ({ register } = await import("tsx/esm/api"));
  } catch {
    // no tsx (not a development checkout): the build is all there is
  }
  if (register === null) {
    if (!existsSync(built)) {
      process.stderr.write("rproc-review: dist/ is missing and tsx is not installed: run npm run build\n");
      process.exit(70);
    }
    process.stderr.write(
      `rproc-review: warning: dist/ is older than ${stale}; running it anyway (npm run build)\n`,
    );
    await import(built.href);
  } else {
    if (stale !== null)
      process.stderr.write(
        `rproc-review: dist/ is older than ${stale}: running src/ through tsx (npm run build)\n`,
      );
    register();
    await import("../src/cli/run.ts");
  }
}
