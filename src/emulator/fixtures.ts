/**
 * Ready-made firmware for scenarios and tests, built in code: ELF images with a firmware descriptor and a
 * resource table (trace + rpmsg vdev with two vrings at vdev0vring0/1), signed with the project's own
 * test keys (src/emulator/keys). Nothing here reads files, so it runs on Workers too.
 */
import { concat, le32 } from "./bytes.ts";
import { buildFirmwareDescriptor, DESCRIPTOR_SIZE } from "./copro.ts";
import { buildElf } from "./elf.ts";
import { signImage } from "./image.ts";
import * as K from "./keys/test-keys.ts";
import { importKey, type KeyMaterial } from "./keys.ts";
import { buildResourceTable, type ResourceEntry } from "./rsc.ts";

export const LAYOUT = {
  m4: { vectorDa: 0x0, codeDa: 0x10000000, rscTableDa: 0x10000100, bssSize: 0x400 },
  m33: { tfmDa: 0x0e000000, zephyrDa: 0x0e020000, rscTableDa: 0x0e020100 },
  traceDa: 0x10030000,
  traceLen: 0x400,
  vring0Da: 0x10040000,
  vring1Da: 0x10041000,
  vringAlign: 16,
  vringNum: 16,
} as const;

const VIRTIO_ID_RPMSG = 7;
const VIRTIO_RPMSG_F_NS = 1;

export function fixtureResourceTable(traceName = "cm4_log"): Uint8Array {
  const entries: ResourceEntry[] = [
    { type: "trace", da: LAYOUT.traceDa, len: LAYOUT.traceLen, name: traceName },
    {
      type: "vdev",
      id: VIRTIO_ID_RPMSG,
      notifyid: 0,
      dfeatures: VIRTIO_RPMSG_F_NS,
      gfeatures: 0,
      status: 0,
      vrings: [
        { da: LAYOUT.vring0Da, align: LAYOUT.vringAlign, num: LAYOUT.vringNum, notifyid: 0, pa: 0 },
        { da: LAYOUT.vring1Da, align: LAYOUT.vringAlign, num: LAYOUT.vringNum, notifyid: 1, pa: 0 },
      ],
      config: new Uint8Array(0),
    },
  ];
  return buildResourceTable(entries);
}

/** A few Thumb-looking instruction words; `seed` makes the code of two firmwares differ. */
function code(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i * 7 + (i >> 3)) & 0xff;
  return out;
}

export interface FirmwareSpec {
  name: string;
  /** Seed of the code bytes. */
  seed: number;
  /** Base address of the code segment (its descriptor is at its start). */
  codeDa: number;
  /** Device address of a vector-table segment (8 bytes), or null for none. */
  vectorDa: number | null;
  /** Resource table at codeDa + 0x100, or none. */
  rscTable: Uint8Array | null;
  bssSize?: number;
  answersShutdown?: boolean;
  answersDetach?: boolean;
  /** No descriptor (e.g. a TF-M image that does not talk to Linux). */
  noDescriptor?: boolean;
}

/** Builds one firmware ELF: [vector table], code segment = descriptor + code + resource table, .bss. */
export function buildFirmwareElf(f: FirmwareSpec): Uint8Array {
  const rscOff = 0x100;
  const descriptor = f.noDescriptor
    ? code(f.seed + 1, DESCRIPTOR_SIZE)
    : buildFirmwareDescriptor({
        name: f.name,
        rscDa: f.rscTable ? f.codeDa + rscOff : 0,
        answersShutdown: f.answersShutdown ?? true,
        answersDetach: f.answersDetach ?? true,
      });
  const body = concat([descriptor, code(f.seed, rscOff - DESCRIPTOR_SIZE), f.rscTable ?? new Uint8Array(0)]);
  const segments = [
    ...(f.vectorDa === null
      ? []
      : [{ paddr: f.vectorDa, data: le32(LAYOUT.vring0Da, (f.codeDa + DESCRIPTOR_SIZE) | 1), flags: 4 }]),
    { paddr: f.codeDa, data: body, memsz: body.length + (f.bssSize ?? 0), flags: 7 },
  ];
  const sections = f.rscTable
    ? [{ name: ".resource_table", addr: f.codeDa + rscOff, size: f.rscTable.length }]
    : [];
  return buildElf({ entry: (f.codeDa + DESCRIPTOR_SIZE) | 1, segments, sections });
}

const m4 = (name: string, seed: number, rsc: boolean): FirmwareSpec => ({
  name,
  seed,
  codeDa: LAYOUT.m4.codeDa,
  vectorDa: LAYOUT.m4.vectorDa,
  rscTable: rsc ? fixtureResourceTable() : null,
  bssSize: LAYOUT.m4.bssSize,
});

export interface Fixtures {
  keys: {
    rsaPrivatePem: string;
    rsaPublicPem: string;
    otherRsaPrivatePem: string;
    ecPrivatePem: string;
    ecPublicPem: string;
    rsaEncryptedPem: string;
    rsaPassphrase: string;
    rsa: KeyMaterial;
    otherRsa: KeyMaterial;
    ec: KeyMaterial;
  };
  /** Unsigned ELFs (the mainline, no-TEE path loads these itself). */
  elf: {
    good: Uint8Array;
    alternate: Uint8Array;
    noResourceTable: Uint8Array;
    tfm: Uint8Array;
    zephyr: Uint8Array;
  };
  /** Signed images for stm32mp15 (RSA, test key). */
  stm32mp15: {
    good: Uint8Array;
    alternate: Uint8Array;
    noResourceTable: Uint8Array;
    /** good with one byte of the code segment flipped after signing. */
    tampered: Uint8Array;
    /** good signed with another RSA key. */
    badSignature: Uint8Array;
  };
  /** Signed images for stm32mp2-m33: TF-M (secure) + Zephyr (non-secure, with the table), RSA; good with ECDSA. */
  "stm32mp2-m33": { multi: Uint8Array; ecdsa: Uint8Array };
  /** File offset in stm32mp15.good of the byte flipped in `tampered`. */
  tamperedOffset: number;
}

let cached: Promise<Fixtures> | null = null;

/** The fixture set (built once, then shared; treat the arrays as read-only). */
export function loadFixtures(): Promise<Fixtures> {
  cached ??= build();
  return cached;
}

async function build(): Promise<Fixtures> {
  const [rsa, otherRsa, ec] = await Promise.all([
    importKey(K.TEST_RSA_PRIVATE),
    importKey(K.OTHER_RSA_PRIVATE),
    importKey(K.TEST_EC_PRIVATE),
  ]);
  const elf = {
    good: buildFirmwareElf(m4("good", 1, true)),
    alternate: buildFirmwareElf(m4("alternate", 2, true)),
    noResourceTable: buildFirmwareElf(m4("no-rsc-table", 3, false)),
    tfm: buildFirmwareElf({
      name: "tf-m",
      seed: 4,
      codeDa: LAYOUT.m33.tfmDa,
      vectorDa: null,
      rscTable: null,
      noDescriptor: true,
    }),
    zephyr: buildFirmwareElf({
      name: "zephyr",
      seed: 5,
      codeDa: LAYOUT.m33.zephyrDa,
      vectorDa: null,
      rscTable: fixtureResourceTable("zephyr_log"),
      bssSize: 0x200,
    }),
  };
  const sign = (elfs: Uint8Array[], key: KeyMaterial) => signImage({ elfs, key });
  const [good, alternate, noResourceTable, badSignature, multi, ecdsa] = await Promise.all([
    sign([elf.good], rsa),
    sign([elf.alternate], rsa),
    sign([elf.noResourceTable], rsa),
    sign([elf.good], otherRsa),
    sign([elf.tfm, elf.zephyr], rsa),
    sign([elf.good], ec),
  ]);
  // The code segment of `good` starts right after the 2 program headers, 4-aligned, then the vector table.
  const imagesStart = good.length - Math.ceil(elf.good.length / 8) * 8;
  const tamperedOffset = imagesStart + 52 + 2 * 32 + 8 + DESCRIPTOR_SIZE + 4;
  const tampered = good.slice();
  tampered[tamperedOffset] = (tampered[tamperedOffset] ?? 0) ^ 0x01;
  return {
    keys: {
      rsaPrivatePem: K.TEST_RSA_PRIVATE,
      rsaPublicPem: K.TEST_RSA_PUBLIC,
      otherRsaPrivatePem: K.OTHER_RSA_PRIVATE,
      ecPrivatePem: K.TEST_EC_PRIVATE,
      ecPublicPem: K.TEST_EC_PUBLIC,
      rsaEncryptedPem: K.TEST_RSA_ENCRYPTED,
      rsaPassphrase: K.TEST_RSA_PASSPHRASE,
      rsa,
      otherRsa,
      ec,
    },
    elf,
    stm32mp15: { good, alternate, noResourceTable, tampered, badSignature },
    "stm32mp2-m33": { multi, ecdsa },
    tamperedOffset,
  };
}
