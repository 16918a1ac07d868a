/**
 * The ELF loader helpers of the remoteproc core (drivers/remoteproc/remoteproc_elf_loader.c) for ELF32
 * little-endian images: they read the firmware buffer's real bytes (each read is a use of the buffer).
 */
import { EINVAL, type Kernel } from "./kernel.ts";
import { type FwObj, type Ptr, ptrWrite, type Rproc, rproc_da_to_va } from "./remoteproc_core.ts";

const PT_LOAD = 1;
const EHDR = 52;
const SHDR = 40;
const PHDR = 32;

const u16 = (b: Uint8Array, o: number): number =>
  o + 2 <= b.length ? (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8) : 0;
const u32 = (b: Uint8Array, o: number): number =>
  o + 4 <= b.length ? new DataView(b.buffer, b.byteOffset).getUint32(o, true) : 0;

/** The firmware bytes, recording a read of the buffer (use-after-free shows here). */
function fwBytes(k: Kernel, fw: FwObj, at: string): Uint8Array {
  k.use(fw, at, "read");
  return fw.data.data;
}

/** models remoteproc_elf_loader.c: rproc_elf_sanity_check() */
export function rproc_elf_sanity_check(k: Kernel, _r: Rproc, fw: FwObj): Promise<number> {
  return k.call("core", "rproc_elf_sanity_check", () => {
    const b = fwBytes(k, fw, "rproc_elf_sanity_check");
    if (b.length < EHDR) return -EINVAL;
    if (u32(b, 0) !== 0x464c457f) return -EINVAL;
    if (b[4] !== 1 || b[5] !== 1) return -EINVAL;
    if (u16(b, 44) === 0) return -EINVAL;
    if (u32(b, 32) > b.length) return -EINVAL;
    return 0;
  });
}

/** models remoteproc_elf_loader.c: rproc_elf_get_boot_addr() */
export async function rproc_elf_get_boot_addr(k: Kernel, _r: Rproc, fw: FwObj): Promise<number> {
  return u32(fwBytes(k, fw, "rproc_elf_get_boot_addr"), 24);
}

/** models remoteproc_elf_loader.c: rproc_elf_load_segments() */
export function rproc_elf_load_segments(k: Kernel, r: Rproc, fw: FwObj): Promise<number> {
  return k.call("core", "rproc_elf_load_segments", () => {
    const at = "rproc_elf_load_segments";
    const b = fwBytes(k, fw, at);
    const phoff = u32(b, 28);
    const phnum = u16(b, 44);
    for (let i = 0; i < phnum; i++) {
      const p = phoff + i * PHDR;
      const [type, offset, , paddr, filesz, memsz] = [0, 4, 8, 12, 16, 20].map((o) => u32(b, p + o)) as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      if (type !== PT_LOAD || memsz === 0) continue;
      if (filesz > memsz) return -EINVAL;
      if (offset + filesz > b.length) return -EINVAL;
      const va = rproc_da_to_va(k, r, paddr, memsz);
      if (va === null) {
        k.note("core", at, "log", `bad phdr da 0x${paddr.toString(16)} mem 0x${memsz.toString(16)}`);
        return -EINVAL;
      }
      const seg = new Uint8Array(memsz);
      seg.set(b.subarray(offset, offset + filesz));
      ptrWrite(k, r, va.ptr, 0, seg, at);
    }
    return 0;
  });
}

/** The ".resource_table" section header: {addr, offset, size}, or null. */
function findTableSection(b: Uint8Array): { addr: number; offset: number; size: number } | null {
  const shoff = u32(b, 32);
  const shnum = u16(b, 48);
  const shstrndx = u16(b, 50);
  if (shnum === 0 || shoff + shnum * SHDR > b.length || shstrndx >= shnum) return null;
  const strOff = u32(b, shoff + shstrndx * SHDR + 16);
  const target = ".resource_table";
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * SHDR;
    const nameOff = strOff + u32(b, s);
    let name = "";
    for (let j = nameOff; j < b.length && b[j] !== 0 && name.length < 32; j++)
      name += String.fromCharCode(b[j] ?? 0);
    if (name === target) return { addr: u32(b, s + 12), offset: u32(b, s + 16), size: u32(b, s + 20) };
  }
  return null;
}

/** models remoteproc_elf_loader.c: rproc_elf_load_rsc_table() — kmemdup of the section into cached_table */
export function rproc_elf_load_rsc_table(k: Kernel, r: Rproc, fw: FwObj): Promise<number> {
  return k.call("core", "rproc_elf_load_rsc_table", () => {
    const at = "rproc_elf_load_rsc_table";
    const b = fwBytes(k, fw, at);
    const sec = findTableSection(b);
    if (sec === null) {
      k.note("core", at, "log", "no resource table found");
      return -EINVAL;
    }
    if (sec.offset + sec.size > b.length || sec.size < 16 || u32(b, sec.offset) !== 1) return -EINVAL;
    r.cached_table = k.kmemdup("cached_table", r.name, b.subarray(sec.offset, sec.offset + sec.size), at);
    r.table_ptr = { kind: "mem", obj: r.cached_table, off: 0 };
    r.table_sz = sec.size;
    return 0;
  });
}

/** models remoteproc_elf_loader.c: rproc_elf_find_loaded_rsc_table() — the section's address in device memory */
export async function rproc_elf_find_loaded_rsc_table(k: Kernel, r: Rproc, fw: FwObj): Promise<Ptr | null> {
  const sec = findTableSection(fwBytes(k, fw, "rproc_elf_find_loaded_rsc_table"));
  if (sec === null) return null;
  return rproc_da_to_va(k, r, sec.addr, sec.size)?.ptr ?? null;
}
