/**
 * Full reports, kept with each review and served at GET /reports/<id> (HTML, or JSON with `.json` or an
 * Accept of application/json): the mail and the check run link there instead of carrying everything. The id
 * is the hash of the report's JSON, so the same report is kept once. Workers-safe.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Hono } from "hono";
import type { ReviewReport } from "../review/report.ts";
import type { Store } from "./store.ts";

const ID = /^[0-9a-f]{24}$/;

/** The id a report is kept under: the start of its JSON's SHA-256. */
export function reportId(json: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(json))).slice(0, 24);
}

/** Keeps `report`; its id. */
export async function keepReport(
  store: Pick<Store, "saveReport">,
  report: ReviewReport,
  now: number,
): Promise<string> {
  const json = JSON.stringify(report);
  const id = reportId(json);
  await store.saveReport({ id, title: report.verdict.line, json }, now);
  return id;
}

/** Where a kept report is read from outside, or null when the service's public URL is not configured. */
export function reportUrl(publicUrl: string | undefined, id: string): string | null {
  return publicUrl === undefined ? null : `${publicUrl}/reports/${id}`;
}

/** GET /reports/<id>[.json]: a kept report as its page (rendered by `html`) or as JSON; 404 otherwise. */
export function reportRoutes(
  app: Hono,
  store: Store,
  html: (r: ReviewReport) => string | Promise<string>,
): void {
  app.get("/reports/:name", async (c) => {
    const name = c.req.param("name");
    const asJson = name.endsWith(".json") || (c.req.header("accept") ?? "").includes("application/json");
    const id = name.replace(/\.json$/, "");
    if (!ID.test(id)) return c.json({ error: "no such report" }, 404);
    const kept = await store.report(id);
    if (kept === null) return c.json({ error: "no such report" }, 404);
    if (asJson) return c.body(kept.json, 200, { "content-type": "application/json; charset=utf-8" });
    return c.html(await html(JSON.parse(kept.json) as ReviewReport));
  });
}
