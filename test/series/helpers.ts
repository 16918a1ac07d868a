import { fileURLToPath } from "node:url";
import { sharedAvailable } from "../helpers/shared.ts";

export const FIXTURES = fileURLToPath(new URL("../fixtures/series/", import.meta.url));
export const fixture = (name: string): string => `${FIXTURES}${name}`;

export const SHARED_LKML = fileURLToPath(new URL("../../../shared/lkml/", import.meta.url));
export const hasLkml = sharedAvailable(`${SHARED_LKML}v16/0.eml`);

const enc = new TextEncoder();

/** A small mail as git send-email would write it. */
export function mail(opts: {
  subject: string;
  body: string;
  messageId?: string;
  from?: string;
  inReplyTo?: string;
  contentType?: string;
  extraHeaders?: string[];
}): string {
  const headers = [
    `From: ${opts.from ?? "Ann Author <ann@example.com>"}`,
    "Date: Mon, 2 Nov 2026 10:00:00 +0000",
    `Subject: ${opts.subject}`,
    `Message-ID: <${opts.messageId ?? "m1@example.com"}>`,
    ...(opts.inReplyTo ? [`In-Reply-To: <${opts.inReplyTo}>`, `References: <${opts.inReplyTo}>`] : []),
    "MIME-Version: 1.0",
    `Content-Type: ${opts.contentType ?? "text/plain; charset=UTF-8"}`,
    "Content-Transfer-Encoding: 8bit",
    ...(opts.extraHeaders ?? []),
  ];
  return `${headers.join("\n")}\n\n${opts.body}`;
}

export const bytes = (text: string): Uint8Array => enc.encode(text);

/** An mbox of several mails. */
export const mbox = (...mails: string[]): Uint8Array =>
  bytes(mails.map((m) => `From mboxrd@z Thu Jan  1 00:00:00 1970\n${m.replace(/\n*$/, "\n")}`).join("\n"));

/** A small valid patch body touching drivers/acme/widget.c. */
export function patchBody(extra = "", added = ["\tw->ready = true;"]): string {
  return `Mark the widget ready once probed.

Signed-off-by: Ann Author <ann@example.com>
---
${extra} drivers/acme/widget.c | ${added.length} +
 1 file changed, ${added.length} insertion(+)

diff --git a/drivers/acme/widget.c b/drivers/acme/widget.c
index 1111111..2222222 100644
--- a/drivers/acme/widget.c
+++ b/drivers/acme/widget.c
@@ -10,3 +10,${3 + added.length} @@ static int widget_probe(struct widget *w)
 	w->id = id;
${added.map((l) => `+${l}`).join("\n")}
 	return 0;
 }
-- 
2.47.0
`;
}
