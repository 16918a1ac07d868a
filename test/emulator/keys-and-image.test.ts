/**
 * Keys in every PEM form the signing script accepts, the producer/reader pair, and properties: sign then
 * load succeeds; a flipped byte in the signed area or in a segment is rejected; random mutations give a
 * TA result or a typed error, never anything else.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildFirmwareElf,
  buildResourceTable,
  createPlatform,
  importKey,
  inspectImage,
  loadFixtures,
  loadOn,
  parsePlatTlvId,
  parsePlatTlvValue,
  signImage,
  teeResultName,
} from "../../src/emulator/api.ts";
import * as K from "../../src/emulator/keys/test-keys.ts";
import { InputError, isUserError } from "../../src/errors.ts";

const local = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const keyFile = (name: string): string =>
  readFileSync(new URL(`../../src/emulator/keys/${name}`, import.meta.url), "utf8");

describe("keys", () => {
  it("the committed .pem files are the module's test keys", () => {
    expect(keyFile("test-rsa2048.pem")).toBe(K.TEST_RSA_PRIVATE);
    expect(keyFile("test-rsa2048-pub.pem")).toBe(K.TEST_RSA_PUBLIC);
    expect(keyFile("other-rsa2048.pem")).toBe(K.OTHER_RSA_PRIVATE);
    expect(keyFile("test-ecp256.pem")).toBe(K.TEST_EC_PRIVATE);
    expect(keyFile("test-ecp256-pub.pem")).toBe(K.TEST_EC_PUBLIC);
    expect(keyFile("test-rsa2048-enc.pem")).toBe(K.TEST_RSA_ENCRYPTED);
  });

  it("PKCS#8, PKCS#1, SPKI and encrypted PKCS#8 of one RSA key give the same signatures and modulus", async () => {
    const fx = await loadFixtures();
    const forms = await Promise.all([
      importKey(K.TEST_RSA_PRIVATE),
      importKey(local("rsa-pkcs1.pem")),
      importKey(K.TEST_RSA_ENCRYPTED, K.TEST_RSA_PASSPHRASE),
    ]);
    const images = await Promise.all(forms.map((key) => signImage({ elfs: [fx.elf.good], key })));
    for (const im of images) expect(im).toEqual(fx.stm32mp15.good);
    for (const pub of [K.TEST_RSA_PUBLIC, local("rsa-pkcs1-pub.pem")]) {
      const p = await createPlatform("stm32mp15", { keys: [pub] });
      expect((await loadOn(p, fx.stm32mp15.good)).result).toBe("SUCCESS");
    }
  });

  it("SEC1 and PKCS#8 EC keys sign images the M33 platform accepts", async () => {
    const fx = await loadFixtures();
    const p = await createPlatform("stm32mp2-m33", { keys: [K.TEST_EC_PUBLIC] });
    const image = await signImage({
      elfs: [fx.elf.good],
      key: await importKey(local("ec-sec1.pem")),
      keyType: "ecc",
    });
    expect((await loadOn(p, image)).result).toBe("SUCCESS");
  });

  it("an EC private key's public point is its public key's, and a zero secret is no key", async () => {
    const pair = await importKey(K.TEST_EC_PRIVATE);
    const pub = await importKey(K.TEST_EC_PUBLIC);
    if (pair.kind !== "ecc" || pub.kind !== "ecc") throw new Error("EC test keys");
    expect(pair.publicPoint).toEqual(pub.publicPoint);
    expect(pair.publicPoint).toHaveLength(65);
    // SEC1 with a secret of 32 zero bytes (ECPrivateKey: version 1, privateKey), not a P-256 private key.
    const zero = btoa(
      String.fromCharCode(0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20, ...new Array(32).fill(0)),
    );
    const e = await importKey(`-----BEGIN EC PRIVATE KEY-----\n${zero}\n-----END EC PRIVATE KEY-----`).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/invalid P-256 private key/);
  });

  const bad: Array<[string, () => Promise<unknown>, RegExp]> = [
    ["no PEM block", () => importKey("hello"), /no PEM block/],
    ["bad base64", () => importKey("-----BEGIN PUBLIC KEY-----\n@@@\n-----END PUBLIC KEY-----"), /base64/],
    [
      "truncated DER",
      () => importKey("-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----"),
      /DER/,
    ],
    ["encrypted without passphrase", () => importKey(K.TEST_RSA_ENCRYPTED), /passphrase/],
    ["wrong passphrase", () => importKey(K.TEST_RSA_ENCRYPTED, "nope"), /wrong passphrase/],
    ["P-384", () => importKey(local("ec-p384.pem")), /only P-256/],
    ["legacy encrypted PEM", () => importKey(local("rsa-legacy-enc.pem"), "x"), /legacy PEM encryption/],
    [
      "a certificate",
      () => importKey("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
      /not a key/,
    ],
  ];
  for (const [what, run, message] of bad) {
    it(`${what}: InputError`, async () => {
      const e = await run().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toMatch(message);
    });
  }

  it("property: a corrupted key file gives an InputError, never another exception", async () => {
    const pems = [
      K.TEST_RSA_PRIVATE,
      K.TEST_RSA_PUBLIC,
      K.TEST_EC_PRIVATE,
      K.TEST_EC_PUBLIC,
      K.TEST_RSA_ENCRYPTED,
    ];
    const der = (pem: string): Uint8Array =>
      Uint8Array.from(atob(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "")), (c) =>
        c.charCodeAt(0),
      );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: pems.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        async (i, edits, cut) => {
          const pem = pems[i] ?? "";
          const label = /BEGIN ([A-Z ]+)-----/.exec(pem)?.[1] ?? "";
          const d = der(pem).slice(0, cut === undefined ? undefined : cut % (der(pem).length + 1));
          for (const [at, v] of edits) if (d.length > 0) d[at % d.length] = v;
          const text = `-----BEGIN ${label}-----\n${btoa(String.fromCharCode(...d))}\n-----END ${label}-----\n`;
          await importKey(text, K.TEST_RSA_PASSPHRASE).catch((e: unknown) =>
            expect(isUserError(e)).toBe(true),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("signing needs a private key of the chosen type", async () => {
    const fx = await loadFixtures();
    const pub = await importKey(K.TEST_RSA_PUBLIC);
    await expect(signImage({ elfs: [fx.elf.good], key: pub })).rejects.toThrow(/cannot be used for signing/);
    await expect(signImage({ elfs: [fx.elf.good], key: fx.keys.ec, keyType: "rsa" })).rejects.toThrow(
      /does not match/,
    );
  });
});

describe("producer options (the script's --plat-tlv)", () => {
  it("parses ids like Python int(x, 0) and refuses ids out of the platform range", () => {
    expect(parsePlatTlvId("0x10001")).toBe(0x10001);
    expect(parsePlatTlvId("65538")).toBe(0x10002);
    expect(() => parsePlatTlvId("0x20000")).toThrow(/not in range/);
    expect(() => parsePlatTlvId("BOOTADDR")).toThrow(InputError);
    expect(parsePlatTlvValue("0x12345678")).toEqual(Uint8Array.of(0x78, 0x56, 0x34, 0x12));
    expect(parsePlatTlvValue("hello")).toEqual(new TextEncoder().encode("hello"));
  });

  it("a repeated platform TLV keeps its first position and its last value", async () => {
    const fx = await loadFixtures();
    const image = await signImage({
      elfs: [fx.elf.good],
      key: fx.keys.rsa,
      platTlvs: [
        [0x10002, Uint8Array.of(1)],
        [0x10001, Uint8Array.of(2)],
        [0x10002, Uint8Array.of(3)],
      ],
    });
    const plat = inspectImage(image).tlvs.filter((t) => t.type >= 0x10000);
    expect(plat.map((t) => [t.type, t.value[0]])).toEqual([
      [0x10002, 3],
      [0x10001, 2],
    ]);
  });
});

describe("inspect", () => {
  it("names the field and offset of what is wrong", async () => {
    const fx = await loadFixtures();
    const good = fx.stm32mp15.good;
    const cases: Array<[Uint8Array, RegExp]> = [
      [good.subarray(0, 10), /shorter than the 20-byte header/],
      [Uint8Array.from([0, ...good.subarray(1)]), /bad magic .* at offset 0/],
      [good.subarray(0, good.length - 8), /file size/],
      [new Uint8Array([...good, 0, 0, 0, 0, 0, 0, 0, 0]), /file size/],
    ];
    for (const [bytes, message] of cases) expect(() => inspectImage(bytes)).toThrow(message);
  });
});

const RESULT = /^(SUCCESS|TEE_ERROR_[A-Z_]+)$/;

describe("properties", () => {
  const firmware = fc.record({
    seed: fc.integer({ min: 0, max: 255 }),
    bss: fc.integer({ min: 0, max: 0x800 }),
    rsc: fc.boolean(),
  });

  it("sign then load succeeds and writes exactly the segments", async () => {
    const fx = await loadFixtures();
    await fc.assert(
      fc.asyncProperty(firmware, async ({ seed, bss, rsc }) => {
        const elf = buildFirmwareElf({
          name: `fw${seed}`,
          seed,
          codeDa: 0x10000000,
          vectorDa: 0,
          rscTable: rsc ? buildResourceTable([]) : null,
          bssSize: bss,
        });
        const platform = await createPlatform("stm32mp15", { keys: [K.TEST_RSA_PUBLIC] });
        const r = await loadOn(platform, await signImage({ elfs: [elf], key: fx.keys.rsa }));
        expect(r.result).toBe("SUCCESS");
        expect(r.loaded.map((s) => s.da)).toEqual([0, 0x10000000]);
        expect(r.rscTable?.size).toBe(rsc ? 16 : 0);
      }),
      { numRuns: 25 },
    );
  });

  it("a flipped byte in the signed area is rejected; in a segment it gives SECURITY", async () => {
    const fx = await loadFixtures();
    const good = fx.stm32mp15.good;
    const info = inspectImage(good);
    const signedEnd = info.signatureOffset;
    const elfStart = info.images[0]?.offset ?? 0;
    const codeSeg = info.images[0]?.elf.phdrs[1];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: signedEnd - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, x) => {
          const bad = good.slice();
          bad[at] = (bad[at] ?? 0) ^ x;
          const p = await createPlatform("stm32mp15", { keys: [K.TEST_RSA_PUBLIC] });
          expect((await loadOn(p, bad)).result).not.toBe("SUCCESS");
        },
      ),
      { numRuns: 60 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: (codeSeg?.filesz ?? 1) - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (k, x) => {
          const bad = good.slice();
          const at = elfStart + (codeSeg?.offset ?? 0) + k;
          bad[at] = (bad[at] ?? 0) ^ x;
          const p = await createPlatform("stm32mp15", { keys: [K.TEST_RSA_PUBLIC] });
          expect((await loadOn(p, bad)).result).toBe("TEE_ERROR_SECURITY");
        },
      ),
      { numRuns: 40 },
    );
  });

  it("random mutations give a TA result code or a typed error, nothing else", async () => {
    const fx = await loadFixtures();
    const sources = [fx.stm32mp15.good, fx["stm32mp2-m33"].multi, fx.stm32mp15.noResourceTable];
    const mutation = fc.record({
      source: fc.integer({ min: 0, max: sources.length - 1 }),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ source, edits, cut }) => {
        const base = sources[source] ?? fx.stm32mp15.good;
        const bytes = base.slice(0, cut === undefined ? base.length : cut % (base.length + 1));
        for (const [at, v] of edits) if (bytes.length > 0) bytes[at % bytes.length] = v;
        const p = await createPlatform("stm32mp2-m33", { keys: [K.TEST_RSA_PUBLIC] });
        const r = await loadOn(p, bytes);
        expect(r.result).toMatch(RESULT);
        expect(teeResultName(r.code)).toBe(r.result);
        try {
          inspectImage(bytes);
        } catch (e) {
          expect(isUserError(e)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});
