/**
 * Benchmark runner (`npm run bench`, which builds dist/ first): imports every bench/*.bench.ts module (or only
 * those named: `npm run bench -- cli matrix`) and runs each exported function whose name starts with "bench",
 * printing the lines it returns (each with its unit and, where there is one, its goal). Benchmarks are never
 * part of `npm test`.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

type BenchFn = () => Promise<string[]>;

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter(
    (f) => f.endsWith(".bench.ts") && (only.length === 0 || only.includes(f.replace(/\.bench\.ts$/, ""))),
  )
  .sort();
if (files.length === 0) {
  process.stderr.write("no benchmarks found in bench/\n");
  process.exitCode = 1;
}
for (const file of files) {
  const mod = (await import(pathToFileURL(`${dir}${file}`).href)) as Record<string, unknown>;
  for (const [name, fn] of Object.entries(mod)) {
    if (!name.startsWith("bench") || typeof fn !== "function") continue;
    const started = performance.now();
    const lines = await (fn as BenchFn)();
    for (const line of lines) process.stdout.write(`${file.replace(/\.bench\.ts$/, "")}: ${line}\n`);
    process.stderr.write(`  (${name} took ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  }
}
