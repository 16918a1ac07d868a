/**
 * GitHub App private keys. GitHub hands out PKCS#1 PEM files ("BEGIN RSA PRIVATE KEY") while WebCrypto, and
 * so the JWT signer on Workers, imports only PKCS#8 ("BEGIN PRIVATE KEY"): a PKCS#1 key is wrapped into a
 * PKCS#8 PrivateKeyInfo here, with plain DER encoding (no Node crypto).
 */
import { InputError } from "../errors.ts";

const PKCS1 = /-----BEGIN RSA PRIVATE KEY-----([\s\S]*?)-----END RSA PRIVATE KEY-----/;
const PKCS8 = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/;
/** AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }. */
const RSA_ALGORITHM = [
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return [0x80 | bytes.length, ...bytes];
}

function decodeBase64(text: string, what: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  try {
    return Uint8Array.from(atob(clean), (c) => c.charCodeAt(0));
  } catch (e) {
    throw new InputError(`${what} is not valid base64`, { cause: e });
  }
}

function pem(label: string, der: Uint8Array): string {
  let binary = "";
  for (const b of der) binary += String.fromCharCode(b);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * The key as PKCS#8 PEM. Accepts PKCS#1 or PKCS#8 PEM, also with literal `\n` for line breaks (as keys
 * are often written into environment variables).
 */
export function toPkcs8Pem(key: string): string {
  const text = key.replaceAll("\\n", "\n").trim();
  const pkcs8 = PKCS8.exec(text);
  if (pkcs8) return pem("PRIVATE KEY", decodeBase64(pkcs8[1] ?? "", "the PKCS#8 private key"));
  const pkcs1 = PKCS1.exec(text);
  if (!pkcs1) {
    throw new InputError(
      'not a PEM private key: expected "-----BEGIN RSA PRIVATE KEY-----" (PKCS#1, as GitHub issues them) or "-----BEGIN PRIVATE KEY-----" (PKCS#8)',
    );
  }
  const rsa = decodeBase64(pkcs1[1] ?? "", "the PKCS#1 private key");
  const octets = [0x04, ...derLength(rsa.length), ...rsa];
  const body = [0x02, 0x01, 0x00, ...RSA_ALGORITHM, ...octets];
  return pem("PRIVATE KEY", Uint8Array.from([0x30, ...derLength(body.length), ...body]));
}
