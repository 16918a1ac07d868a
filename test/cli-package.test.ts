/**
 * The package as a user installs it: what `rproc-review --help` loads, the library entry points, the files
 * shipped and the licence. (How fast it starts is measured by `npm run bench`, never here.)
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  license: string;
  files: string[];
  types: string;
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Value imports and re-exports of a module (`import type` and dynamic `import()` left out). */
function staticImports(text: string): string[] {
  const out: string[] = [];
  const re = /^(?:import|export)\s+(?!type\s)(?:[^;"']*?\sfrom\s+)?["']([^"']+)["']/gm;
  for (const m of text.matchAll(re)) out.push(m[1] as string);
  return out;
}

/** Every module `entry` loads before it runs (relative imports followed), and the packages among them. */
function startupGraph(entry: string): { files: string[]; packages: Map<string, string> } {
  const files = new Set<string>([entry]);
  const packages = new Map<string, string>();
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const spec of staticImports(readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) {
        const next = resolve(dirname(file), spec);
        if (!files.has(next)) {
          files.add(next);
          queue.push(next);
        }
      } else if (!spec.startsWith("node:") && !packages.has(spec)) {
        packages.set(spec, relative(root, file));
      }
    }
  }
  return { files: [...files].map((f) => relative(root, f)), packages };
}

describe("startup", () => {
  it("loads only commander and the commands' declarations before a command runs", () => {
    const { files, packages } = startupGraph(join(root, "src", "cli", "run.ts"));
    // Each command imports what it runs (the model, parsers, octokit, hono, SQLite…) in its action.
    expect([...packages].map(([p, by]) => `${p} (from ${by})`)).toEqual(["commander (from src/cli/main.ts)"]);
    expect(files).toContain("src/cli/commands/review.ts");
    expect(
      files.filter((f) => /^src\/(scenarios|semantics\/map|emulator\/api|node\/versions)/.test(f)),
    ).toEqual([]);
  });
});

describe("package.json", () => {
  it("points every library entry point at a module the build makes, with its types", () => {
    const entries = Object.entries(pkg.exports).filter(([k]) => k !== "./package.json");
    expect(entries.map(([k]) => k).sort()).toEqual([
      ".",
      "./compare",
      "./emulator",
      "./report",
      "./review",
      "./versions",
    ]);
    for (const [name, target] of entries) {
      if (typeof target === "string") throw new Error(`${name}: expected { types, default }`);
      const source = target.default.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts");
      expect(existsSync(join(root, source)), `${name} -> ${source}`).toBe(true);
      expect(target.types, name).toBe(target.default.replace(/\.js$/, ".d.ts"));
    }
    expect(pkg.types).toBe((pkg.exports["."] as { types: string }).types);
  });

  it("ships the build, the binary and the data and examples the README uses, not the sources", () => {
    expect(pkg.files.sort()).toEqual(["bin", "dist", "examples", "patches"]);
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme).toContain("examples/variants/");
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.devDependencies.tsx).toBeDefined();
  });

  it("has the licence it names", () => {
    expect(pkg.license).toBe("MIT");
    const text = readFileSync(join(root, "LICENSE"), "utf8");
    expect(text).toMatch(/^MIT License\n/);
    expect(text).toContain("Permission is hereby granted, free of charge");
  });
});
