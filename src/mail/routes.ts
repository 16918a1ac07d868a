/**
 * `POST /mail`: raw messages or an mbox, signed with the shared secret (X-Rproc-Signature: sha256=<hex> over
 * the body). A JSON body `{ "mbox": "…", "facts": {…} }` also carries the facts a Node process derived for
 * the series (the mapper's MapResult, `rproc-review map --json`), for a platform that cannot parse C.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { readBody } from "../bot/body.ts";
import type { Json } from "../bot/store.ts";
import { isUserError } from "../errors.ts";
import { SIGNATURE_HEADER, verifyMail } from "./hmac.ts";
import { type IntakeResult, intakeMbox, type MailContext } from "./intake.ts";

/** Lore's threads stay far below this; a larger body is refused before its signature is computed. */
export const MAX_MAIL_BODY = 25 * 1024 * 1024;

const JsonBody = z.object({
  mbox: z.string().min(1),
  list: z.string().min(1).optional(),
  facts: z
    .object({ facts: z.record(z.string(), z.unknown()), status: z.record(z.string(), z.string()) })
    .passthrough()
    .optional(),
});

export interface MailRouteOptions {
  /** Called with the jobs a request queued (Workers sends them to its Queue). */
  queued?: (jobs: number[]) => Promise<void>;
}

export function jobsOf(results: readonly IntakeResult[]): number[] {
  return results.flatMap((r) => ("job" in r && r.job !== null ? [r.job] : []));
}

export function mailRoutes(
  ctx: MailContext,
  options: MailRouteOptions = {},
): (app: Hono, enqueued: () => void) => void {
  return (app, enqueued) => {
    app.post("/mail", async (c) => {
      // Read within the limit (chunked bodies included) before the signature is computed over it.
      const body = await readBody(c.req.raw, MAX_MAIL_BODY);
      if (!(await verifyMail(ctx.config.secret, body, c.req.header(SIGNATURE_HEADER)))) {
        ctx.log.warn("mail.rejected", { reason: "bad or missing signature" });
        return c.json({ error: "missing or bad X-Rproc-Signature (sha256=<hex HMAC of the body>)" }, 401);
      }
      let mbox = body;
      let list = c.req.query("list") ?? null;
      let facts: Json | undefined;
      if ((c.req.header("content-type") ?? "").includes("application/json")) {
        let parsed: z.infer<typeof JsonBody>;
        try {
          parsed = JsonBody.parse(JSON.parse(new TextDecoder().decode(body)));
        } catch (e) {
          const why =
            e instanceof z.ZodError
              ? e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")
              : "not JSON";
          return c.json({ error: `malformed body: ${why}` }, 400);
        }
        mbox = new TextEncoder().encode(parsed.mbox);
        list = parsed.list ?? list;
        facts = parsed.facts as Json | undefined;
      }
      let results: IntakeResult[];
      try {
        results = await intakeMbox(ctx, mbox, "POST /mail", {
          list,
          ...(facts === undefined ? {} : { facts }),
        });
      } catch (e) {
        if (isUserError(e)) return c.json({ error: e.oneLine() }, 400);
        throw e;
      }
      const jobs = jobsOf(results);
      if (jobs.length > 0) {
        enqueued();
        await options.queued?.(jobs);
      }
      return c.json({ messages: results, jobs }, 202);
    });
  };
}
