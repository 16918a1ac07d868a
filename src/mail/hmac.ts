/**
 * The shared-secret signature of `POST /mail`: `X-Rproc-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw
 * body under the configured secret (as GitHub signs webhooks). WebCrypto, so Node and Workers alike.
 */
export const SIGNATURE_HEADER = "x-rproc-signature";

const encoder = new TextEncoder();

async function key(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The header value for `body`. */
export async function signMail(secret: string, body: Uint8Array): Promise<string> {
  return `sha256=${hex(await crypto.subtle.sign("HMAC", await key(secret), new Uint8Array(body)))}`;
}

/**
 * True when `header` is the signature of `body`. The comparison is WebCrypto's verify, which does not
 * stop at the first differing byte.
 */
export async function verifyMail(
  secret: string,
  body: Uint8Array,
  header: string | undefined,
): Promise<boolean> {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? "");
  if (!m) return false;
  const given = Uint8Array.from((m[1] as string).match(/../g) ?? [], (h) => Number.parseInt(h, 16));
  return crypto.subtle.verify("HMAC", await key(secret), given, new Uint8Array(body));
}
