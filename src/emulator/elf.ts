/**
 * ELF32 little-endian ARM images: a builder for fixtures (segments with paddr/filesz/memsz, optional
 * sections such as `.resource_table`) and a lenient reader for inspection and signing.
 */
import { InputError } from "../errors.ts";
import { concat, le32, putU16, putU32, readCstr, u16, u32, utf8 } from "./bytes.ts";

export const PT_LOAD = 1;
export const EM_ARM = 40;
export const ELF_HEADER_SIZE = 52;
export const PHDR_SIZE = 32;
export const SHDR_SIZE = 40;

export interface Phdr {
  type: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  flags: number;
  align: number;
}

export interface Shdr {
  name: string;
  type: number;
  addr: number;
  offset: number;
  size: number;
}

export interface SegmentSpec {
  paddr: number;
  vaddr?: number;
  data: Uint8Array;
  /** Defaults to data.length; larger gives a zero-filled tail (.bss). */
  memsz?: number;
  flags?: number;
  /** Defaults to PT_LOAD. */
  type?: number;
}

export interface SectionSpec {
  name: string;
  /** Address inside one segment's file bytes (by paddr). */
  addr: number;
  size: number;
}

export interface ElfSpec {
  entry?: number;
  segments: SegmentSpec[];
  sections?: SectionSpec[];
  machine?: number;
}

const PF_RWX = 7;

/** Builds an ELF32 LE executable: header, program headers, segment bytes, section headers. */
export function buildElf(spec: ElfSpec): Uint8Array {
  const phoff = ELF_HEADER_SIZE;
  let off = phoff + spec.segments.length * PHDR_SIZE;
  const placed = spec.segments.map((s) => {
    off = Math.ceil(off / 4) * 4;
    const at = off;
    off += s.data.length;
    return { s, at };
  });
  const sections = spec.sections ?? [];
  const names = [".shstrtab", ...sections.map((s) => s.name)];
  const strtab = concat(names.map((n) => utf8(`${n}\0`)));
  const strOff = off;
  off = Math.ceil((off + 1 + strtab.length) / 4) * 4;
  const shoff = off;
  const shnum = sections.length + 2;
  const out = new Uint8Array(shoff + shnum * SHDR_SIZE);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  putU16(out, 16, 2); // ET_EXEC
  putU16(out, 18, spec.machine ?? EM_ARM);
  putU32(out, 20, 1);
  putU32(out, 24, spec.entry ?? 0);
  putU32(out, 28, phoff);
  putU32(out, 32, shoff);
  putU32(out, 36, 0x05000200); // EF_ARM_EABI_VER5, soft float
  putU16(out, 40, ELF_HEADER_SIZE);
  putU16(out, 42, PHDR_SIZE);
  putU16(out, 44, spec.segments.length);
  putU16(out, 46, SHDR_SIZE);
  putU16(out, 48, shnum);
  putU16(out, 50, shnum - 1);
  placed.forEach(({ s, at }, i) => {
    const ph = le32(
      s.type ?? PT_LOAD,
      at,
      s.vaddr ?? s.paddr,
      s.paddr,
      s.data.length,
      s.memsz ?? s.data.length,
      s.flags ?? PF_RWX,
      4,
    );
    out.set(ph, phoff + i * PHDR_SIZE);
    out.set(s.data, at);
  });
  out.set(strtab, strOff + 1);
  let nameOff = 1 + ".shstrtab".length + 1;
  sections.forEach((sec, i) => {
    const seg = placed.find(({ s }) => sec.addr >= s.paddr && sec.addr + sec.size <= s.paddr + s.data.length);
    if (!seg)
      throw new Error(
        `section ${sec.name} at 0x${sec.addr.toString(16)} is not inside a segment's file bytes`,
      );
    const sh = le32(
      nameOff,
      1 /* PROGBITS */,
      3,
      sec.addr,
      seg.at + sec.addr - seg.s.paddr,
      sec.size,
      0,
      0,
      4,
      0,
    );
    out.set(sh, shoff + (i + 1) * SHDR_SIZE);
    nameOff += sec.name.length + 1;
  });
  out.set(
    le32(1, 3 /* STRTAB */, 0, 0, strOff, strtab.length + 1, 0, 0, 1, 0),
    shoff + (shnum - 1) * SHDR_SIZE,
  );
  return out;
}

export interface ElfInfo {
  class: number;
  machine: number;
  entry: number;
  phoff: number;
  shoff: number;
  phnum: number;
  shnum: number;
  shstrndx: number;
  phdrs: Phdr[];
  sections: Shdr[];
}

export function readPhdr(b: Uint8Array, off: number): Phdr {
  return {
    type: u32(b, off),
    offset: u32(b, off + 4),
    vaddr: u32(b, off + 8),
    paddr: u32(b, off + 12),
    filesz: u32(b, off + 16),
    memsz: u32(b, off + 20),
    flags: u32(b, off + 24),
    align: u32(b, off + 28),
  };
}

/**
 * Reads an ELF32 for inspection or signing: every structure must lie inside `b`, otherwise an InputError
 * names the field and its offset (`base` is added to offsets in messages).
 */
export function readElf(b: Uint8Array, what: string, base = 0): ElfInfo {
  const need = (cond: boolean, msg: string): void => {
    if (!cond) throw new InputError(msg, { subject: what });
  };
  need(b.length >= ELF_HEADER_SIZE, `ELF header needs 52 bytes, have ${b.length} (at offset ${base})`);
  need(u32(b, 0) === 0x464c457f, `not an ELF file: bad magic at offset ${base}`);
  need(b[4] === 1, `ELF class ${b[4]} at offset ${base + 4} is not ELFCLASS32`);
  need(b[5] === 1, `ELF data encoding ${b[5]} at offset ${base + 5} is not little-endian`);
  const info: ElfInfo = {
    class: b[4] ?? 0,
    machine: u16(b, 18),
    entry: u32(b, 24),
    phoff: u32(b, 28),
    shoff: u32(b, 32),
    phnum: u16(b, 44),
    shnum: u16(b, 48),
    shstrndx: u16(b, 50),
    phdrs: [],
    sections: [],
  };
  need(
    info.phoff + info.phnum * PHDR_SIZE <= b.length,
    `program headers (e_phoff ${info.phoff}, e_phnum ${info.phnum}) run past the ELF end (${b.length}) at offset ${base + 28}`,
  );
  for (let i = 0; i < info.phnum; i++) {
    const ph = readPhdr(b, info.phoff + i * PHDR_SIZE);
    need(
      ph.type !== PT_LOAD || ph.offset + ph.filesz <= b.length,
      `segment ${i}: p_offset ${ph.offset} + p_filesz ${ph.filesz} runs past the ELF end (${b.length}) at offset ${base + info.phoff + i * PHDR_SIZE}`,
    );
    info.phdrs.push(ph);
  }
  if (info.shnum > 0 && info.shoff + info.shnum * SHDR_SIZE <= b.length) {
    const str = info.shoff + info.shstrndx * SHDR_SIZE;
    const strOff = info.shstrndx < info.shnum ? u32(b, str + 16) : 0;
    for (let i = 0; i < info.shnum; i++) {
      const o = info.shoff + i * SHDR_SIZE;
      info.sections.push({
        name: strOff > 0 && strOff < b.length ? readCstr(b, strOff + u32(b, o), 64) : "",
        type: u32(b, o + 4),
        addr: u32(b, o + 12),
        offset: u32(b, o + 16),
        size: u32(b, o + 20),
      });
    }
  }
  return info;
}
