/**
 * The shared vectors made by OP-TEE's own signing script: every LOAD_FW result the vectors README predicts,
 * and byte-identical signing from the same inputs. Skipped (with a warning) without ../shared.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  createPlatform,
  importKey,
  inspectImage,
  loadOn,
  loadOnce,
  signImage,
} from "../../src/emulator/api.ts";
import { sharedAvailable } from "../helpers/shared.ts";

const SHARED = fileURLToPath(new URL("../../../shared/", import.meta.url));
const V = `${SHARED}spec/vectors/`;
const has = sharedAvailable(V);
if (!has) console.warn(`test/emulator/vectors.test.ts: ${V} not found, skipping the OP-TEE vector tests`);

const bytes = (p: string): Uint8Array => new Uint8Array(readFileSync(V + p));
const text = (p: string): string => readFileSync(V + p, "utf8");
const key = (file: string, pwd?: string) => importKey(text(`keys/${file}`), pwd, file);

/** Expected result with the signing key as platform key, and on a stock STM32MP1 (OP-TEE default key). */
const PREDICTED: Array<[string, string, string]> = [
  ["m4_rsa2048.sig", "SUCCESS", "TEE_ERROR_SIGNATURE_INVALID"],
  ["m4_default_rsa4096.sig", "SUCCESS", "SUCCESS"],
  ["multi_rsa2048.sig", "TEE_ERROR_ACCESS_DENIED", "TEE_ERROR_SIGNATURE_INVALID"],
  ["m4_ecdsa_p256.sig", "TEE_ERROR_NOT_SUPPORTED", "TEE_ERROR_NOT_SUPPORTED"],
  ["m4_rsa2048_enckey.sig", "SUCCESS", "TEE_ERROR_SIGNATURE_INVALID"],
  ["m4_rsa2048_keyinfo_plattlv.sig", "SUCCESS", "TEE_ERROR_SIGNATURE_INVALID"],
  ["m4_twice_rsa2048.sig", "TEE_ERROR_BAD_FORMAT", "TEE_ERROR_SIGNATURE_INVALID"],
  ["neg_tlv_hash_byte_flipped.sig", "TEE_ERROR_SIGNATURE_INVALID", "TEE_ERROR_SIGNATURE_INVALID"],
  ["neg_segment2_byte_flipped.sig", "TEE_ERROR_SECURITY", "TEE_ERROR_SIGNATURE_INVALID"],
  ["neg_bad_magic.sig", "TEE_ERROR_BAD_PARAMETERS", "TEE_ERROR_BAD_PARAMETERS"],
  ["neg_version2.sig", "TEE_ERROR_BAD_PARAMETERS", "TEE_ERROR_BAD_PARAMETERS"],
  ["neg_trailing_8_bytes.sig", "TEE_ERROR_BAD_PARAMETERS", "TEE_ERROR_BAD_PARAMETERS"],
  ["neg_truncated_8_bytes.sig", "TEE_ERROR_BAD_PARAMETERS", "TEE_ERROR_BAD_PARAMETERS"],
  ["neg_elf_class64.sig", "TEE_ERROR_BAD_FORMAT", "TEE_ERROR_SIGNATURE_INVALID"],
  ["tamper_phdr2_type_null_accepted.sig", "SUCCESS", "TEE_ERROR_SIGNATURE_INVALID"],
];

function signingKey(file: string) {
  if (file.includes("default")) return key("optee_default_rsa4096_pub.pem");
  if (file.includes("enckey")) return key("rsa2048_enc.pem", "s3cret");
  if (file.includes("ecdsa")) return key("ecp256_pub.pem");
  return key("rsa2048_pub.pem");
}

describe.skipIf(!has)("OP-TEE vectors on stm32mp15", () => {
  for (const [file, withKey, stock] of PREDICTED) {
    it(`${file}: ${withKey} with its signing key, ${stock} on a stock build`, async () => {
      const image = bytes(`signed/${file}`);
      expect((await loadOnce(image, "stm32mp15", [await signingKey(file)])).result).toBe(withKey);
      expect((await loadOnce(image, "stm32mp15", [await key("optee_default_rsa4096_pub.pem")])).result).toBe(
        stock,
      );
    });
  }

  it("m4_rsa2048.sig writes both segments, clears .bss and reports the table at 0x10000010", async () => {
    const platform = await createPlatform("stm32mp15", { keys: [text("keys/rsa2048_pub.pem")] });
    platform.nsWrite(0x10000054, new Uint8Array(0x400).fill(0xaa));
    const r = await loadOn(platform, bytes("signed/m4_rsa2048.sig"));
    expect(r.loaded).toEqual([
      { da: 0, pa: 0x38000000, size: 8 },
      { da: 0x10000000, pa: 0x10000000, size: 0x54 },
    ]);
    expect(r.rscTable).toEqual({ pa: 0x10000010, size: 0x44 });
    expect(platform.peek(0x10000054, 0x400).every((b) => b === 0)).toBe(true);
    const elf = bytes("inputs/m4_fw.elf");
    expect(platform.peek(0x10000000, 0x54)).toEqual(elf.subarray(0x7c, 0x7c + 0x54));
    expect(platform.peek(0x38000000, 8)).toEqual(elf.subarray(0x74, 0x7c));
  });

  it("neg_segment2_byte_flipped.sig leaves segment 1, zeroes segment 2 and stays OFF", async () => {
    const platform = await createPlatform("stm32mp15", { keys: [text("keys/rsa2048_pub.pem")] });
    const r = await loadOn(platform, bytes("signed/neg_segment2_byte_flipped.sig"));
    expect(r.loaded).toEqual([{ da: 0, pa: 0x38000000, size: 8 }]);
    expect(platform.peek(0x38000000, 8).some((b) => b !== 0)).toBe(true);
    expect(platform.peek(0x10000000, 0x54).every((b) => b === 0)).toBe(true);
    expect(platform.ta.state(0)).toBe("OFF");
  });

  it("m4_twice_rsa2048.sig fails after writing the segments of both images", async () => {
    const r = await loadOnce(bytes("signed/m4_twice_rsa2048.sig"), "stm32mp15", [
      await key("rsa2048_pub.pem"),
    ]);
    expect(r.loaded).toHaveLength(4);
    expect(r.reason).toContain("second resource table");
  });

  it("tamper_phdr2_type_null_accepted.sig loads segment 1 only, table still reported", async () => {
    const r = await loadOnce(bytes("signed/tamper_phdr2_type_null_accepted.sig"), "stm32mp15", [
      await key("rsa2048_pub.pem"),
    ]);
    expect(r.loaded).toEqual([{ da: 0, pa: 0x38000000, size: 8 }]);
    expect(r.rscTable).toEqual({ pa: 0x10000010, size: 0x44 });
  });
});

describe.skipIf(!has)("OP-TEE vectors on stm32mp2-m33", () => {
  it("multi_rsa2048.sig loads TF-M then the M4 image", async () => {
    const r = await loadOnce(bytes("signed/multi_rsa2048.sig"), "stm32mp2-m33", [
      await key("rsa2048_pub.pem"),
    ]);
    expect(r.result).toBe("SUCCESS");
    expect(r.loaded.map((s) => s.da)).toEqual([0x0e000000, 0x0e020000, 0, 0x10000000]);
  });

  it("m4_ecdsa_p256.sig verifies with ecp256_pub.pem", async () => {
    const r = await loadOnce(bytes("signed/m4_ecdsa_p256.sig"), "stm32mp2-m33", [
      await key("ecp256_pub.pem"),
    ]);
    expect(r.result).toBe("SUCCESS");
  });

  it("m4_ecdsa_p256.sig does not verify under an RSA key only", async () => {
    const r = await loadOnce(bytes("signed/m4_ecdsa_p256.sig"), "stm32mp2-m33", [
      await key("rsa2048_pub.pem"),
    ]);
    expect(r.result).toBe("TEE_ERROR_SIGNATURE_INVALID");
  });
});

describe.skipIf(!has)("signing like sign_rproc_fw.py", () => {
  const m4 = () => bytes("inputs/m4_fw.elf");
  const m33 = () => bytes("inputs/m33_fw.elf");
  const cases: Array<[string, () => Promise<Uint8Array>]> = [
    ["m4_rsa2048.sig", async () => signImage({ elfs: [m4()], key: await key("rsa2048.pem") })],
    [
      "m4_rsa2048_enckey.sig",
      async () => signImage({ elfs: [m4()], key: await key("rsa2048_enc.pem", "s3cret") }),
    ],
    [
      "m4_rsa2048_keyinfo_plattlv.sig",
      async () =>
        signImage({
          elfs: [m4()],
          key: await key("rsa2048.pem"),
          keyInfo: bytes("inputs/keyinfo.bin"),
          platTlvs: [
            [0x10001, Uint8Array.of(0x78, 0x56, 0x34, 0x12)],
            [0x10002, new TextEncoder().encode("hello")],
          ],
        }),
    ],
    ["m4_twice_rsa2048.sig", async () => signImage({ elfs: [m4(), m4()], key: await key("rsa2048.pem") })],
    ["multi_rsa2048.sig", async () => signImage({ elfs: [m33(), m4()], key: await key("rsa2048.pem") })],
  ];
  for (const [file, make] of cases) {
    it(`reproduces ${file} byte for byte`, async () => {
      expect(Buffer.from(await make()).equals(Buffer.from(bytes(`signed/${file}`)))).toBe(true);
    });
  }

  it("ECDSA output has the script's layout and verifies like the script's", async () => {
    const ours = await signImage({ elfs: [m4()], key: await key("ecp256.pem"), keyType: "ecc" });
    const theirs = bytes("signed/m4_ecdsa_p256.sig");
    expect(ours.length).toBe(theirs.length);
    const a = inspectImage(ours);
    const b = inspectImage(theirs);
    expect(a.header).toEqual(b.header);
    expect(a.signedDigest).toBe(b.signedDigest);
    expect((await loadOnce(ours, "stm32mp2-m33", [await key("ecp256_pub.pem")])).result).toBe("SUCCESS");
  });

  it("inspect reads the worked example of the spec", () => {
    const info = inspectImage(bytes("signed/m4_rsa2048.sig"));
    expect(info.header).toEqual({ magic: 0x3543a468, version: 1, tlvLen: 216, signLen: 256, imgLen: 592 });
    expect(info.signedDigest).toBe("7ea811d3c5cd5995ba0a7b26bc5780352abaa31dc6cbe0da20aaacb84a8ca1c7");
    expect(info.images[0]?.offset).toBe(492);
    expect(info.hashTable.map((e) => e.sha256.slice(0, 16))).toEqual([
      "6bbe50da35c15093",
      "7b6f00835144fe64",
    ]);
  });
});
