/**
 * The signed remoteproc image (header version 1 + TLVs + signature + ELF images, see
 * optee-remoteproc.md §1): a producer that mirrors OP-TEE's sign_rproc_fw.py byte for byte, and a strict
 * reader for inspection. The TA's own, more lenient walk lives in ta.ts.
 */
import { InputError } from "../errors.ts";
import { concat, hex, hex32, le32, pad8, r8, sha256, u32, utf8 } from "./bytes.ts";
import { type ElfInfo, EM_ARM, PHDR_SIZE, type Phdr, readElf, readPhdr } from "./elf.ts";
import { type KeyMaterial, signData } from "./keys.ts";

export const IMAGE_MAGIC = 0x3543a468;
export const IMAGE_VERSION = 1;
export const HEADER_SIZE = 20;
export const HASH_ENTRY_SIZE = 64;

export const TLV = {
  SIGNTYPE: 0x01,
  HASHTYPE: 0x02,
  NUM_IMG: 0x03,
  IMGTYPE: 0x04,
  IMGSIZE: 0x05,
  HASHTABLE: 0x10,
  PKEYINFO: 0x11,
} as const;
export const PLATFORM_TLV_MIN = 0x10000;
export const PLATFORM_TLV_MAX = 0x1ffff;
export const SIGN_TYPE = { rsa: 1, ecc: 2 } as const;

const TLV_NAMES = new Map<number, string>(Object.entries(TLV).map(([k, v]) => [v, k]));
export function tlvName(type: number): string {
  if (type >= PLATFORM_TLV_MIN && type <= PLATFORM_TLV_MAX) return `PLATFORM_${hex32(type)}`;
  return TLV_NAMES.get(type) ?? `UNKNOWN_${hex32(type)}`;
}

/** One TLV record padded to 8 bytes. */
export function encodeTlv(type: number, value: Uint8Array): Uint8Array {
  return pad8(concat([le32(type, value.length), value]));
}

// ---------------------------------------------------------------------------------------------
// Producer

export interface SignOptions {
  /** Input ELFs, in order (each one image). */
  elfs: Uint8Array[];
  key: KeyMaterial;
  /** SIGNTYPE; defaults to the key's kind. The script's --key_type RSA|ECC. */
  keyType?: "rsa" | "ecc";
  /** Raw bytes for the PKEYINFO TLV (--key_info). */
  keyInfo?: Uint8Array;
  /** Platform TLVs (--plat-tlv), in command-line order; a repeated id keeps its first position, last value. */
  platTlvs?: Array<[number, Uint8Array]>;
  /** Names of the inputs for error messages. */
  names?: string[];
}

/** The script's --plat-tlv ID parsing (Python int(x, 0)) and range check. */
export function parsePlatTlvId(text: string): number {
  const t = text.trim().replace(/_/g, "");
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[1-9][0-9]*|0+)$/.exec(t);
  if (!m) throw new InputError(`platform TLV id "${text}" is not a number`, { subject: "--plat-tlv" });
  const body = m[2] ?? "0";
  const radix = /^0[xX]/.test(body) ? 16 : /^0[oO]/.test(body) ? 8 : /^0[bB]/.test(body) ? 2 : 10;
  const v = Number.parseInt(radix === 10 ? body : body.slice(2), radix) * (m[1] === "-" ? -1 : 1);
  if (v < PLATFORM_TLV_MIN || v > PLATFORM_TLV_MAX) {
    throw new InputError(`TLV 0x${v.toString(16)} not in range 0x10000-0x1ffff`, { subject: "--plat-tlv" });
  }
  return v;
}

/** The script's --plat-tlv value: "0x…" as a u32 LE, anything else as UTF-8. */
export function parsePlatTlvValue(text: string): Uint8Array {
  if (!text.startsWith("0x")) return utf8(text);
  const v = Number.parseInt(text.slice(2), 16);
  if (!/^[0-9a-fA-F]+$/.test(text.slice(2)) || v > 0xffffffff) {
    throw new InputError(`value "${text}" is not a 32-bit hex number`, { subject: "--plat-tlv" });
  }
  return le32(v);
}

/** Produces a signed image exactly as sign_rproc_fw.py does (RSA output is deterministic). */
export async function signImage(opts: SignOptions): Promise<Uint8Array> {
  const keyType = opts.keyType ?? opts.key.kind;
  if (keyType !== opts.key.kind) {
    throw new InputError(
      `key type ${keyType.toUpperCase()} does not match the ${opts.key.kind.toUpperCase()} key`,
      {
        subject: "--key-type",
      },
    );
  }
  if (opts.elfs.length === 0 || opts.elfs.length > 255) {
    throw new InputError(`need 1 to 255 input images, got ${opts.elfs.length}`, { subject: "--in" });
  }
  const hashTable: Uint8Array[] = [];
  opts.elfs.forEach((elf, i) => {
    const what = opts.names?.[i] ?? `input ${i + 1}`;
    const info = readElf(elf, what);
    if (info.machine !== EM_ARM)
      throw new InputError(`e_machine ${info.machine} is not ARM (40)`, { subject: what });
    for (const ph of info.phdrs) {
      if (ph.offset + ph.filesz > elf.length) {
        throw new InputError(`segment at p_offset ${ph.offset} runs past the file end`, { subject: what });
      }
      const phWords = le32(ph.type, ph.offset, ph.vaddr, ph.paddr, ph.filesz, ph.memsz, ph.flags, ph.align);
      hashTable.push(phWords, sha256(elf.subarray(ph.offset, ph.offset + ph.filesz)));
    }
  });
  const plat = new Map<number, Uint8Array>();
  for (const [id, value] of opts.platTlvs ?? []) plat.set(id, value);
  const tlvs: Array<[number, Uint8Array]> = [
    [TLV.SIGNTYPE, Uint8Array.of(SIGN_TYPE[keyType])],
    [TLV.NUM_IMG, Uint8Array.of(opts.elfs.length)],
    [TLV.IMGTYPE, new Uint8Array(opts.elfs.length).fill(1)],
    [TLV.IMGSIZE, le32(...opts.elfs.map((e) => r8(e.length)))],
    [TLV.HASHTYPE, Uint8Array.of(1)],
    [TLV.HASHTABLE, concat(hashTable)],
    ...(opts.keyInfo ? [[TLV.PKEYINFO, opts.keyInfo] as [number, Uint8Array]] : []),
    ...plat,
  ];
  return assembleImage({ tlvs, images: opts.elfs, key: opts.key });
}

export interface AssembleOptions {
  /** TLV records in order (each padded to 8). */
  tlvs: Array<[number, Uint8Array]>;
  /** Image bytes, each padded to 8 and concatenated. */
  images: Uint8Array[];
  key: KeyMaterial;
  /** Header fields to force (e.g. a wrong img_len), before signing. */
  header?: Partial<{ magic: number; version: number; tlvLen: number; signLen: number; imgLen: number }>;
}

/**
 * Header + TLVs + signature + images, signed over header‖TLVs. signImage uses it with the script's TLVs;
 * tests use it to craft images that are signed yet malformed, to reach the TA's checks after V4.
 */
export async function assembleImage(o: AssembleOptions): Promise<Uint8Array> {
  const tlvs = concat(o.tlvs.map(([type, value]) => encodeTlv(type, value)));
  const signLen = o.key.kind === "rsa" ? o.key.modulusBytes : 64;
  const h = o.header ?? {};
  const header = le32(
    h.magic ?? IMAGE_MAGIC,
    h.version ?? IMAGE_VERSION,
    h.tlvLen ?? tlvs.length,
    h.signLen ?? signLen,
    h.imgLen ?? o.images.reduce((n, im) => n + r8(im.length), 0),
  );
  const signed = concat([header, tlvs]);
  const signature = await signData(o.key, signed, sha256(signed));
  return concat([signed, pad8(signature), ...o.images.map(pad8)]);
}

// ---------------------------------------------------------------------------------------------
// Strict reader (inspection)

export interface TlvRecord {
  offset: number;
  type: number;
  name: string;
  length: number;
  value: Uint8Array;
}

/** One hash-table entry: the segment's ELF32 program header, word for word, then the SHA-256 of its bytes. */
export interface HashEntry extends Phdr {
  index: number;
  sha256: string;
}

export interface ImageInfo {
  header: { magic: number; version: number; tlvLen: number; signLen: number; imgLen: number };
  size: number;
  tlvs: TlvRecord[];
  signType: number | null;
  signatureOffset: number;
  signature: Uint8Array;
  /** SHA-256 of header‖TLV area, the digest the PTA verifies. */
  signedDigest: string;
  images: Array<{ index: number; offset: number; size: number; type: number; elf: ElfInfo }>;
  hashTable: HashEntry[];
  keyInfo: Uint8Array | null;
}

function fail(what: string, msg: string): never {
  throw new InputError(msg, { subject: what });
}

/** Parses a signed image completely; any inconsistency is an InputError naming the field and offset. */
export function inspectImage(b: Uint8Array, what = "image"): ImageInfo {
  if (b.length < HEADER_SIZE) fail(what, `file of ${b.length} bytes is shorter than the 20-byte header`);
  const header = {
    magic: u32(b, 0),
    version: u32(b, 4),
    tlvLen: u32(b, 8),
    signLen: u32(b, 12),
    imgLen: u32(b, 16),
  };
  if (header.magic !== IMAGE_MAGIC)
    fail(what, `bad magic ${hex32(header.magic)} at offset 0 (want 0x3543a468)`);
  if (header.version !== IMAGE_VERSION) fail(what, `header version ${header.version} at offset 4 (want 1)`);
  if (header.tlvLen === 0) fail(what, "tlv_len at offset 8 is 0");
  if (header.signLen === 0) fail(what, "sign_len at offset 12 is 0");
  const sigOff = HEADER_SIZE + r8(header.tlvLen);
  const imgOff = sigOff + r8(header.signLen);
  const expected = imgOff + r8(header.imgLen);
  if (b.length !== expected) {
    fail(
      what,
      `file size ${b.length} differs from 20 + R8(tlv_len) + R8(sign_len) + R8(img_len) = ${expected}`,
    );
  }
  const tlvs: TlvRecord[] = [];
  for (let off = HEADER_SIZE; off < HEADER_SIZE + header.tlvLen; ) {
    if (HEADER_SIZE + header.tlvLen - off < 8) fail(what, `truncated TLV record at offset ${off}`);
    const type = u32(b, off);
    const length = u32(b, off + 4);
    if (off + 8 + length > HEADER_SIZE + header.tlvLen) {
      fail(what, `TLV ${tlvName(type)} at offset ${off}: length ${length} runs past the TLV area`);
    }
    tlvs.push({
      offset: off,
      type,
      name: tlvName(type),
      length,
      value: b.subarray(off + 8, off + 8 + length),
    });
    off += 8 + r8(length);
  }
  const get = (type: number, name: string): Uint8Array => {
    const t = tlvs.find((x) => x.type === type);
    if (!t) fail(what, `required TLV ${name} (${type}) is missing`);
    return t.value;
  };
  const numImg = get(TLV.NUM_IMG, "NUM_IMG")[0] ?? 0;
  const imgTypes = get(TLV.IMGTYPE, "IMGTYPE");
  const imgSizes = get(TLV.IMGSIZE, "IMGSIZE");
  const table = get(TLV.HASHTABLE, "HASHTABLE");
  if (numImg === 0) fail(what, "NUM_IMG is 0");
  if (imgTypes.length !== numImg || imgSizes.length !== 4 * numImg) {
    fail(
      what,
      `IMGTYPE/IMGSIZE lengths ${imgTypes.length}/${imgSizes.length} do not match NUM_IMG ${numImg}`,
    );
  }
  if (table.length % HASH_ENTRY_SIZE !== 0)
    fail(what, `HASHTABLE length ${table.length} is not a multiple of 64`);
  const images: ImageInfo["images"] = [];
  let off = imgOff;
  for (let i = 0; i < numImg; i++) {
    const size = u32(imgSizes, 4 * i);
    if (off + size > b.length) {
      fail(what, `image ${i + 1} (IMGSIZE ${size}) at offset ${off} runs past the images area`);
    }
    images.push({
      index: i,
      offset: off,
      size,
      type: imgTypes[i] ?? 0,
      elf: readElf(b.subarray(off, off + size), what, off),
    });
    off += size;
  }
  const hashTable: HashEntry[] = [];
  for (let i = 0; i < table.length / HASH_ENTRY_SIZE; i++) {
    const e = table.subarray(i * HASH_ENTRY_SIZE);
    hashTable.push({ index: i, ...readPhdr(e, 0), sha256: hex(e.subarray(PHDR_SIZE, HASH_ENTRY_SIZE)) });
  }
  const signType = tlvs.find((t) => t.type === TLV.SIGNTYPE)?.value[0] ?? null;
  return {
    header,
    size: b.length,
    tlvs,
    signType,
    signatureOffset: sigOff,
    signature: b.subarray(sigOff, sigOff + header.signLen),
    signedDigest: hex(sha256(b.subarray(0, sigOff))),
    images,
    hashTable,
    keyInfo: tlvs.find((t) => t.type === TLV.PKEYINFO)?.value ?? null,
  };
}
