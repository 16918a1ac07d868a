/**
 * The remoteproc core (drivers/remoteproc/remoteproc_core.c and the remoteproc_internal.h wrappers) as an
 * executable model: struct rproc, the ops table, boot/start/stop/shutdown, attach/detach, crash and recovery,
 * resource handling, add/del. Every variation point between designs is read from k.facts (never from a
 * version name). Memory is real bytes: the cached table is a kernel object, device memory is the emulator's.
 */

import { rebuildable } from "../fork.ts";
import type { Device } from "./device.ts";
import type { DesignFacts, LoadFwSite, ReleaseFwSite } from "./facts.ts";
import { Atomic, EBUSY, EINVAL, ENODEV, ENOMEM, type Kernel, type KObj, Mutex } from "./kernel.ts";
import {
  rproc_elf_find_loaded_rsc_table,
  rproc_elf_get_boot_addr,
  rproc_elf_load_rsc_table,
  rproc_elf_load_segments,
  rproc_elf_sanity_check,
} from "./remoteproc_elf_loader.ts";
import { type RprocVdev, rproc_handle_vdev } from "./remoteproc_virtio.ts";

/** Decodes resource-entry names (stateless for whole calls, so one decoder serves every call). */
const TEXT = new TextDecoder();

export type RprocState =
  | "offline"
  | "suspended"
  | "running"
  | "crashed"
  | "deleted"
  | "attached"
  | "detached";

/** struct firmware, as request_firmware returns it (an object with a lifetime: release_firmware frees it). */
export interface Firmware {
  name: string;
  data: Uint8Array;
}
export type FwObj = KObj<Firmware>;

/** A pointer into memory: an ioremapped device address (pa) or an offset in a kernel buffer. */
export type Ptr = { kind: "io"; pa: number } | { kind: "mem"; obj: KObj<Uint8Array>; off: number };

/** Non-secure (ioremap) access to device memory, provided by the platform driver. */
export interface IoMem {
  read(pa: number, len: number): Uint8Array | null;
  write(pa: number, bytes: Uint8Array): boolean;
}

export const FW_RSC_ADDR_ANY = 0xffffffff;
export const RSC_IGNORED = 1;

/** struct rproc_mem_entry (carveouts). */
export interface RprocMemEntry {
  name: string;
  va: Ptr | null;
  is_iomem: boolean;
  dma: number;
  len: number;
  da: number;
  rsc_offset: number;
  of_resm_idx: number;
  alloc: ((k: Kernel, rproc: Rproc, mem: RprocMemEntry) => Promise<number>) | null;
  release: ((k: Kernel, rproc: Rproc, mem: RprocMemEntry) => Promise<number>) | null;
  /** The kzalloc'd entry itself. */
  obj: KObj<string>;
  /** What alloc mapped or allocated (an ioremap or a dma buffer), freed by release. */
  backing: KObj | null;
}

/** struct rproc_subdev */
export interface RprocSubdev {
  name: string;
  prepare?: (k: Kernel, rproc: Rproc) => Promise<number>;
  start?: (k: Kernel, rproc: Rproc) => Promise<number>;
  stop?: (k: Kernel, rproc: Rproc, crashed: boolean) => Promise<void>;
  unprepare?: (k: Kernel, rproc: Rproc) => Promise<void>;
}

type FwOp = (k: Kernel, rproc: Rproc, fw: FwObj) => Promise<number>;
type PlainOp = (k: Kernel, rproc: Rproc) => Promise<number>;

/** struct rproc_ops (include/linux/remoteproc.h), with the series' additions (load_segments, load_fw, release_fw). */
export interface RprocOps {
  prepare?: PlainOp;
  unprepare?: PlainOp;
  start?: PlainOp;
  stop?: PlainOp;
  attach?: PlainOp;
  detach?: PlainOp;
  kick?: (k: Kernel, rproc: Rproc, vqid: number) => Promise<void>;
  da_to_va?: (k: Kernel, rproc: Rproc, da: number, len: number) => Ptr | null;
  parse_fw?: FwOp;
  handle_rsc?: (k: Kernel, rproc: Rproc, type: number, offset: number, avail: number) => Promise<number>;
  find_loaded_rsc_table?: (k: Kernel, rproc: Rproc, fw: FwObj) => Promise<Ptr | null>;
  /** Returns the table and its size, null (no table) or a negative errno (ERR_PTR). */
  get_loaded_rsc_table?: (k: Kernel, rproc: Rproc) => Promise<{ table: Ptr; size: number } | null | number>;
  load?: FwOp;
  load_segments?: FwOp;
  sanity_check?: FwOp;
  get_boot_addr?: (k: Kernel, rproc: Rproc, fw: FwObj) => Promise<number>;
  panic?: (k: Kernel, rproc: Rproc) => Promise<number>;
  coredump?: (k: Kernel, rproc: Rproc) => Promise<void>;
  load_fw?: FwOp;
  release_fw?: (k: Kernel, rproc: Rproc) => Promise<void>;
}

/** The firmware store request_firmware reads from (the scenario's /lib/firmware). */
export interface FirmwareStore {
  get(name: string): Uint8Array | undefined;
}

/** struct rproc */
export class Rproc {
  state: RprocState = "offline";
  readonly power = new Atomic(0);
  readonly lock: Mutex;
  ops: RprocOps;
  firmware: string;
  auto_boot = true;
  recovery_disabled = false;
  crash_cnt = 0;
  bootaddr = 0;
  has_iommu = false;
  cached_table: KObj<Uint8Array> | null = null;
  clean_table: KObj<Uint8Array> | null = null;
  table_ptr: Ptr | null = null;
  table_sz = 0;
  max_notifyid = -1;
  nb_vdev = 0;
  readonly carveouts: RprocMemEntry[] = [];
  readonly traces: KObj<{ da: number; len: number; name: string }>[] = [];
  readonly rvdevs: RprocVdev[] = [];
  readonly subdevs: RprocSubdev[] = [];
  readonly notifyids = new Map<number, RprocVdev>();
  /** get_device/put_device references on rproc->dev. */
  refs = 1;
  /** The struct rproc allocation (freed by rproc_type_release when the last reference goes). */
  readonly obj: KObj<string>;
  /** Driver private data (rproc->priv). */
  priv: unknown = null;
  /** Registered with device_add (rproc_add) and not yet rproc_del'd. */
  registered = false;
  /** Fields a TEE client driver may attach to the rproc (e.g. rproc_tee_itf). */
  ext: Record<string, unknown> = {};

  constructor(
    k: Kernel,
    readonly name: string,
    /** rproc->dev.parent: the platform device. */
    readonly dev: Device,
    ops: RprocOps,
    firmware: string,
    readonly io: IoMem,
  ) {
    this.lock = new Mutex(k, `${name}->lock`);
    this.ops = ops;
    this.firmware = firmware;
    this.obj = k.alloc("rproc", name, name, "rproc_alloc");
  }
}

// ---------------------------------------------------------------------------------------------------------
// Memory helpers

/** Reads `len` bytes at `ptr + off` (a use of the kernel buffer, or an ioremap read). */
export function ptrRead(k: Kernel, rproc: Rproc, ptr: Ptr, off: number, len: number, at: string): Uint8Array {
  if (ptr.kind === "mem") {
    k.use(ptr.obj, at, "read");
    return ptr.obj.data.slice(ptr.off + off, ptr.off + off + len);
  }
  return rproc.io.read(ptr.pa + off, len) ?? new Uint8Array(len);
}

/** Writes bytes at `ptr + off`. */
export function ptrWrite(
  k: Kernel,
  rproc: Rproc,
  ptr: Ptr,
  off: number,
  bytes: Uint8Array,
  at: string,
): void {
  if (ptr.kind === "mem") {
    k.use(ptr.obj, at, "write");
    if (!ptr.obj.freed)
      ptr.obj.data.set(bytes.subarray(0, Math.max(0, ptr.obj.data.length - ptr.off - off)), ptr.off + off);
    return;
  }
  rproc.io.write(ptr.pa + off, bytes);
}

const le32 = (v: number): Uint8Array => {
  const u = v >>> 0;
  return Uint8Array.of(u & 0xff, (u >>> 8) & 0xff, (u >>> 16) & 0xff, u >>> 24);
};
const rd32 = (b: Uint8Array, off: number): number => {
  if (!(off + 4 <= b.length)) return 0;
  // A whole, non-negative offset reads the bytes directly; anything else keeps the DataView (and its RangeError).
  if (Number.isInteger(off) && off >= 0) {
    return (
      ((b[off] as number) | ((b[off + 1] as number) << 8) | ((b[off + 2] as number) << 16)) +
      (b[off + 3] as number) * 0x1000000
    );
  }
  return new DataView(b.buffer, b.byteOffset).getUint32(off, true);
};

/** Reads a u32 of the resource table through table_ptr. */
export function tableRead32(k: Kernel, rproc: Rproc, off: number, at: string): number {
  return rproc.table_ptr === null ? 0 : rd32(ptrRead(k, rproc, rproc.table_ptr, off, 4, at), 0);
}

/** Writes a u32 into the resource table through table_ptr. */
export function tableWrite32(k: Kernel, rproc: Rproc, off: number, v: number, at: string): void {
  if (rproc.table_ptr !== null) ptrWrite(k, rproc, rproc.table_ptr, off, le32(v), at);
}

/** models firmware_class: request_firmware() — a new struct firmware read by name, or -ENOENT */
export async function request_firmware(
  k: Kernel,
  store: FirmwareStore,
  name: string,
): Promise<{ ret: number; fw: FwObj | null }> {
  let fw: FwObj | null = null;
  const ret = await k.call(
    "core",
    "request_firmware",
    () => {
      k.mightSleep("request_firmware", "request_firmware");
      const data = store.get(name);
      if (data === undefined) return -2;
      fw = k.alloc<Firmware>("firmware", name, { name, data: data.slice() }, "request_firmware");
      return 0;
    },
    { detail: name },
  );
  return { ret, fw };
}

/** models firmware_class: release_firmware() */
export function release_firmware(k: Kernel, fw: FwObj | null): void {
  if (fw !== null) k.free(fw, "release_firmware");
}

// ---------------------------------------------------------------------------------------------------------
// remoteproc_internal.h wrappers

async function opCall(
  k: Kernel,
  fn: string,
  op: PlainOp | undefined,
  rproc: Rproc,
  ifMissing: number,
): Promise<number> {
  return k.call("core", fn, () => (op === undefined ? ifMissing : op(k, rproc)));
}

/** models remoteproc_internal.h: rproc_prepare_device() */
export const rproc_prepare_device = (k: Kernel, r: Rproc): Promise<number> =>
  opCall(k, "rproc_prepare_device", r.ops.prepare, r, 0);
/** models remoteproc_internal.h: rproc_unprepare_device() */
export const rproc_unprepare_device = (k: Kernel, r: Rproc): Promise<number> =>
  opCall(k, "rproc_unprepare_device", r.ops.unprepare, r, 0);
/** models remoteproc_internal.h: rproc_attach_device() */
export const rproc_attach_device = (k: Kernel, r: Rproc): Promise<number> =>
  opCall(k, "rproc_attach_device", r.ops.attach, r, 0);

/** models remoteproc_internal.h: rproc_fw_sanity_check() */
export const rproc_fw_sanity_check = (k: Kernel, r: Rproc, fw: FwObj): Promise<number> =>
  k.call("core", "rproc_fw_sanity_check", () => r.ops.sanity_check?.(k, r, fw) ?? 0);

/** models remoteproc_internal.h: rproc_get_boot_addr() */
export const rproc_get_boot_addr = (k: Kernel, r: Rproc, fw: FwObj): Promise<number> =>
  r.ops.get_boot_addr?.(k, r, fw) ?? Promise.resolve(0);

/** models remoteproc_internal.h: rproc_parse_fw() */
export const rproc_parse_fw = (k: Kernel, r: Rproc, fw: FwObj): Promise<number> =>
  k.call("core", "rproc_parse_fw", () => r.ops.parse_fw?.(k, r, fw) ?? 0);

/** models remoteproc_internal.h: rproc_load_segments() — the op named by core.loadSegmentsOp */
export function rproc_load_segments(k: Kernel, r: Rproc, fw: FwObj): Promise<number> {
  const core = k.facts.core;
  const op = r.ops[core.loadSegmentsOp];
  return k.call("core", "rproc_load_segments", () =>
    op === undefined ? (core.loadSegmentsWhenMissing === "einval" ? -EINVAL : 0) : op(k, r, fw),
  );
}

/** models remoteproc_internal.h: rproc_find_loaded_rsc_table() */
export async function rproc_find_loaded_rsc_table(k: Kernel, r: Rproc, fw: FwObj): Promise<Ptr | null> {
  let found: Ptr | null = null;
  await k.call("core", "rproc_find_loaded_rsc_table", async () => {
    found = r.ops.find_loaded_rsc_table ? await r.ops.find_loaded_rsc_table(k, r, fw) : null;
    return undefined;
  });
  return found;
}

/** models remoteproc_internal.h: rproc_load_fw() (series) — ops->load_fw when the design has it */
export function rproc_load_fw(k: Kernel, r: Rproc, fw: FwObj): Promise<number> {
  return k.call("core", "rproc_load_fw", () =>
    k.facts.core.loadFwOp && r.ops.load_fw !== undefined ? r.ops.load_fw(k, r, fw) : 0,
  );
}

/** models remoteproc_internal.h: rproc_release_fw() (series) — ops->release_fw when the design has it */
export async function rproc_release_fw(k: Kernel, r: Rproc): Promise<void> {
  await k.call("core", "rproc_release_fw", async () => {
    if (k.facts.core.releaseFwOp && r.ops.release_fw !== undefined) await r.ops.release_fw(k, r);
    return undefined;
  });
}

/** Calls rproc_release_fw when the design reaches ops->release_fw at `site`. */
async function releaseFwAt(k: Kernel, r: Rproc, site: ReleaseFwSite): Promise<void> {
  if (k.facts.core.releaseFwCalls.includes(site)) await rproc_release_fw(k, r);
}

/** The load_fw call of the design at `site`, if any. */
function loadFwCallAt(
  facts: DesignFacts,
  site: LoadFwSite,
): DesignFacts["core"]["loadFwCalls"][number] | undefined {
  return facts.core.loadFwCalls.find((c) => c.site === site);
}

/** kfree(cached_table); cached_table = NULL; table_ptr = NULL (shared by shutdown, detach, fw_boot unwind). */
function freeCachedTable(k: Kernel, r: Rproc, at: string): void {
  k.kfree(r.cached_table, at);
  r.cached_table = null;
  r.table_ptr = null;
}

function setState(k: Kernel, r: Rproc, to: RprocState, at: string): void {
  const from = r.state;
  r.state = to;
  k.stateChange("core", at, r.name, from, to);
}

// ---------------------------------------------------------------------------------------------------------
// Address translation

/** models remoteproc_core.c: rproc_da_to_va() — ops->da_to_va, then the carveouts with a va */
export function rproc_da_to_va(
  k: Kernel,
  r: Rproc,
  da: number,
  len: number,
): { ptr: Ptr; is_iomem: boolean } | null {
  const viaOp = r.ops.da_to_va?.(k, r, da, len);
  if (viaOp) return { ptr: viaOp, is_iomem: viaOp.kind === "io" };
  for (const c of r.carveouts) {
    if (c.va === null) continue;
    const off = da - c.da;
    if (off >= 0 && off + len <= c.len) return { ptr: offsetPtr(c.va, off), is_iomem: c.is_iomem };
  }
  return null;
}

/** models remoteproc_core.c: rproc_pa_to_va() (series) — walks the carveouts by physical address */
export function rproc_pa_to_va(
  k: Kernel,
  r: Rproc,
  pa: number,
  len: number,
): { ptr: Ptr; is_iomem: boolean } | null {
  if (!k.facts.core.paToVa)
    throw new Error("rproc_pa_to_va does not exist in this design (core.paToVa is false)");
  const hit = paToVaSearch(r.carveouts, pa, len);
  if (hit === null) return null;
  const c = r.carveouts[hit.index] as RprocMemEntry;
  return { ptr: offsetPtr(c.va as Ptr, hit.off), is_iomem: c.is_iomem };
}

/**
 * rproc_pa_to_va()'s walk: the first carveout, in list order, that is mapped and holds [pa, pa + len), and
 * the offset of pa in it (also the oracle the mapper checks a posted rproc_pa_to_va against, map/pa_to_va.ts).
 */
export function paToVaSearch(
  carveouts: readonly Pick<RprocMemEntry, "va" | "dma" | "len">[],
  pa: number,
  len: number,
): { index: number; off: number } | null {
  for (const [index, c] of carveouts.entries()) {
    if (c.va === null) continue;
    const off = pa - c.dma;
    if (off >= 0 && off + len <= c.len) return { index, off };
  }
  return null;
}

function offsetPtr(p: Ptr, off: number): Ptr {
  return p.kind === "io" ? { kind: "io", pa: p.pa + off } : { kind: "mem", obj: p.obj, off: p.off + off };
}

// ---------------------------------------------------------------------------------------------------------
// Carveouts

/** models remoteproc_core.c: rproc_mem_entry_init() */
export function rproc_mem_entry_init(
  k: Kernel,
  name: string,
  dma: number,
  len: number,
  da: number,
  alloc: RprocMemEntry["alloc"],
  release: RprocMemEntry["release"],
  at: string,
): RprocMemEntry {
  k.mightSleep("kzalloc", at);
  return {
    name,
    va: null,
    is_iomem: false,
    dma,
    len,
    da,
    rsc_offset: FW_RSC_ADDR_ANY,
    of_resm_idx: -1,
    alloc,
    release,
    obj: k.alloc("carveout", name, name, at),
    backing: null,
  };
}

/** models remoteproc_core.c: rproc_add_carveout() */
export function rproc_add_carveout(r: Rproc, mem: RprocMemEntry): void {
  r.carveouts.push(mem);
}

/** models remoteproc_core.c: rproc_find_carveout_by_name() */
export function rproc_find_carveout_by_name(r: Rproc, name: string): RprocMemEntry | undefined {
  return r.carveouts.find((c) => c.name === name);
}

/** models remoteproc_core.c: rproc_check_carveout_da() */
export function rproc_check_carveout_da(mem: RprocMemEntry, da: number, len: number): number {
  if (len > mem.len) return -EINVAL;
  if (da !== FW_RSC_ADDR_ANY && mem.da === FW_RSC_ADDR_ANY) return -EINVAL;
  if (da !== FW_RSC_ADDR_ANY) {
    const delta = da - mem.da;
    if (delta < 0 || delta + len > mem.len) return -EINVAL;
  }
  return 0;
}

let dmaNext = 0xc0000000;
/** models remoteproc_core.c: rproc_alloc_carveout() — dma_alloc_coherent (kernel memory) */
async function rproc_alloc_carveout(k: Kernel, _r: Rproc, mem: RprocMemEntry): Promise<number> {
  return k.call("core", "rproc_alloc_carveout", () => {
    k.mightSleep("dma_alloc_coherent", "rproc_alloc_carveout");
    const buf = k.alloc("mem", `dma ${mem.name}`, new Uint8Array(mem.len), "dma_alloc_coherent");
    const dma = dmaNext;
    dmaNext += Math.ceil(mem.len / 0x1000) * 0x1000;
    if (mem.da === FW_RSC_ADDR_ANY) mem.da = dma;
    mem.dma = dma;
    mem.va = { kind: "mem", obj: buf as KObj<Uint8Array>, off: 0 };
    mem.backing = buf;
    return 0;
  });
}

/** models remoteproc_core.c: rproc_release_carveout() — dma_free_coherent */
async function rproc_release_carveout(k: Kernel, _r: Rproc, mem: RprocMemEntry): Promise<number> {
  if (mem.backing !== null) k.free(mem.backing, "rproc_release_carveout");
  mem.backing = null;
  mem.va = null;
  return 0;
}

/** A carveout with the core's default allocator (dma_alloc_coherent), as rproc_alloc_vring registers one. */
export function rproc_register_default_carveout(
  k: Kernel,
  name: string,
  len: number,
  da: number,
  at: string,
): RprocMemEntry {
  return rproc_mem_entry_init(k, name, 0, len, da, rproc_alloc_carveout, rproc_release_carveout, at);
}

/** models remoteproc_core.c: rproc_alloc_registered_carveouts() */
export function rproc_alloc_registered_carveouts(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "rproc_alloc_registered_carveouts", async () => {
    for (const entry of r.carveouts) {
      if (entry.alloc !== null) {
        const ret = await entry.alloc(k, r, entry);
        if (ret) {
          k.note(
            "core",
            "rproc_alloc_registered_carveouts",
            "log",
            `Unable to allocate carveout ${entry.name}`,
          );
          return -ENOMEM;
        }
      }
      if (entry.rsc_offset !== FW_RSC_ADDR_ANY) {
        const pa = entry.va?.kind === "io" ? entry.va.pa : entry.dma;
        tableWrite32(k, r, entry.rsc_offset + 8, pa, "rproc_alloc_registered_carveouts");
        tableWrite32(k, r, entry.rsc_offset + 4, entry.da, "rproc_alloc_registered_carveouts");
        tableWrite32(k, r, entry.rsc_offset + 12, entry.len, "rproc_alloc_registered_carveouts");
      }
    }
    return 0;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Resource handlers

const RSC_CARVEOUT = 0;
const RSC_DEVMEM = 1;
const RSC_TRACE = 2;
const RSC_VDEV = 3;
const RSC_LAST = 4;
const RSC_VENDOR_START = 128;
const RSC_VENDOR_END = 512;

/** models remoteproc_core.c: rproc_handle_carveout() */
function rproc_handle_carveout(k: Kernel, r: Rproc, offset: number, avail: number): Promise<number> {
  return k.call("core", "rproc_handle_carveout", () => {
    const at = "rproc_handle_carveout";
    if (avail < 52) return -EINVAL;
    const body = ptrRead(k, r, r.table_ptr as Ptr, offset, 52, at);
    const [da, , len, flags, reserved] = [0, 4, 8, 12, 16].map((o) => rd32(body, o)) as [
      number,
      number,
      number,
      number,
      number,
    ];
    if (reserved !== 0) return -EINVAL;
    const name = TEXT.decode(body.subarray(20, 52)).replace(/\0.*$/s, "");
    const mem = rproc_find_carveout_by_name(r, name);
    if (mem !== undefined) {
      if (mem.rsc_offset !== FW_RSC_ADDR_ANY) return -ENOMEM;
      if (rproc_check_carveout_da(mem, da, len)) return -ENOMEM;
      mem.rsc_offset = offset;
      void flags;
      return 0;
    }
    const entry = rproc_mem_entry_init(k, name, 0, len, da, rproc_alloc_carveout, rproc_release_carveout, at);
    entry.rsc_offset = offset;
    rproc_add_carveout(r, entry);
    return 0;
  });
}

/** models remoteproc_core.c: rproc_handle_devmem() — needs an IOMMU domain, which STM32 has not */
function rproc_handle_devmem(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "rproc_handle_devmem", () => (r.has_iommu ? 0 : -EINVAL));
}

/** models remoteproc_core.c: rproc_handle_trace() */
function rproc_handle_trace(k: Kernel, r: Rproc, offset: number, avail: number): Promise<number> {
  return k.call("core", "rproc_handle_trace", () => {
    if (avail < 44) return -EINVAL;
    const body = ptrRead(k, r, r.table_ptr as Ptr, offset, 44, "rproc_handle_trace");
    if (rd32(body, 8) !== 0) return -EINVAL;
    const name = TEXT.decode(body.subarray(12, 44)).replace(/\0.*$/s, "");
    k.mightSleep("kzalloc", "rproc_handle_trace");
    r.traces.push(
      k.alloc("trace", name, { da: rd32(body, 0), len: rd32(body, 4), name }, "rproc_handle_trace"),
    );
    return 0;
  });
}

/** models remoteproc_core.c: rproc_handle_resources() with rproc_loading_handlers */
export function rproc_handle_resources(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "rproc_handle_resources", async () => {
    const at = "rproc_handle_resources";
    if (r.table_ptr === null) return 0;
    const num = tableRead32(k, r, 4, at);
    for (let i = 0; i < num; i++) {
      const offset = tableRead32(k, r, 16 + 4 * i, at);
      const avail = r.table_sz - offset - 4;
      if (avail < 0) {
        k.note("core", at, "log", "rsc table is truncated");
        return -EINVAL;
      }
      const type = tableRead32(k, r, offset, at);
      const body = offset + 4;
      if (type >= RSC_VENDOR_START && type <= RSC_VENDOR_END) {
        const ret = r.ops.handle_rsc ? await r.ops.handle_rsc(k, r, type, body, avail) : RSC_IGNORED;
        if (ret < 0) return ret;
        if (ret !== 0) k.note("core", at, "log", `unsupported vendor resource ${type}`);
        continue;
      }
      if (type >= RSC_LAST) {
        k.note("core", at, "log", `unsupported resource ${type}`);
        continue;
      }
      let ret = 0;
      if (type === RSC_CARVEOUT) ret = await rproc_handle_carveout(k, r, body, avail);
      else if (type === RSC_DEVMEM) ret = await rproc_handle_devmem(k, r);
      else if (type === RSC_TRACE) ret = await rproc_handle_trace(k, r, body, avail);
      else if (type === RSC_VDEV) ret = await rproc_handle_vdev(k, r, body, avail);
      if (ret) return ret;
    }
    return 0;
  });
}

/** models remoteproc_core.c: rproc_resource_cleanup() */
export function rproc_resource_cleanup(k: Kernel, r: Rproc): Promise<undefined> {
  return k.call("core", "rproc_resource_cleanup", async () => {
    const at = "rproc_resource_cleanup";
    for (const t of r.traces.splice(0)) k.free(t, at);
    for (const c of r.carveouts.splice(0)) {
      if (c.release !== null) await c.release(k, r, c);
      k.free(c.obj, at);
    }
    for (const rvdev of [...r.rvdevs]) await rvdev.unregister(k);
    return undefined;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Subdevices

/**
 * The walk rproc_prepare_subdevices and rproc_start_subdevices share: `step` on each subdevice in list order
 * (a subdevice without the op counts as 0); when one fails, `unroll` on those done, last first, and its ret.
 */
async function subdevsInOrder(
  r: Rproc,
  step: (s: RprocSubdev) => Promise<number> | undefined,
  unroll: (s: RprocSubdev) => Promise<void> | undefined,
): Promise<number> {
  const done: RprocSubdev[] = [];
  for (const s of r.subdevs) {
    const pending = step(s);
    const ret = pending ? await pending : 0;
    if (ret) {
      for (const d of done.reverse()) await unroll(d);
      return ret;
    }
    done.push(s);
  }
  return 0;
}

/** models remoteproc_core.c: rproc_prepare_subdevices() */
function rproc_prepare_subdevices(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "rproc_prepare_subdevices", () =>
    subdevsInOrder(
      r,
      (s) => s.prepare?.(k, r),
      (d) => d.unprepare?.(k, r),
    ),
  );
}

/** models remoteproc_core.c: rproc_start_subdevices() */
function rproc_start_subdevices(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "rproc_start_subdevices", () =>
    subdevsInOrder(
      r,
      (s) => s.start?.(k, r),
      (d) => d.stop?.(k, r, true),
    ),
  );
}

/** models remoteproc_core.c: rproc_stop_subdevices() */
function rproc_stop_subdevices(k: Kernel, r: Rproc, crashed: boolean): Promise<undefined> {
  return k.call("core", "rproc_stop_subdevices", async () => {
    for (const s of [...r.subdevs].reverse()) await s.stop?.(k, r, crashed);
    return undefined;
  });
}

/** models remoteproc_core.c: rproc_unprepare_subdevices() */
function rproc_unprepare_subdevices(k: Kernel, r: Rproc): Promise<undefined> {
  return k.call("core", "rproc_unprepare_subdevices", async () => {
    for (const s of [...r.subdevs].reverse()) await s.unprepare?.(k, r);
    return undefined;
  });
}

/** models remoteproc_core.c: rproc_add_subdev() */
export function rproc_add_subdev(r: Rproc, s: RprocSubdev): void {
  r.subdevs.push(s);
}

/** models remoteproc_core.c: rproc_remove_subdev() */
export function rproc_remove_subdev(r: Rproc, s: RprocSubdev): void {
  const i = r.subdevs.indexOf(s);
  if (i >= 0) r.subdevs.splice(i, 1);
}

// ---------------------------------------------------------------------------------------------------------
// IOMMU (STM32 has none: has_iommu = false)

/** models remoteproc_core.c: rproc_enable_iommu() */
const rproc_enable_iommu = (k: Kernel, r: Rproc): Promise<number> =>
  k.call("core", "rproc_enable_iommu", () => (r.has_iommu ? -ENODEV : 0));
/** models remoteproc_core.c: rproc_disable_iommu() */
const rproc_disable_iommu = (k: Kernel): Promise<undefined> =>
  k.call("core", "rproc_disable_iommu", () => undefined);

/**
 * The opening rproc_fw_boot and rproc_attach share: rproc_enable_iommu, then rproc_prepare_device, with the
 * IOMMU disabled again when the prepare fails.
 */
async function enableIommuAndPrepare(k: Kernel, r: Rproc): Promise<number> {
  const ret = await rproc_enable_iommu(k, r);
  if (ret) return ret;
  const prepared = await rproc_prepare_device(k, r);
  if (prepared) await rproc_disable_iommu(k);
  return prepared;
}

/** Its undoing on every later failure and teardown: rproc_unprepare_device, then rproc_disable_iommu. */
async function unprepareAndDisableIommu(k: Kernel, r: Rproc): Promise<void> {
  await rproc_unprepare_device(k, r);
  await rproc_disable_iommu(k);
}

// ---------------------------------------------------------------------------------------------------------
// Start / stop

/** models remoteproc_core.c: rproc_start() */
export function rproc_start(k: Kernel, r: Rproc, fw: FwObj): Promise<number> {
  return k.call("core", "rproc_start", async () => {
    const at = "rproc_start";
    let ret = await rproc_load_segments(k, r, fw);
    if (ret) {
      k.note("core", at, "log", "Failed to load program segments");
      return ret;
    }
    const loaded = await rproc_find_loaded_rsc_table(k, r, fw);
    if (loaded !== null) {
      if (r.cached_table === null) {
        // memcpy(loaded_table, NULL, table_sz): an oops in C when table_sz is stale (not 0)
        k.WARN_ON(r.table_sz > 0, at, `memcpy of ${r.table_sz} bytes from a NULL cached_table`);
      } else {
        const bytes = ptrRead(k, r, { kind: "mem", obj: r.cached_table, off: 0 }, 0, r.table_sz, at);
        if (loaded.kind === "io")
          k.emit({ type: "rsc-table-copy", step: k.trace.length - 1, at, pa: loaded.pa, size: r.table_sz });
        ptrWrite(k, r, loaded, 0, bytes, at);
      }
      r.table_ptr = loaded;
    }
    ret = await rproc_prepare_subdevices(k, r);
    if (ret) {
      k.note("core", at, "log", "failed to prepare subdevices");
      return resetTablePtr(k, r, ret);
    }
    ret = await (r.ops.start as PlainOp)(k, r);
    if (ret) {
      k.note("core", at, "log", `can't start rproc ${r.name}: ${ret}`);
      await rproc_unprepare_subdevices(k, r);
      return resetTablePtr(k, r, ret);
    }
    ret = await rproc_start_subdevices(k, r);
    if (ret) {
      k.note("core", at, "log", "failed to probe subdevices");
      await (r.ops.stop as PlainOp)(k, r);
      await rproc_unprepare_subdevices(k, r);
      return resetTablePtr(k, r, ret);
    }
    setState(k, r, "running", at);
    k.note("core", at, "log", `remote processor ${r.name} is now up`);
    return 0;
  });
}

/** rproc_start's reset_table_ptr label. */
async function resetTablePtr(k: Kernel, r: Rproc, ret: number): Promise<number> {
  r.table_ptr = r.cached_table === null ? null : { kind: "mem", obj: r.cached_table, off: 0 };
  await releaseFwAt(k, r, "rproc_start:reset_table_ptr");
  return ret;
}

/** models remoteproc_core.c: rproc_reset_rsc_table_on_stop() */
function rproc_reset_rsc_table_on_stop(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "rproc_reset_rsc_table_on_stop", () => {
    const at = "rproc_reset_rsc_table_on_stop";
    if (r.table_ptr === null) return 0;
    if (r.cached_table !== null) {
      r.table_ptr = { kind: "mem", obj: r.cached_table, off: 0 };
      return 0;
    }
    r.cached_table = k.kmemdup("cached_table", r.name, ptrRead(k, r, r.table_ptr, 0, r.table_sz, at), at);
    k.kfree(r.clean_table, at);
    r.table_ptr = { kind: "mem", obj: r.cached_table, off: 0 };
    return 0;
  });
}

/** models remoteproc_core.c: rproc_stop() */
export function rproc_stop(k: Kernel, r: Rproc, crashed: boolean): Promise<number> {
  return k.call(
    "core",
    "rproc_stop",
    async () => {
      if (r.ops.stop === undefined) return -EINVAL;
      await rproc_stop_subdevices(k, r, crashed);
      let ret = await rproc_reset_rsc_table_on_stop(k, r);
      if (ret) return ret;
      ret = await r.ops.stop(k, r);
      if (ret) {
        k.note("core", "rproc_stop", "log", `can't stop rproc: ${ret}`);
        return ret;
      }
      await rproc_unprepare_subdevices(k, r);
      setState(k, r, "offline", "rproc_stop");
      return 0;
    },
    { detail: crashed ? "crashed" : "" },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Boot

/** models remoteproc_core.c: rproc_fw_boot() */
function rproc_fw_boot(k: Kernel, r: Rproc, fw: FwObj): Promise<number> {
  return k.call("core", "rproc_fw_boot", async () => {
    const at = "rproc_fw_boot";
    let ret = await rproc_fw_sanity_check(k, r, fw);
    if (ret) return ret;
    k.use(fw, at, "read size");
    k.note("core", at, "log", `Booting fw image ${r.firmware}, size ${fw.data.data.length}`);
    ret = await enableIommuAndPrepare(k, r);
    if (ret) return ret;
    r.bootaddr = await rproc_get_boot_addr(k, r, fw);
    ret = await rproc_parse_fw(k, r, fw);
    if (ret) {
      await unprepareAndDisableIommu(k, r);
      return ret;
    }
    r.max_notifyid = -1;
    r.nb_vdev = 0;
    ret = await rproc_handle_resources(k, r);
    if (ret) k.note("core", at, "log", `Failed to process resources: ${ret}`);
    if (!ret) {
      ret = await rproc_alloc_registered_carveouts(k, r);
      if (ret) k.note("core", at, "log", `Failed to allocate associated carveouts: ${ret}`);
    }
    if (!ret) ret = await rproc_start(k, r, fw);
    if (!ret) return 0;
    // clean_up_resources:
    await rproc_resource_cleanup(k, r);
    await releaseFwAt(k, r, "rproc_fw_boot:clean_up_resources:before_table_free");
    freeCachedTable(k, r, at);
    await releaseFwAt(k, r, "rproc_fw_boot:clean_up_resources:after_table_free");
    // unprepare_rproc, disable_iommu:
    await unprepareAndDisableIommu(k, r);
    return ret;
  });
}

/** models remoteproc_core.c: rproc_set_rsc_table() */
function rproc_set_rsc_table(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "rproc_set_rsc_table", async () => {
    const at = "rproc_set_rsc_table";
    const got = r.ops.get_loaded_rsc_table ? await r.ops.get_loaded_rsc_table(k, r) : null;
    if (got === null) return 0;
    if (typeof got === "number") {
      k.note("core", at, "log", "can't load resource table");
      return got;
    }
    r.clean_table = r.ops.detach
      ? k.kmemdup("clean_table", r.name, ptrRead(k, r, got.table, 0, got.size, at), at)
      : null;
    r.cached_table = null;
    r.table_ptr = got.table;
    r.table_sz = got.size;
    return 0;
  });
}

/** models remoteproc_core.c: __rproc_attach() */
function __rproc_attach(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "__rproc_attach", async () => {
    let ret = await rproc_prepare_subdevices(k, r);
    if (ret) return ret;
    ret = await rproc_attach_device(k, r);
    if (ret) {
      k.note("core", "__rproc_attach", "log", "can't attach to rproc");
      await rproc_unprepare_subdevices(k, r);
      return ret;
    }
    ret = await rproc_start_subdevices(k, r);
    if (ret) {
      await (r.ops.stop as PlainOp)(k, r);
      await rproc_unprepare_subdevices(k, r);
      return ret;
    }
    setState(k, r, "attached", "__rproc_attach");
    return 0;
  });
}

/** models remoteproc_core.c: rproc_attach() (v6.15 unwinding: clean_table leaked on failure) */
function rproc_attach(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "rproc_attach", async () => {
    let ret = await enableIommuAndPrepare(k, r);
    if (ret) return ret;
    ret = await rproc_set_rsc_table(k, r);
    if (!ret) {
      r.max_notifyid = -1;
      r.nb_vdev = 0;
      ret = await rproc_handle_resources(k, r);
    }
    if (ret) {
      await unprepareAndDisableIommu(k, r);
      return ret;
    }
    ret = await rproc_alloc_registered_carveouts(k, r);
    if (!ret) ret = await __rproc_attach(k, r);
    if (ret) {
      await rproc_resource_cleanup(k, r);
      await unprepareAndDisableIommu(k, r);
    }
    return ret;
  });
}

/** models remoteproc_core.c: rproc_boot() */
export function rproc_boot(k: Kernel, r: Rproc, store: FirmwareStore): Promise<number> {
  return k.call("core", "rproc_boot", async () => {
    const at = "rproc_boot";
    await k.lockWait(r.lock, "mutex_lock_interruptible");
    let ret = r.lock.mutex_lock_interruptible(at);
    if (ret) return ret;
    try {
      if (r.state === "deleted") return -ENODEV;
      if (r.power.inc_return() > 1) return 0;
      if (r.state === "detached") {
        k.note("core", at, "log", `attaching to ${r.name}`);
        ret = await rproc_attach(k, r);
      } else {
        k.note("core", at, "log", `powering up ${r.name}`);
        const req = await request_firmware(k, store, r.firmware);
        ret = req.ret;
        const fw = req.fw;
        if (ret || fw === null) {
          k.note("core", at, "log", `request_firmware failed: ${ret}`);
        } else {
          ret = await runWithFirmware(
            k,
            r,
            fw,
            "rproc_boot:before_fw_boot",
            rproc_fw_boot,
            "rproc_boot:after_fw_boot_error",
          );
        }
      }
      if (ret) r.power.dec();
      return ret;
    } finally {
      r.lock.unlock(at);
    }
  });
}

/**
 * What rproc_boot and rproc_boot_recovery share once request_firmware succeeded: the design's load_fw call
 * at `loadSite` (if any), then `run` (rproc_fw_boot, rproc_start), its release_fw at `errorSite` when `run`
 * fails, and release_firmware. A failing load_fw returns at once, releasing the firmware only where the design
 * unwinds.
 */
async function runWithFirmware(
  k: Kernel,
  r: Rproc,
  fw: FwObj,
  loadSite: LoadFwSite,
  run: FwOp,
  errorSite: ReleaseFwSite,
): Promise<number> {
  const load = loadFwCallAt(k.facts, loadSite);
  if (load !== undefined) {
    const ret = await rproc_load_fw(k, r, fw);
    if (ret) {
      if (load.onError === "unwind") release_firmware(k, fw);
      return ret;
    }
  }
  const ret = await run(k, r, fw);
  if (ret) await releaseFwAt(k, r, errorSite);
  release_firmware(k, fw);
  return ret;
}

// ---------------------------------------------------------------------------------------------------------
// Shutdown / detach

/**
 * What rproc_shutdown and rproc_detach share around their `down` step (rproc_stop or __rproc_detach): under
 * rproc->lock, -EINVAL unless the state is one of `from`; only the last power reference goes down, and a
 * failing `down` gives it back; then the resources of the boot or attach are freed, the cached table between
 * the design's release_fw sites of `at`, with `afterTableFree` right after the kfree.
 */
async function powerDown(
  k: Kernel,
  r: Rproc,
  at: "rproc_shutdown" | "rproc_detach",
  from: readonly RprocState[],
  down: () => Promise<number>,
  afterTableFree?: () => void,
): Promise<number> {
  await k.lockWait(r.lock, "mutex_lock_interruptible");
  let ret = r.lock.mutex_lock_interruptible(at);
  if (ret) return ret;
  try {
    if (!from.includes(r.state)) return -EINVAL;
    if (!r.power.dec_and_test()) return 0;
    ret = await down();
    if (ret) {
      r.power.inc();
      return ret;
    }
    await rproc_resource_cleanup(k, r);
    await unprepareAndDisableIommu(k, r);
    await releaseFwAt(k, r, `${at}:before_table_free`);
    freeCachedTable(k, r, at);
    afterTableFree?.();
    await releaseFwAt(k, r, `${at}:after_table_free`);
    return 0;
  } finally {
    r.lock.unlock(at);
  }
}

/** models remoteproc_core.c: rproc_shutdown() */
export function rproc_shutdown(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "rproc_shutdown", () =>
    powerDown(
      k,
      r,
      "rproc_shutdown",
      ["running", "attached"],
      () => rproc_stop(k, r, false),
      () => {
        if (k.facts.core.shutdownClearsTableSz) r.table_sz = 0;
      },
    ),
  );
}

/** models remoteproc_core.c: rproc_reset_rsc_table_on_detach() */
function rproc_reset_rsc_table_on_detach(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "rproc_reset_rsc_table_on_detach", () => {
    const at = "rproc_reset_rsc_table_on_detach";
    if (r.table_ptr === null) return 0;
    if (k.WARN_ON(r.clean_table === null, at, "clean_table is NULL")) return -EINVAL;
    const device = r.table_ptr;
    r.cached_table = k.kmemdup("cached_table", r.name, ptrRead(k, r, device, 0, r.table_sz, at), at);
    r.table_ptr = { kind: "mem", obj: r.cached_table, off: 0 };
    const clean = r.clean_table as KObj<Uint8Array>;
    ptrWrite(k, r, device, 0, ptrRead(k, r, { kind: "mem", obj: clean, off: 0 }, 0, r.table_sz, at), at);
    k.kfree(clean, at);
    return 0;
  });
}

/** models remoteproc_core.c: __rproc_detach() */
function __rproc_detach(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "__rproc_detach", async () => {
    if (r.ops.detach === undefined) return -EINVAL;
    await rproc_stop_subdevices(k, r, false);
    let ret = await rproc_reset_rsc_table_on_detach(k, r);
    if (ret) return ret;
    ret = await r.ops.detach(k, r);
    if (ret) return ret;
    await rproc_unprepare_subdevices(k, r);
    setState(k, r, "detached", "__rproc_detach");
    return 0;
  });
}

/** models remoteproc_core.c: rproc_detach() */
export function rproc_detach(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "rproc_detach", () =>
    powerDown(k, r, "rproc_detach", ["attached"], () => __rproc_detach(k, r)),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Crash and recovery

/** models remoteproc_coredump.c: rproc_coredump() — dump_conf is DISABLED by default: returns at once */
async function rproc_coredump(k: Kernel): Promise<void> {
  await k.call("core", "rproc_coredump", () => undefined, { detail: "coredump disabled" });
}

/** models remoteproc_core.c: rproc_boot_recovery() */
export function rproc_boot_recovery(k: Kernel, r: Rproc, store: FirmwareStore): Promise<number> {
  return k.call("core", "rproc_boot_recovery", async () => {
    const ret = await rproc_stop(k, r, true);
    if (ret) return ret;
    await (r.ops.coredump ?? rproc_coredump)(k, r);
    const req = await request_firmware(k, store, r.firmware);
    if (req.ret || req.fw === null) return req.ret;
    return runWithFirmware(
      k,
      r,
      req.fw,
      "rproc_boot_recovery:before_start",
      rproc_start,
      "rproc_boot_recovery:after_start_error",
    );
  });
}

/** models remoteproc_core.c: rproc_trigger_recovery() */
export function rproc_trigger_recovery(k: Kernel, r: Rproc, store: FirmwareStore): Promise<number> {
  return k.call("core", "rproc_trigger_recovery", async () => {
    const at = "rproc_trigger_recovery";
    await k.lockWait(r.lock, "mutex_lock_interruptible");
    const ret = r.lock.mutex_lock_interruptible(at);
    if (ret) return ret;
    try {
      if (r.state !== "crashed") return 0;
      k.note("core", at, "log", `recovering ${r.name}`);
      return await rproc_boot_recovery(k, r, store);
    } finally {
      r.lock.unlock(at);
    }
  });
}

/** models remoteproc_core.c: rproc_crash_handler_work() */
export function rproc_crash_handler_work(k: Kernel, r: Rproc, store: FirmwareStore): Promise<undefined> {
  return k.call(
    "core",
    "rproc_crash_handler_work",
    async () => {
      const at = "rproc_crash_handler_work";
      await k.lockWait(r.lock, "mutex_lock");
      r.lock.mutex_lock(at);
      if (r.state === "crashed" || r.state === "offline") {
        r.lock.unlock(at);
        return undefined;
      }
      setState(k, r, "crashed", at);
      r.crash_cnt += 1;
      k.note("core", at, "log", `handling crash #${r.crash_cnt} in ${r.name}`);
      r.lock.unlock(at);
      if (!r.recovery_disabled) await rproc_trigger_recovery(k, r, store);
      return undefined;
    },
    { ignores: ["rproc_trigger_recovery"] },
  );
}

/** models remoteproc_core.c: rproc_report_crash() — safe in IRQ context: queues the crash handler */
export function rproc_report_crash(k: Kernel, r: Rproc | null, type: string, store: FirmwareStore): void {
  if (r === null) {
    k.note("core", "rproc_report_crash", "log", "NULL rproc pointer");
    return;
  }
  k.note("core", "rproc_report_crash", "log", `crash detected in ${r.name}: type ${type}`);
  k.queue_work(r, "rproc_crash_handler_work", async () => {
    await rproc_crash_handler_work(k, r, store);
  });
}

// ---------------------------------------------------------------------------------------------------------
// sysfs

/** models remoteproc_sysfs.c: rproc_set_firmware() (firmware_store) */
export function rproc_set_firmware(k: Kernel, r: Rproc, name: string): Promise<number> {
  return k.call(
    "core",
    "rproc_set_firmware",
    () => {
      const at = "rproc_set_firmware";
      if (r.lock.mutex_lock_interruptible(at)) return -EINVAL;
      try {
        if (r.state !== "offline") return -EBUSY;
        const n = name.split("\n")[0] ?? "";
        if (n.length === 0) return -EINVAL;
        r.firmware = n;
        return 0;
      } finally {
        r.lock.unlock(at);
      }
    },
    { detail: name },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Alloc / add / del / free

/** models remoteproc_core.c: rproc_alloc_ops() — kmemdup of the driver's table, ELF defaults per facts */
export function rproc_alloc_ops(k: Kernel, ops: RprocOps): RprocOps | number {
  const core = k.facts.core;
  const copy: RprocOps = { ...ops };
  if (
    core.allocOpsRejectsBothLoaders &&
    copy[core.loadSegmentsOp] !== undefined &&
    copy.load_fw !== undefined
  ) {
    return -EINVAL;
  }
  if (core.elfDefaultsUnless.some((name) => copy[name] !== undefined)) return copy;
  copy[core.loadSegmentsOp] = rproc_elf_load_segments;
  copy.parse_fw = rproc_elf_load_rsc_table;
  copy.find_loaded_rsc_table = rproc_elf_find_loaded_rsc_table;
  copy.sanity_check = rproc_elf_sanity_check;
  copy.get_boot_addr = rproc_elf_get_boot_addr;
  return copy;
}

/** models remoteproc_core.c: rproc_alloc() — NULL (here: null) on failure */
export function rproc_alloc(
  k: Kernel,
  dev: Device,
  name: string,
  ops: RprocOps,
  firmware: string | null,
  io: IoMem,
): Rproc | null {
  const table = rproc_alloc_ops(k, ops);
  if (typeof table === "number") {
    k.note("core", "rproc_alloc", "log", "rproc_alloc_ops failed: both a segment loader and load_fw");
    return null;
  }
  k.mightSleep("kzalloc", "rproc_alloc");
  // Threads share it: an interleaving search records who reads and writes it (its lock on its own).
  const r = k.shared(new Rproc(k, name, dev, table, firmware ?? `rproc-${name}-fw`, io), `rproc ${name}`, [
    "lock",
    "name",
  ]);
  k.note("core", "rproc_alloc", "state", `${name}: offline`);
  return r;
}

/** models remoteproc_core.c: devm_rproc_alloc() — rproc_free as a devm action on `dev` */
export function devm_rproc_alloc(
  k: Kernel,
  dev: Device,
  name: string,
  ops: RprocOps,
  firmware: string | null,
  io: IoMem,
): Rproc | null {
  const r = rproc_alloc(k, dev, name, ops, firmware, io);
  if (r !== null) {
    k.devm_add_action(
      dev,
      "devm_rproc_free",
      rebuildable([k, r] as const, (k, r) => () => rproc_free(k, r)),
    );
  }
  return r;
}

/** models remoteproc_core.c: get_device(&rproc->dev) */
export function rproc_get(r: Rproc): void {
  r.refs += 1;
}

/** models remoteproc_core.c: put_device(&rproc->dev) — rproc_type_release on the last reference */
export function rproc_put(k: Kernel, r: Rproc): void {
  r.refs -= 1;
  if (r.refs === 0) k.free(r.obj, "rproc_type_release");
}

/** models remoteproc_core.c: rproc_free() */
export function rproc_free(k: Kernel, r: Rproc): void {
  rproc_put(k, r);
}

/** models remoteproc_core.c: rproc_validate() */
function rproc_validate(k: Kernel, r: Rproc): Promise<number> {
  return k.call("core", "rproc_validate", () => {
    if (r.state === "offline") return r.ops.start === undefined ? -EINVAL : 0;
    if (r.state === "detached") return r.ops.attach === undefined || r.cached_table !== null ? -EINVAL : 0;
    return -EINVAL;
  });
}

/** models remoteproc_core.c: rproc_add() with rproc_trigger_auto_boot() */
export function rproc_add(k: Kernel, r: Rproc, store: FirmwareStore): Promise<number> {
  return k.call("core", "rproc_add", async () => {
    let ret = await rproc_validate(k, r);
    if (ret) return ret;
    k.mightSleep("device_add", "rproc_add");
    r.registered = true;
    k.note("core", "rproc_add", "log", `${r.name} is available`);
    if (r.auto_boot) {
      if (r.state === "detached") {
        ret = await rproc_boot(k, r, store);
      } else {
        rproc_get(r);
        k.queue_work({ autoBoot: r }, "rproc_auto_boot_callback", async () => {
          await k.call("core", "rproc_auto_boot_callback", async () => {
            await rproc_boot(k, r, store);
            return undefined;
          });
          rproc_put(k, r);
        });
        // request_firmware_nowait queued the loader's work: it may run before rproc_add returns.
        await k.point("request_firmware_nowait queued rproc_auto_boot_callback");
      }
      if (ret) {
        r.registered = false;
        return ret;
      }
    }
    return 0;
  });
}

/** models remoteproc_core.c: rproc_del() — one rproc_shutdown whatever the power count */
export function rproc_del(k: Kernel, r: Rproc): Promise<number> {
  return k.call(
    "core",
    "rproc_del",
    async () => {
      await rproc_shutdown(k, r);
      await k.lockWait(r.lock, "mutex_lock");
      r.lock.mutex_lock("rproc_del");
      setState(k, r, "deleted", "rproc_del");
      r.lock.unlock("rproc_del");
      r.registered = false;
      return 0;
    },
    { ignores: ["rproc_shutdown"] },
  );
}
