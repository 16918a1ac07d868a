import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src");

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Only the CLI and the Node adapter may use Node APIs: the rest must run unchanged on Workers. */
const NODE_ALLOWED = [/^src\/cli\//, /^src\/node\//];
const NODE_IMPORT =
  /(?:from\s+|import\s*\(\s*)["'](?:node:[^"']+|fs|path|os|child_process|crypto|url|http|https|worker_threads|stream|zlib|better-sqlite3|simple-git|@hono\/node-server)["']/;
const NODE_GLOBAL = /\b(?:Buffer\.|process\.(?:env|exit|argv|cwd|stdout|stderr))/;

describe("architecture", () => {
  it("keeps Node-only APIs in src/cli and src/node", () => {
    const offenders: string[] = [];
    for (const file of tsFiles(src)) {
      const rel = relative(root, file).replaceAll("\\", "/");
      if (NODE_ALLOWED.some((re) => re.test(rel))) continue;
      const text = readFileSync(file, "utf8");
      text.split("\n").forEach((line, i) => {
        if (NODE_IMPORT.test(line) || NODE_GLOBAL.test(line))
          offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});

describe("lockfile", () => {
  it("lists every platform build npm ci expects (npm run lock:fix adds what this registry does not serve)", () => {
    const r = spawnSync(process.execPath, [join(root, "scripts", "fix-lockfile.mjs"), "--check"], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
