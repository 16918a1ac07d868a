#!/usr/bin/env node
// The built CLI (dist/, made by `npm run build`, which `npm install` runs through `prepare`); in a checkout
// that was never built, the TypeScript sources through tsx (a development dependency).
import { existsSync } from "node:fs";

const built = new URL("../dist/cli/run.js", import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/run.ts");
}
