/**
 * Validation pieces shared by the configurations read from the environment (src/node/config.ts,
 * src/node/mail-config.ts) and from the Worker's bindings (src/workers/config.ts). Workers-safe: zod only.
 */
import { z } from "zod";

/** A whole number given as text, within [min, max]. */
export const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** Optional text; blank counts as unset. */
export const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

/** A comma list (blank entries dropped); unset: empty. */
export const commaList = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x !== ""),
  );

/** One "VARIABLE: what is wrong" per issue (`fallback` names an issue about the whole object). */
export function problemsOf(error: z.ZodError, fallback: string): string[] {
  return error.issues.map((i) => `${String(i.path[0] ?? fallback)}: ${i.message}`);
}
