/**
 * Reading an HTTP request body with a byte limit enforced while reading: a declared Content-Length over
 * the limit is refused before a byte is read, and a body without one (chunked) is read chunk by chunk and
 * abandoned as soon as it passes the limit, so memory never holds more than the limit whatever is sent.
 * Every route reads its body through this, before authenticating or parsing it. Workers-safe.
 */

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`payload too large (over ${limit} bytes)`);
    this.name = "BodyTooLarge";
  }
}

/** How long, and how many bytes, the body of a refused request is still read and dropped. */
export const LINGER_MS = 2000;
export const LINGER_BYTES = 16 * 1024 * 1024;

/** Reads and drops what a refused request still sends, within LINGER_MS and LINGER_BYTES, then cancels. */
async function linger(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((resolve) => {
    timer = setTimeout(() => resolve("expired"), LINGER_MS);
  });
  let dropped = 0;
  try {
    while (dropped <= LINGER_BYTES) {
      const next = await Promise.race([reader.read(), expired]);
      if (next === "expired") break;
      if (next.done) return;
      dropped += next.value.byteLength;
    }
  } catch {
    return;
  } finally {
    clearTimeout(timer);
  }
  reader.cancel().catch(() => {});
}

/** The body of `request`, at most `limit` bytes; throws BodyTooLarge past it. */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && !request.headers.has("transfer-encoding") && Number(declared) > limit) {
    throw new BodyTooLarge(limit);
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // The rest is never buffered: it is read and dropped for a short while (a lingering close, as
      // HTTP servers do) so the 413 reaches a client that is still sending, then the body is cancelled.
      // Cancelling at once resets the connection and a client still writing loses the answer.
      void linger(reader);
      throw new BodyTooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return body;
}
