/**
 * PEM keys for signing and verifying images: SPKI, PKCS#1 (RSA), PKCS#8, SEC1 (EC) and encrypted PKCS#8
 * (PBES2 with PBKDF2 and AES-CBC, as OpenSSL 3 writes it). RSA goes through WebCrypto; EC P-256 signs and
 * derives its public point through WebCrypto too (natively: @noble/curves' first multiplication builds its
 * tables, some 40 ms of every process that loads the fixtures) and verifies raw digests through @noble/curves
 * (WebCrypto has no prehashed ECDSA). A small DER reader/writer is enough for these structures.
 */
import { p256 } from "@noble/curves/nist.js";
import { InputError } from "../errors.ts";
import { bytesEqual, concat } from "./bytes.ts";

export type KeyMaterial =
  | { kind: "rsa"; modulusBytes: number; n: bigint; e: bigint; privateKey: CryptoKey | null }
  | { kind: "ecc"; publicPoint: Uint8Array; secret: Uint8Array | null; privateKey: CryptoKey | null };

// ---------------------------------------------------------------------------------------------
// DER

interface Der {
  tag: number;
  /** Content bytes. */
  body: Uint8Array;
  /** Whole element (tag, length, content). */
  raw: Uint8Array;
}

function derRead(b: Uint8Array, off: number, what: string): Der {
  const fail = (why: string): never => {
    throw new InputError(`${why} at DER offset ${off}`, { subject: what });
  };
  if (off + 2 > b.length) fail("truncated DER element");
  const tag = b[off] ?? 0;
  let len = b[off + 1] ?? 0;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || off + 2 + n > b.length) fail("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[off + 2 + i] ?? 0);
    hdr += n;
  }
  if (off + hdr + len > b.length) fail("DER element runs past its container");
  return { tag, body: b.subarray(off + hdr, off + hdr + len), raw: b.subarray(off, off + hdr + len) };
}

/** The children of a constructed element. */
function derChildren(e: Der, what: string): Der[] {
  const out: Der[] = [];
  for (let off = 0; off < e.body.length; ) {
    const c = derRead(e.body, off, what);
    out.push(c);
    off += c.raw.length;
  }
  return out;
}

function derExpect(list: Der[], i: number, tag: number, what: string): Der {
  const e = list[i];
  if (e === undefined || e.tag !== tag) {
    throw new InputError(`expected DER tag 0x${tag.toString(16)} as element ${i}`, { subject: what });
  }
  return e;
}

function oidString(body: Uint8Array): string {
  const parts: number[] = [];
  let v = 0;
  for (const byte of body) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (parts.length === 0)
        parts.push(Math.min(2, Math.floor(v / 40)), v - Math.min(2, Math.floor(v / 40)) * 40);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

function derWrite(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  const len =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return concat([Uint8Array.of(tag, ...len), body]);
}

const OID = {
  rsaEncryption: "1.2.840.113549.1.1.1",
  ecPublicKey: "1.2.840.10045.2.1",
  prime256v1: "1.2.840.10045.3.1.7",
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
};
const PRF_HASH: Record<string, string> = {
  "1.2.840.113549.2.7": "SHA-1",
  "1.2.840.113549.2.9": "SHA-256",
  "1.2.840.113549.2.10": "SHA-384",
  "1.2.840.113549.2.11": "SHA-512",
};
/** Far above what OpenSSL writes (2048); bounds the time a corrupted key file can cost. */
const MAX_PBKDF2_ITERATIONS = 10_000_000;
const AES_CBC_BITS: Record<string, number> = {
  "2.16.840.1.101.3.4.1.2": 128,
  "2.16.840.1.101.3.4.1.22": 192,
  "2.16.840.1.101.3.4.1.42": 256,
};
// DER of AlgorithmIdentifier { rsaEncryption, NULL }.
const RSA_ALGID = Uint8Array.of(
  0x30,
  0x0d,
  0x06,
  0x09,
  0x2a,
  0x86,
  0x48,
  0x86,
  0xf7,
  0x0d,
  0x01,
  0x01,
  0x01,
  0x05,
  0x00,
);

// ---------------------------------------------------------------------------------------------
// PEM

function pemBlocks(text: string, what: string): { label: string; headers: string; der: Uint8Array } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw new InputError("no PEM block (-----BEGIN …-----) found", { subject: what });
  const label = m[1] ?? "";
  const inner = m[2] ?? "";
  const headerEnd = inner.indexOf("\n\n");
  const headers = inner.includes(":") && headerEnd >= 0 ? inner.slice(0, headerEnd) : "";
  const b64 = (headers ? inner.slice(headerEnd) : inner).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64))
    throw new InputError(`PEM ${label}: invalid base64`, { subject: what });
  const bin = atob(b64);
  return { label, headers, der: Uint8Array.from(bin, (c) => c.charCodeAt(0)) };
}

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;
/** A copy backed by a plain ArrayBuffer, as WebCrypto's types want. */
const own = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);
const RSA_ALG = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };

function stripInt(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function bigint(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function rsaPublic(n: Uint8Array, e: Uint8Array, what: string): Extract<KeyMaterial, { kind: "rsa" }> {
  const modulus = stripInt(n);
  if (modulus.length < 64 || (modulus[0] ?? 0) === 0) {
    throw new InputError(`RSA modulus of ${modulus.length} bytes is too small`, { subject: what });
  }
  return { kind: "rsa", modulusBytes: modulus.length, n: bigint(modulus), e: bigint(e), privateKey: null };
}

async function rsaFromPkcs1Private(pkcs1: Uint8Array, what: string): Promise<KeyMaterial> {
  const fields = derChildren(derRead(pkcs1, 0, what), what);
  const n = derExpect(fields, 1, 0x02, what);
  const e = derExpect(fields, 2, 0x02, what);
  const pkcs8 = derWrite(0x30, concat([derWrite(0x02, Uint8Array.of(0)), RSA_ALGID, derWrite(0x04, pkcs1)]));
  const pub = rsaPublic(n.body, e.body, what);
  try {
    const privateKey = await subtle().importKey("pkcs8", own(pkcs8), RSA_ALG, false, ["sign"]);
    return { ...pub, privateKey };
  } catch (err) {
    throw new InputError(`RSA private key rejected by WebCrypto: ${(err as Error).message}`, {
      subject: what,
    });
  }
}

/** AlgorithmIdentifier of an EC P-256 key: id-ecPublicKey, prime256v1. */
const EC_P256_ALGID = Uint8Array.of(
  ...[0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01],
  ...[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
);
const EC_ALG = { name: "ECDSA", namedCurve: "P-256" };

const base64url = (text: string): Uint8Array =>
  Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

async function eccFromSec1(sec1: Uint8Array, what: string): Promise<KeyMaterial> {
  const fields = derChildren(derRead(sec1, 0, what), what);
  const secret = derExpect(fields, 1, 0x04, what).body;
  const curve = fields.find((f) => f.tag === 0xa0);
  if (curve) checkCurve(derRead(curve.body, 0, what).body, what);
  if (secret.length !== 32)
    throw new InputError(`EC private key of ${secret.length} bytes, want 32`, { subject: what });
  // The private key alone (version 1, the secret; no public key the file may carry), so that the public
  // point is derived from the secret.
  const bare = derWrite(0x30, concat([derWrite(0x02, Uint8Array.of(1)), derWrite(0x04, secret)]));
  const pkcs8 = derWrite(
    0x30,
    concat([derWrite(0x02, Uint8Array.of(0)), EC_P256_ALGID, derWrite(0x04, bare)]),
  );
  let privateKey: CryptoKey;
  let jwk: JsonWebKey;
  try {
    privateKey = await subtle().importKey("pkcs8", own(pkcs8), EC_ALG, true, ["sign"]);
    jwk = await subtle().exportKey("jwk", privateKey);
  } catch (e) {
    throw new InputError(`invalid P-256 private key: ${(e as Error).message}`, { subject: what });
  }
  if (jwk.x === undefined || jwk.y === undefined)
    throw new InputError("invalid P-256 private key: no public point", { subject: what });
  const publicPoint = concat([Uint8Array.of(4), base64url(jwk.x), base64url(jwk.y)]);
  return { kind: "ecc", secret: secret.slice(), publicPoint, privateKey };
}

function checkCurve(oidBody: Uint8Array, what: string): void {
  const oid = oidString(oidBody);
  if (oid !== OID.prime256v1) {
    throw new InputError(`EC curve ${oid} not supported (only P-256, as the signing script)`, {
      subject: what,
    });
  }
}

async function fromSpki(der: Uint8Array, what: string): Promise<KeyMaterial> {
  const [algId, bits] = derChildren(derRead(der, 0, what), what);
  if (!algId || !bits || bits.tag !== 0x03)
    throw new InputError("malformed SubjectPublicKeyInfo", { subject: what });
  const alg = derChildren(algId, what);
  const oid = oidString(derExpect(alg, 0, 0x06, what).body);
  const key = bits.body.subarray(1);
  if (oid === OID.rsaEncryption) {
    const fields = derChildren(derRead(key, 0, what), what);
    return rsaPublic(derExpect(fields, 0, 0x02, what).body, derExpect(fields, 1, 0x02, what).body, what);
  }
  if (oid === OID.ecPublicKey) {
    checkCurve(derExpect(alg, 1, 0x06, what).body, what);
    try {
      p256.Point.fromBytes(key);
    } catch (e) {
      throw new InputError(`invalid P-256 public point: ${(e as Error).message}`, { subject: what });
    }
    return { kind: "ecc", publicPoint: key.slice(), secret: null, privateKey: null };
  }
  throw new InputError(`public key algorithm ${oid} not supported (RSA or EC P-256)`, { subject: what });
}

async function fromPkcs8(der: Uint8Array, what: string): Promise<KeyMaterial> {
  const fields = derChildren(derRead(der, 0, what), what);
  const alg = derChildren(derExpect(fields, 1, 0x30, what), what);
  const oid = oidString(derExpect(alg, 0, 0x06, what).body);
  const inner = derExpect(fields, 2, 0x04, what).body;
  if (oid === OID.rsaEncryption) return rsaFromPkcs1Private(inner, what);
  if (oid === OID.ecPublicKey) {
    checkCurve(derExpect(alg, 1, 0x06, what).body, what);
    return eccFromSec1(inner, what);
  }
  throw new InputError(`private key algorithm ${oid} not supported (RSA or EC P-256)`, { subject: what });
}

async function decryptPkcs8(
  der: Uint8Array,
  passphrase: string | undefined,
  what: string,
): Promise<Uint8Array> {
  if (passphrase === undefined) {
    throw new InputError("the key is encrypted: give its passphrase (--key-pwd)", { subject: what });
  }
  const [encAlg, encData] = derChildren(derRead(der, 0, what), what);
  if (!encAlg || !encData) throw new InputError("malformed EncryptedPrivateKeyInfo", { subject: what });
  const alg = derChildren(encAlg, what);
  if (oidString(derExpect(alg, 0, 0x06, what).body) !== OID.pbes2) {
    throw new InputError("only PBES2 encrypted keys are supported", { subject: what });
  }
  const [kdf, scheme] = derChildren(derExpect(alg, 1, 0x30, what), what);
  if (!kdf || !scheme) throw new InputError("malformed PBES2 parameters", { subject: what });
  const kdfParts = derChildren(kdf, what);
  if (oidString(derExpect(kdfParts, 0, 0x06, what).body) !== OID.pbkdf2) {
    throw new InputError("only PBKDF2 key derivation is supported", { subject: what });
  }
  const kp = derChildren(derExpect(kdfParts, 1, 0x30, what), what);
  const salt = derExpect(kp, 0, 0x04, what).body;
  const iterations = Number(bigint(derExpect(kp, 1, 0x02, what).body));
  const prf = kp.find((p) => p.tag === 0x30);
  const prfOid = prf
    ? oidString(derExpect(derChildren(prf, what), 0, 0x06, what).body)
    : "1.2.840.113549.2.7";
  const hash = PRF_HASH[prfOid];
  const schemeParts = derChildren(scheme, what);
  const bits = AES_CBC_BITS[oidString(derExpect(schemeParts, 0, 0x06, what).body)];
  if (!hash || !bits)
    throw new InputError("unsupported PBES2 cipher or PRF (want AES-CBC, HMAC-SHA*)", { subject: what });
  const iv = derExpect(schemeParts, 1, 0x04, what).body;
  if (!(iterations >= 1 && iterations <= MAX_PBKDF2_ITERATIONS)) {
    throw new InputError(`PBKDF2 iteration count ${iterations} out of range`, { subject: what });
  }
  try {
    const pass = new TextEncoder().encode(passphrase);
    const base = await subtle().importKey("raw", pass, "PBKDF2", false, ["deriveBits"]);
    const keyBytes = await subtle().deriveBits(
      { name: "PBKDF2", salt: own(salt), iterations, hash },
      base,
      bits,
    );
    const aes = await subtle().importKey("raw", keyBytes, "AES-CBC", false, ["decrypt"]);
    return new Uint8Array(await subtle().decrypt({ name: "AES-CBC", iv: own(iv) }, aes, own(encData.body)));
  } catch {
    throw new InputError("cannot decrypt the key: wrong passphrase", { subject: what });
  }
}

/**
 * Imports a PEM key. Private keys give both halves; public keys only the verifying half.
 * `what` names the source in error messages (a file name).
 */
export async function importKey(pem: string, passphrase?: string, what = "key"): Promise<KeyMaterial> {
  const { label, headers, der } = pemBlocks(pem, what);
  if (/Proc-Type:\s*4,ENCRYPTED/.test(headers)) {
    throw new InputError(
      "legacy PEM encryption (Proc-Type: 4,ENCRYPTED) is not supported: convert with `openssl pkcs8 -topk8`",
      { subject: what },
    );
  }
  switch (label) {
    case "PUBLIC KEY":
      return fromSpki(der, what);
    case "RSA PUBLIC KEY": {
      const fields = derChildren(derRead(der, 0, what), what);
      return rsaPublic(derExpect(fields, 0, 0x02, what).body, derExpect(fields, 1, 0x02, what).body, what);
    }
    case "PRIVATE KEY":
      return fromPkcs8(der, what);
    case "ENCRYPTED PRIVATE KEY": {
      const plain = await decryptPkcs8(der, passphrase, what);
      try {
        return await fromPkcs8(plain, what);
      } catch {
        throw new InputError("cannot decrypt the key: wrong passphrase", { subject: what });
      }
    }
    case "RSA PRIVATE KEY":
      return rsaFromPkcs1Private(der, what);
    case "EC PRIVATE KEY":
      return eccFromSec1(der, what);
    default:
      throw new InputError(`PEM block "${label}" is not a key this tool reads`, { subject: what });
  }
}

/**
 * Signs SHA-256(data): RSA PKCS#1 v1.5, or ECDSA P-256 as raw r||s. `digest` is SHA-256(data), which an EC key
 * without a WebCrypto key signs directly.
 */
export async function signData(key: KeyMaterial, data: Uint8Array, digest: Uint8Array): Promise<Uint8Array> {
  if (key.kind === "rsa") {
    if (!key.privateKey) throw new InputError("provided key cannot be used for signing (public key only)");
    return new Uint8Array(await subtle().sign(RSA_ALG, key.privateKey, own(data)));
  }
  if (key.privateKey)
    return new Uint8Array(await subtle().sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey, own(data)));
  if (!key.secret) throw new InputError("provided key cannot be used for signing (public key only)");
  return p256.sign(digest, key.secret, { prehash: false, lowS: false });
}

// DigestInfo prefix of SHA-256 in EMSA-PKCS1-v1_5.
const SHA256_DIGEST_INFO = Uint8Array.of(
  0x30,
  0x31,
  0x30,
  0x0d,
  0x06,
  0x09,
  0x60,
  0x86,
  0x48,
  0x01,
  0x65,
  0x03,
  0x04,
  0x02,
  0x01,
  0x05,
  0x00,
  0x04,
  0x20,
);

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
  }
  return result;
}

/** The bytes as a string of char codes 0-255 (a cache key, never shown). */
function byteString(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) {
    // apply takes any array-like (a typed array too) and is much faster than a spread.
    s += String.fromCharCode.apply(null, b.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}

/** Most verdicts kept by verifyDigest; the least recently used goes first. */
export const VERIFY_CACHE_LIMIT = 1024;
const verifyCache = new Map<string, boolean>();

/**
 * An RSA key's public half as a cache-key string, made once per key (its modulus in hex is 512 digits, which
 * every LOAD_FW would convert again); checked against the key's current values, so a changed key is seen.
 */
const rsaKeyStrings = new WeakMap<KeyMaterial, { bytes: number; n: bigint; e: bigint; text: string }>();

function rsaKeyString(key: Extract<KeyMaterial, { kind: "rsa" }>): string {
  const known = rsaKeyStrings.get(key);
  if (known?.bytes === key.modulusBytes && known.n === key.n && known.e === key.e) return known.text;
  const text = `rsa:${key.modulusBytes}:${key.n.toString(16)}:${key.e.toString(16)}`;
  rsaKeyStrings.set(key, { bytes: key.modulusBytes, n: key.n, e: key.e, text });
  return text;
}

/** The cache key: everything a verdict depends on (the public half of the key, digest, signature). */
function verifyCacheKey(key: KeyMaterial, digest: Uint8Array, signature: Uint8Array): string {
  const pub =
    key.kind === "rsa" ? rsaKeyString(key) : `ecc:${key.publicPoint.length}:${byteString(key.publicPoint)}`;
  return `${pub}|${digest.length}:${byteString(digest)}|${byteString(signature)}`;
}

/** How many verdicts verifyDigest holds (for tests). */
export function verifyCacheSize(): number {
  return verifyCache.size;
}

/** Forgets every memoised verdict (for a benchmark that means to time the verification itself). */
export function clearVerifyCache(): void {
  verifyCache.clear();
}

/**
 * Verifies a signature over a SHA-256 digest, as the platform's VERIFY_DIGEST does: RSASSA-PKCS1-v1_5
 * (the signature must be exactly the modulus size) or ECDSA P-256 raw r||s (high S accepted).
 * A pure function of its inputs' contents, so verdicts are memoised (bounded, least recently used out).
 */
export function verifyDigest(key: KeyMaterial, digest: Uint8Array, signature: Uint8Array): boolean {
  // A signature of the wrong size fails at once (and must not make a large cache key), as does an odd digest.
  const sigSize = key.kind === "rsa" ? key.modulusBytes : 64;
  if (signature.length !== sigSize || digest.length > 64) return verifyUncached(key, digest, signature);
  const cacheKey = verifyCacheKey(key, digest, signature);
  const known = verifyCache.get(cacheKey);
  if (known !== undefined) {
    verifyCache.delete(cacheKey);
    verifyCache.set(cacheKey, known);
    return known;
  }
  const verdict = verifyUncached(key, digest, signature);
  if (verifyCache.size >= VERIFY_CACHE_LIMIT) {
    const oldest = verifyCache.keys().next();
    if (!oldest.done) verifyCache.delete(oldest.value);
  }
  verifyCache.set(cacheKey, verdict);
  return verdict;
}

function verifyUncached(key: KeyMaterial, digest: Uint8Array, signature: Uint8Array): boolean {
  if (key.kind === "rsa") {
    if (signature.length !== key.modulusBytes) return false;
    const s = bigint(signature);
    if (s >= key.n) return false;
    const em = new Uint8Array(key.modulusBytes);
    let m = modPow(s, key.e, key.n);
    for (let i = em.length - 1; i >= 0 && m > 0n; i--, m >>= 8n) em[i] = Number(m & 0xffn);
    const t = concat([SHA256_DIGEST_INFO, digest]);
    const want = new Uint8Array(key.modulusBytes).fill(0xff);
    want[0] = 0;
    want[1] = 1;
    want[want.length - t.length - 1] = 0;
    want.set(t, want.length - t.length);
    return bytesEqual(em, want);
  }
  if (signature.length !== 64) return false;
  try {
    return p256.verify(signature, digest, key.publicPoint, { prehash: false, lowS: false });
  } catch {
    return false;
  }
}
