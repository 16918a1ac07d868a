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
      // Stop reading: the rest is never buffered (the platform closes the connection after the answer).
      reader.cancel().catch(() => {});
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
