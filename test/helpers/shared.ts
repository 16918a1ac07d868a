/**
 * The project's material in ../shared (real mails, kernel sources, vectors, b4): tests read it from there.
 * On a user's fresh clone without it they skip with a message; in CI (CI=true), which always has it, a
 * missing file fails the test file instead of skipping it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

export const SHARED = join(import.meta.dirname, "..", "..", "..", "shared");

/** Whether `path` (absolute, or relative to ../shared) exists; in CI its absence is an error. */
export function sharedAvailable(path: string): boolean {
  const full = path.startsWith("/") ? path : join(SHARED, path);
  if (existsSync(full)) return true;
  if (process.env.CI === "true" || process.env.CI === "1")
    throw new Error(
      `CI=true but ${full} is missing: CI must run the tests that read ../shared, not skip them`,
    );
  console.warn(`skipping tests that need ${full} (not present: ../shared is the project's material)`);
  return false;
}
