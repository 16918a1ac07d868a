/**
 * Property tests explore new random inputs on every local run; in CI they run with one fixed seed, so a landing
 * is judged on the same inputs every time (a counterexample found locally becomes a regular test).
 */
import fc from "fast-check";

if (process.env.CI) fc.configureGlobal({ seed: 20261123 });

// The b4 check's review cache goes to a directory of this run, never the user's.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), "rproc-review-cache-"));
