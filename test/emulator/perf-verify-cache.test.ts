/**
 * verifyDigest memoises its verdicts: a cached verdict must be exactly the one a fresh verification gives,
 * keyed by the contents (key, digest, signature) and never by the identity of the arrays, and the cache stays
 * bounded.
 */
import { describe, expect, it } from "vitest";
import { sha256 } from "../../src/emulator/bytes.ts";
import { loadFixtures } from "../../src/emulator/fixtures.ts";
import {
  clearVerifyCache,
  type KeyMaterial,
  signData,
  VERIFY_CACHE_LIMIT,
  verifyCacheSize,
  verifyDigest,
} from "../../src/emulator/keys.ts";

const data = new TextEncoder().encode("header and TLVs");
const digest = sha256(data);

describe("verifyDigest cache", () => {
  it("gives the same verdicts on repeat calls, and follows the bytes, not the arrays", async () => {
    const fx = await loadFixtures();
    const sig = await signData(fx.keys.rsa, data, digest);
    for (let i = 0; i < 3; i++) {
      expect(verifyDigest(fx.keys.rsa, digest, sig)).toBe(true);
      expect(verifyDigest(fx.keys.otherRsa, digest, sig)).toBe(false);
    }
    // The same array, changed after its verdict was cached, is verified again.
    const mutable = sig.slice();
    expect(verifyDigest(fx.keys.rsa, digest, mutable)).toBe(true);
    mutable[10] = (mutable[10] ?? 0) ^ 1;
    expect(verifyDigest(fx.keys.rsa, digest, mutable)).toBe(false);
    mutable[10] = (mutable[10] ?? 0) ^ 1;
    expect(verifyDigest(fx.keys.rsa, digest, mutable)).toBe(true);
    const otherDigest = digest.slice();
    otherDigest[0] = (otherDigest[0] ?? 0) ^ 1;
    expect(verifyDigest(fx.keys.rsa, otherDigest, sig)).toBe(false);
    // A key object with another modulus is another key, even when built from the first.
    const changed: KeyMaterial = { ...fx.keys.otherRsa };
    expect(verifyDigest(changed, digest, sig)).toBe(false);
    expect(verifyDigest({ ...fx.keys.rsa }, digest, sig)).toBe(true);
  });

  it("ECDSA verdicts too; wrong-size signatures fail without a cache entry", async () => {
    const fx = await loadFixtures();
    const sig = await signData(fx.keys.ec, data, digest);
    expect(verifyDigest(fx.keys.ec, digest, sig)).toBe(true);
    expect(verifyDigest(fx.keys.ec, digest, sig)).toBe(true);
    const bad = sig.slice();
    bad[63] = (bad[63] ?? 0) ^ 1;
    expect(verifyDigest(fx.keys.ec, digest, bad)).toBe(false);
    const size = verifyCacheSize();
    expect(verifyDigest(fx.keys.ec, digest, new Uint8Array(1 << 20))).toBe(false);
    expect(verifyDigest(fx.keys.rsa, digest, new Uint8Array(1 << 20))).toBe(false);
    expect(verifyCacheSize()).toBe(size);
  });

  it("keeps at most VERIFY_CACHE_LIMIT verdicts", async () => {
    const fx = await loadFixtures();
    const sig = await signData(fx.keys.rsa, data, digest);
    const d = new Uint8Array(32);
    for (let i = 0; i < VERIFY_CACHE_LIMIT + 50; i++) {
      d[0] = i & 0xff;
      d[1] = i >> 8;
      verifyDigest(fx.keys.rsa, d, sig);
    }
    expect(verifyCacheSize()).toBe(VERIFY_CACHE_LIMIT);
    expect(verifyDigest(fx.keys.rsa, digest, sig)).toBe(true);
    clearVerifyCache();
    expect(verifyCacheSize()).toBe(0);
    expect(verifyDigest(fx.keys.rsa, digest, sig)).toBe(true);
    expect(verifyCacheSize()).toBe(1);
  });
});
