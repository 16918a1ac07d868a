/**
 * The review engine as a Node process builds it: the C parser from tree-sitter's wasm, the built-in versions'
 * manifests and stored mappings from patches/. `serve` uses it in its worker threads (./engine-threads.ts) or,
 * with RPROC_REVIEW_THREADS=0, in the service's own thread.
 */
import type { ReportingEngine } from "../bot/review-engine.ts";

export async function createNodeEngine(): Promise<ReportingEngine> {
  const { createReviewEngine } = await import("../bot/review-engine.ts");
  const { cParser } = await import("./c-parser.ts");
  const { builtinManifests, builtinTeeStubs, storedMapping } = await import("./versions.ts");
  return createReviewEngine({
    parser: await cParser(),
    builtinMapping: storedMapping,
    builtinManifests: await builtinManifests(),
    // The CONFIG_REMOTEPROC_TEE=n stubs of the built-in versions, from their mails when at hand (as the CLI).
    builtinStubs: (id) => builtinTeeStubs(id),
  });
}
