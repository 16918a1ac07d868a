#!/usr/bin/env node
/**
 * Keeps `npm ci` working when the registry in use does not serve every platform build of a package.
 *
 * Packages such as @biomejs/biome and workerd list one optional dependency per platform. When the registry
 * answers 404 for some of them (as the one on the project's machines does for darwin/win32/musl builds),
 * `npm install` leaves them out of package-lock.json, and `npm ci` then refuses the lock as out of sync.
 * This script adds an entry (version, os/cpu/libc) for each such missing platform package; npm skips them on
 * other platforms, and a machine of that platform resolves them by version from its registry.
 *
 * Run it after every `npm install` that changes the lock: `npm run lock:fix`. With --check it changes nothing
 * and exits 1 when entries are missing (a test runs it so).
 */
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const packages = lock.packages;

const OSES = [
  "android",
  "darwin",
  "win32",
  "linux",
  "freebsd",
  "openbsd",
  "netbsd",
  "sunos",
  "aix",
  "windows",
];
const CPUS = ["arm64", "x64", "ia32", "arm", "riscv64", "loong64", "ppc64", "s390x", "mips64el"];

function platformOf(name) {
  const words = name.split(/[-/]/);
  const os = OSES.find((o) => words.includes(o));
  if (os === undefined) return null;
  const cpu = CPUS.find((c) => words.includes(c)) ?? (words.at(-1) === "64" ? "x64" : undefined);
  return { os: os === "windows" ? "win32" : os, cpu, libc: words.includes("musl") ? "musl" : undefined };
}

/** node_modules/<dep> locations seen from package `key`, nearest first. */
function resolutionPaths(key, dep) {
  const parts = key.split("/node_modules/");
  const paths = [];
  for (let n = parts.length; n >= 1; n--)
    paths.push(`${parts.slice(0, n).join("/node_modules/")}/node_modules/${dep}`);
  paths.push(`node_modules/${dep}`);
  return [...new Set(paths)];
}

const added = [];
for (const [key, meta] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    // Node's resolution: the nearest node_modules/<dep> from the requiring package up to the root wins
    const found = resolutionPaths(key, dep).find((p) => packages[p] !== undefined);
    if (found !== undefined && packages[found].version === version) continue;
    const platform = platformOf(dep);
    if (platform === null) continue;
    // at the top when nothing is there, else next to the package that needs this version
    packages[found === undefined ? `node_modules/${dep}` : `${key}/node_modules/${dep}`] = {
      version,
      ...(meta.dev ? { dev: true } : {}),
      optional: true,
      os: [platform.os],
      ...(platform.cpu ? { cpu: [platform.cpu] } : {}),
      ...(platform.libc ? { libc: [platform.libc] } : {}),
    };
    added.push(`${dep}@${version}`);
  }
}
if (process.argv.includes("--check")) {
  if (added.length > 0) {
    process.stderr.write(`package-lock.json lacks ${added.join(", ")}: run npm run lock:fix\n`);
    process.exit(1);
  }
  process.exit(0);
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(
  added.length === 0 ? "lockfile: nothing to add\n" : `lockfile: added ${added.join(", ")}\n`,
);
