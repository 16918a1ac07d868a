/**
 * The acceptance algorithm of LOAD_FW (optee-remoteproc.md §2), case by case, on images built here: the
 * same kinds of mutants as the shared vectors (so coverage stays without ../shared) and signed-but-malformed
 * TLV areas, ELFs and resource tables that reach the checks after the signature.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assembleImage,
  buildFirmwareElf,
  createPlatform,
  type Fixtures,
  importKey,
  inspectImage,
  type KeyMaterial,
  type LoadReport,
  loadFixtures,
  loadOn,
  type PlatformName,
  signImage,
  TLV,
} from "../../src/emulator/api.ts";
import { le32, putU16, putU32 } from "../../src/emulator/bytes.ts";

let fx: Fixtures;
let rsa4096: KeyMaterial;

beforeAll(async () => {
  fx = await loadFixtures();
  rsa4096 = await importKey(readFileSync(new URL("./fixtures/rsa4096.pem", import.meta.url), "utf8"));
});

async function load(
  image: Uint8Array,
  platform: PlatformName = "stm32mp15",
  keys?: KeyMaterial[],
): Promise<LoadReport> {
  const p = await createPlatform(platform, { keys: keys ?? [fx.keys.rsa, fx.keys.ec] });
  return loadOn(p, image);
}

/** Edits a copy of `image` (parts outside the signed area are not protected by the signature). */
function patch(image: Uint8Array, edit: (b: Uint8Array, elf: number) => void, imageIndex = 0): Uint8Array {
  const b = image.slice();
  edit(b, inspectImage(image).images[imageIndex]?.offset ?? 0);
  return b;
}

/** XORs one byte at a fixed offset. */
const xor =
  (at: number, x: number) =>
  (b: Uint8Array): void => {
    b[at] = (b[at] ?? 0) ^ x;
  };

type Tlvs = Array<[number, Uint8Array]>;

/** Re-signs `base` (test key) with its TLV list changed by `change`. */
function resign(base: Uint8Array, change: (tlvs: Tlvs) => Tlvs): Promise<Uint8Array> {
  const info = inspectImage(base);
  const tlvs = change(info.tlvs.map((t): [number, Uint8Array] => [t.type, t.value.slice()]));
  const images = info.images.map((im) => base.slice(im.offset, im.offset + im.size));
  return assembleImage({ tlvs, images, key: fx.keys.rsa });
}

const without = (type: number) => (t: Tlvs) => t.filter(([k]) => k !== type);
const replace = (type: number, value: Uint8Array) => (t: Tlvs) =>
  t.map(([k, v]): [number, Uint8Array] => [k, k === type ? value : v]);
const hashEntry = (edit: (e: Uint8Array) => void) => (t: Tlvs) =>
  t.map(([k, v]): [number, Uint8Array] => {
    if (k !== TLV.HASHTABLE) return [k, v];
    const e = v.slice();
    edit(e.subarray(64)); // the second entry: the code segment at 0x10000000
    return [k, e];
  });

describe("byte mutants of a good image (like the shared neg_* vectors)", () => {
  const good = () => fx.stm32mp15.good;
  const cases: Array<[string, () => Uint8Array, string]> = [
    ["bad magic", () => patch(good(), xor(0, 0xff)), "TEE_ERROR_BAD_PARAMETERS"],
    ["version 2", () => patch(good(), (b) => putU32(b, 4, 2)), "TEE_ERROR_BAD_PARAMETERS"],
    [
      "8 trailing bytes",
      () => new Uint8Array([...good(), 0, 0, 0, 0, 0, 0, 0, 0]),
      "TEE_ERROR_BAD_PARAMETERS",
    ],
    ["8 bytes cut", () => good().slice(0, good().length - 8), "TEE_ERROR_BAD_PARAMETERS"],
    ["shorter than a header", () => good().slice(0, 12), "TEE_ERROR_BAD_PARAMETERS"],
    ["tlv_len 0", () => patch(good(), (b) => putU32(b, 8, 0)), "TEE_ERROR_BAD_PARAMETERS"],
    ["hash table byte flipped", () => patch(good(), xor(145, 1)), "TEE_ERROR_SIGNATURE_INVALID"],
    ["signature byte flipped", () => patch(good(), xor(300, 1)), "TEE_ERROR_SIGNATURE_INVALID"],
    ["ELFCLASS64", () => patch(good(), (b, elf) => b.set([2], elf + 4)), "TEE_ERROR_BAD_FORMAT"],
    ["e_phnum 0", () => patch(good(), (b, elf) => putU16(b, elf + 44, 0)), "TEE_ERROR_BAD_FORMAT"],
    [
      "e_shstrndx out of range",
      () => patch(good(), (b, elf) => putU16(b, elf + 50, 99)),
      "TEE_ERROR_BAD_FORMAT",
    ],
    [
      "resource table sh_addr outside every region",
      () => patchRscShdr(good(), 12, 0x20000000),
      "TEE_ERROR_ACCESS_DENIED",
    ],
    ["code segment byte flipped", () => fx.stm32mp15.tampered, "TEE_ERROR_SECURITY"],
  ];
  for (const [name, make, want] of cases) {
    it(`${name}: ${want}`, async () => expect((await load(make())).result).toBe(want));
  }

  it("second program header's p_type set to PT_NULL: SUCCESS, segment skipped, table still reported", async () => {
    const r = await load(patch(good(), (b, elf) => putU32(b, elf + 52 + 32, 0)));
    expect(r.result).toBe("SUCCESS");
    expect(r.loaded.map((s) => s.da)).toEqual([0]);
    expect(r.rscTable?.pa).toBe(0x10000100);
  });

  it("the second image of a multi-ELF image never gets the ELF header check", async () => {
    const multi = fx["stm32mp2-m33"].multi;
    const r = await load(
      patch(multi, (b, elf) => b.fill(0, elf, elf + 4), 1),
      "stm32mp2-m33",
    );
    expect(r.result).toBe("SUCCESS");
  });
});

/** Rewrites a field of the .resource_table section header (not covered by the signature). */
function patchRscShdr(image: Uint8Array, field: number, value: number): Uint8Array {
  const info = inspectImage(image);
  const im = info.images[0];
  const index = im?.elf.sections.findIndex((s) => s.name === ".resource_table") ?? -1;
  return patch(image, (b, elf) => putU32(b, elf + (im?.elf.shoff ?? 0) + index * 40 + field, value));
}

describe("keys and signature types", () => {
  it("an RSA-4096 image verifies with its key; under a 2048-bit key it is SIGNATURE_INVALID", async () => {
    const image = await signImage({ elfs: [fx.elf.good], key: rsa4096 });
    expect(inspectImage(image).header.signLen).toBe(512);
    expect((await load(image, "stm32mp15", [rsa4096])).result).toBe("SUCCESS");
    expect((await load(image)).result).toBe("TEE_ERROR_SIGNATURE_INVALID");
  });

  it("key info and platform TLVs are signed but ignored", async () => {
    const image = await signImage({
      elfs: [fx.elf.good],
      key: fx.keys.rsa,
      keyInfo: new TextEncoder().encode("key-id:board-A"),
      platTlvs: [[0x10001, le32(0x12345678)]],
    });
    expect((await load(image)).result).toBe("SUCCESS");
  });

  it("the same ELF twice: BAD_FORMAT (two resource tables) after writing both images' segments", async () => {
    const r = await load(await signImage({ elfs: [fx.elf.good, fx.elf.good], key: fx.keys.rsa }));
    expect(r.result).toBe("TEE_ERROR_BAD_FORMAT");
    expect(r.loaded).toHaveLength(4);
  });
});

describe("signed but malformed TLV areas", () => {
  const good = () => fx.stm32mp15.good;
  const cases: Array<[string, (t: Tlvs) => Tlvs, string, PlatformName?]> = [
    ["no SIGNTYPE", without(TLV.SIGNTYPE), "TEE_ERROR_BAD_PARAMETERS"],
    ["SIGNTYPE of 2 bytes", replace(TLV.SIGNTYPE, Uint8Array.of(1, 0)), "TEE_ERROR_BAD_PARAMETERS"],
    ["SIGNTYPE 3", replace(TLV.SIGNTYPE, Uint8Array.of(3)), "TEE_ERROR_NOT_SUPPORTED"],
    ["SIGNTYPE 2 (ECDSA) on stm32mp15", replace(TLV.SIGNTYPE, Uint8Array.of(2)), "TEE_ERROR_NOT_SUPPORTED"],
    [
      "SIGNTYPE 2 over an RSA signature on stm32mp2-m33",
      replace(TLV.SIGNTYPE, Uint8Array.of(2)),
      "TEE_ERROR_SIGNATURE_INVALID",
      "stm32mp2-m33",
    ],
    [
      "an empty SIGNTYPE before a good one (the first match wins)",
      (t) => [[TLV.SIGNTYPE, new Uint8Array(0)], ...t],
      "TEE_ERROR_BAD_PARAMETERS",
    ],
    ["a duplicate SIGNTYPE after the good one", (t) => [...t, [TLV.SIGNTYPE, Uint8Array.of(3)]], "SUCCESS"],
    ["HASHTYPE 9 (never read)", replace(TLV.HASHTYPE, Uint8Array.of(9)), "SUCCESS"],
    ["no HASHTABLE", without(TLV.HASHTABLE), "TEE_ERROR_NO_DATA"],
    [
      "HASHTABLE not a multiple of 64",
      (t) =>
        replace(TLV.HASHTABLE, (t.find(([k]) => k === TLV.HASHTABLE)?.[1] ?? new Uint8Array(0)).slice(1))(t),
      "TEE_ERROR_BAD_PARAMETERS",
    ],
    ["no NUM_IMG", without(TLV.NUM_IMG), "TEE_ERROR_NO_DATA"],
    ["NUM_IMG of 2 bytes", replace(TLV.NUM_IMG, Uint8Array.of(1, 0)), "TEE_ERROR_BAD_FORMAT"],
    ["NUM_IMG 0", replace(TLV.NUM_IMG, Uint8Array.of(0)), "TEE_ERROR_NO_DATA"],
    ["no IMGTYPE", without(TLV.IMGTYPE), "TEE_ERROR_NO_DATA"],
    ["IMGTYPE longer than NUM_IMG", replace(TLV.IMGTYPE, Uint8Array.of(1, 1)), "TEE_ERROR_BAD_PARAMETERS"],
    ["IMGTYPE 2", replace(TLV.IMGTYPE, Uint8Array.of(2)), "TEE_ERROR_BAD_FORMAT"],
    ["no IMGSIZE", without(TLV.IMGSIZE), "TEE_ERROR_NO_DATA"],
    ["IMGSIZE of 8 bytes", (t) => replace(TLV.IMGSIZE, new Uint8Array(8))(t), "TEE_ERROR_BAD_PARAMETERS"],
    [
      "no hash entry for the code segment's paddr",
      hashEntry((e) => putU32(e, 12, 0x10001000)),
      "TEE_ERROR_NO_DATA",
    ],
    ["hash entry not PT_LOAD", hashEntry((e) => putU32(e, 0, 2)), "TEE_ERROR_BAD_PARAMETERS"],
    ["hash entry memsz differs", hashEntry((e) => putU32(e, 20, 1)), "TEE_ERROR_BAD_PARAMETERS"],
    ["hash entry hash differs", hashEntry(xor(40, 1)), "TEE_ERROR_SECURITY"],
  ];
  for (const [name, change, want, platform] of cases) {
    it(`${name}: ${want}`, async () =>
      expect((await load(await resign(good(), change), platform)).result).toBe(want));
  }
});

describe("signed but malformed ELFs and resource tables", () => {
  const table = (edit: (t: Uint8Array) => void, size = 16): Uint8Array => {
    const t = new Uint8Array(size);
    putU32(t, 0, 1);
    edit(t);
    return t;
  };
  const m4 = (extra: Partial<Parameters<typeof buildFirmwareElf>[0]>) =>
    buildFirmwareElf({ name: "case", seed: 9, codeDa: 0x10000000, vectorDa: 0, rscTable: null, ...extra });
  const cases: Array<[string, () => Uint8Array, string]> = [
    [
      "resource table version 2",
      () => m4({ rscTable: table((t) => putU32(t, 0, 2)) }),
      "TEE_ERROR_BAD_FORMAT",
    ],
    [
      "resource table reserved word set",
      () => m4({ rscTable: table((t) => putU32(t, 12, 1)) }),
      "TEE_ERROR_BAD_FORMAT",
    ],
    [
      "resource table offsets past its size",
      () => m4({ rscTable: table((t) => putU32(t, 4, 3)) }),
      "TEE_ERROR_BAD_FORMAT",
    ],
    ["resource table of 12 bytes", () => m4({ rscTable: table(() => {}, 12) }), "TEE_ERROR_BAD_FORMAT"],
    ["empty resource table section (no table)", () => m4({ rscTable: new Uint8Array(0) }), "SUCCESS"],
    [
      "segment outside every region",
      () => m4({ codeDa: 0x20000000, vectorDa: null }),
      "TEE_ERROR_ACCESS_DENIED",
    ],
    [
      "segment fits but its .bss runs past the region",
      () => m4({ codeDa: 0xff00, vectorDa: null, bssSize: 0x10 }),
      "TEE_ERROR_ACCESS_DENIED",
    ],
  ];
  for (const [name, make, want] of cases) {
    it(`${name}: ${want}`, async () => {
      expect((await load(await signImage({ elfs: [make()], key: fx.keys.rsa }))).result).toBe(want);
    });
  }

  it("an unaligned resource table is CORRUPT_OBJECT", async () => {
    const good = fx.stm32mp15.good;
    const info = inspectImage(good).images[0];
    const rsc = info?.elf.sections.find((s) => s.name === ".resource_table");
    // Move the section 2 bytes on: still inside the image, version word no longer aligned.
    const moved = patchRscShdr(good, 16, (rsc?.offset ?? 0) + 2);
    expect((await load(moved)).result).toBe("TEE_ERROR_CORRUPT_OBJECT");
  });
});
