/**
 * The mapper's stored reading of the built-in versions (patches/<id>/facts.json), bundled into the Worker
 * since it has no file system: the same evidence the CLI and the Node service attach to a built-in side.
 * A test checks that every patches/<id>/facts.json is listed here.
 */

import v13 from "../../patches/v13/facts.json" with { type: "json" };
import v14 from "../../patches/v14/facts.json" with { type: "json" };
import v15 from "../../patches/v15/facts.json" with { type: "json" };
import v16 from "../../patches/v16/facts.json" with { type: "json" };
import v16Resend from "../../patches/v16-resend/facts.json" with { type: "json" };
import type { MappedFacts } from "../compare/sides.ts";

const STORED: Record<string, unknown> = { v13, v14, v15, v16, "v16-resend": v16Resend };

export const BUNDLED_BUILTIN_FACTS: readonly string[] = Object.keys(STORED);

export async function bundledMapping(id: string): Promise<MappedFacts | null> {
  const doc = STORED[id] as Partial<MappedFacts> | undefined;
  return doc?.facts && doc.evidence ? { facts: doc.facts, evidence: doc.evidence } : null;
}
