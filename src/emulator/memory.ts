/**
 * Coprocessor memory: real bytes per region, the da<->pa map, and the access rules of each side.
 * Secure writes (the PTA, a boot stage) are unrestricted inside regions. Non-secure writes (Linux
 * ioremap) follow the platform's firewall: none on stm32mp15 (a write into TEE-loaded firmware is only
 * recorded), refusal on stm32mp2-m33 except for the resource-table window Linux must update.
 */
import type { EmulatorEvent, MemoryRegion, NsAccess, NsReadResult } from "./api.ts";
import { hex32 } from "./bytes.ts";

type EventInput = EmulatorEvent extends infer E ? (E extends EmulatorEvent ? Omit<E, "seq"> : never) : never;

export class EventBus {
  private seq = 0;
  private readonly observers = new Set<(e: EmulatorEvent) => void>();

  on(observer: (e: EmulatorEvent) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** `e` must be a fresh object: it becomes the event (its `seq` set last, as a copy would have it). */
  emit(e: EventInput): void {
    const event = e as EventInput & { seq: number };
    event.seq = ++this.seq;
    for (const o of this.observers) o(event as EmulatorEvent);
  }
}

/** Page size of region memory: a page is allocated on its first non-zero write. */
export const PAGE_SIZE = 0x1000;

/**
 * The bytes of one region, allocated lazily in pages of PAGE_SIZE: a page never written (or wholly
 * zeroed since) is not held and reads as zeros. Offsets are checked by the caller (Memory.at).
 */
export class PagedBytes {
  private pages: Array<Uint8Array | undefined> = [];

  constructor(readonly length: number) {}

  private page(index: number): Uint8Array {
    let p = this.pages[index];
    if (p === undefined) {
      p = new Uint8Array(Math.min(PAGE_SIZE, this.length - index * PAGE_SIZE));
      this.pages[index] = p;
    }
    return p;
  }

  /** Copies `data` to [off, off + data.length). */
  set(data: Uint8Array, off: number): void {
    for (let done = 0; done < data.length; ) {
      const at = off + done;
      const index = Math.floor(at / PAGE_SIZE);
      const inPage = at - index * PAGE_SIZE;
      const n = Math.min(data.length - done, PAGE_SIZE - inPage);
      this.page(index).set(data.subarray(done, done + n), inPage);
      done += n;
    }
  }

  /** Fills [start, end) with `value`; zero needs no page that is not already held. */
  fill(value: number, start: number, end: number): void {
    for (let at = start; at < end; ) {
      const index = Math.floor(at / PAGE_SIZE);
      const base = index * PAGE_SIZE;
      const stop = Math.min(end, base + PAGE_SIZE, this.length);
      const held = this.pages[index];
      if ((value & 0xff) !== 0) this.page(index).fill(value, at - base, stop - base);
      else if (held !== undefined) {
        if (at === base && stop - base === held.length) this.pages[index] = undefined;
        else held.fill(value, at - base, stop - base);
      }
      at = stop;
    }
  }

  /** Zeroes every byte. */
  clear(): void {
    this.pages = [];
  }

  /** A copy of [off, off + len). */
  slice(off: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let done = 0; done < len; ) {
      const at = off + done;
      const index = Math.floor(at / PAGE_SIZE);
      const inPage = at - index * PAGE_SIZE;
      const n = Math.min(len - done, PAGE_SIZE - inPage);
      const p = this.pages[index];
      if (p !== undefined) out.set(p.subarray(inPage, inPage + n), done);
      done += n;
    }
    return out;
  }

  /** How many pages the region spans (held or not). */
  get pageCount(): number {
    return Math.ceil(this.length / PAGE_SIZE);
  }

  /** Page `index` (offset index * PAGE_SIZE) if held; a page not held reads as zeros. */
  heldPage(index: number): Uint8Array | undefined {
    return this.pages[index];
  }

  /** Whether any byte is non-zero. */
  anyNonZero(): boolean {
    for (const p of this.pages) if (p?.some((x) => x !== 0)) return true;
    return false;
  }
}

interface Store {
  bytes: PagedBytes;
  /** Firmware was written here by the TEE since the last wipe. */
  teeLoaded: boolean;
}

/** A region and its bytes; an alias region shares the store of the region it aliases. */
interface Backed {
  region: MemoryRegion;
  store: Store;
}

export type Writer = "tee" | "nonsecure" | "boot";

export class Memory {
  private readonly backed: Backed[];
  /** The resource-table window [pa, pa+size) Linux may update even behind a firewall. */
  rscWindow: { pa: number; size: number } | null = null;
  /** Who last wrote into a firmware region. */
  lastWriter: Writer | null = null;

  constructor(
    readonly regions: readonly MemoryRegion[],
    private readonly bus: EventBus,
    private readonly firewall: boolean,
  ) {
    const stores = new Map<string, Store>();
    for (const r of regions)
      if (!r.aliasOf) stores.set(r.name, { bytes: new PagedBytes(r.size), teeLoaded: false });
    this.backed = regions.map((region) => {
      const store = stores.get(region.aliasOf ?? region.name);
      if (!store || store.bytes.length < region.size) {
        throw new Error(`region ${region.name}: alias of unknown or smaller region ${region.aliasOf}`);
      }
      return { region, store };
    });
  }

  private at(addr: number, len: number, key: "da" | "pa"): { b: Backed; off: number } | null {
    for (const b of this.backed) {
      const off = addr - b.region[key];
      if (off >= 0 && len >= 0 && off + len <= b.region.size) return { b, off };
    }
    return null;
  }

  daToPa(da: number, size = 1): number | null {
    const hit = this.at(da, size, "da");
    return hit ? hit.b.region.pa + hit.off : null;
  }

  paToDa(pa: number, size = 1): number | null {
    const hit = this.at(pa, size, "pa");
    return hit ? hit.b.region.da + hit.off : null;
  }

  peek(pa: number, len: number): Uint8Array {
    const hit = this.at(pa, len, "pa");
    return hit ? hit.b.store.bytes.slice(hit.off, len) : new Uint8Array(0);
  }

  /** Secure write of `data` (or a fill when `fill` is a number) at a pa already checked to be mapped. */
  secureWrite(pa: number, data: Uint8Array | { fill: number; size: number }, by: Writer): boolean {
    const size = data instanceof Uint8Array ? data.length : data.size;
    const hit = this.at(pa, size, "pa");
    if (!hit) return false;
    const wipe = !(data instanceof Uint8Array);
    if (data instanceof Uint8Array) hit.b.store.bytes.set(data, hit.off);
    else hit.b.store.bytes.fill(data.fill, hit.off, hit.off + size);
    if (hit.b.region.firmware && !wipe) {
      if (by === "tee") hit.b.store.teeLoaded = true;
      this.lastWriter = by;
    }
    this.bus.emit({
      layer: "platform",
      fn: wipe ? "memWipe" : "memWrite",
      pa,
      size,
      region: hit.b.region.name,
      protectedHit: false,
      refused: false,
      detail: `${by} ${wipe ? "fills" : "writes"} ${size} bytes at pa ${hex32(pa)} (${hit.b.region.name})`,
    });
    return true;
  }

  /** Zeroes every region (the PTA's release) and forgets which held TEE-loaded firmware. */
  wipeAll(): void {
    for (const b of this.backed.filter((x) => !x.region.aliasOf)) {
      b.store.bytes.clear();
      b.store.teeLoaded = false;
      this.bus.emit({
        layer: "platform",
        fn: "memWipe",
        pa: b.region.pa,
        size: b.region.size,
        region: b.region.name,
        protectedHit: false,
        refused: false,
        detail: `release wipes ${b.region.name}`,
      });
    }
    this.lastWriter = null;
    this.rscWindow = null;
  }

  private nsCheck(
    pa: number,
    len: number,
    write: boolean,
  ): NsAccess & { hit: { b: Backed; off: number } | null } {
    const hit = this.at(pa, len, "pa");
    const kind = write ? "write" : "read";
    const range = `${len} bytes at pa ${hex32(pa)}`;
    if (!hit) {
      return {
        ok: false,
        hit,
        region: null,
        protectedHit: false,
        refused: true,
        detail: `${kind} of ${range}: not inside one region`,
      };
    }
    const { region } = hit.b;
    if (region.secure) {
      return {
        ok: false,
        hit,
        region: region.name,
        protectedHit: true,
        refused: true,
        detail: `${kind} of ${range}: ${region.name} is secure`,
      };
    }
    const w = this.rscWindow && this.at(this.rscWindow.pa, this.rscWindow.size, "pa");
    const inRsc =
      !!w &&
      w.b.store === hit.b.store &&
      hit.off >= w.off &&
      hit.off + len <= w.off + (this.rscWindow?.size ?? 0);
    const protectedHit = write && region.firmware && hit.b.store.teeLoaded && !inRsc;
    if (protectedHit && this.firewall) {
      return {
        ok: false,
        hit,
        region: region.name,
        protectedHit,
        refused: true,
        detail: `${kind} of ${range}: firewall protects TEE-loaded ${region.name}`,
      };
    }
    const note = protectedHit ? " into TEE-loaded firmware (no firewall)" : "";
    return {
      ok: true,
      hit,
      region: region.name,
      protectedHit,
      refused: false,
      detail: `${kind} of ${range} in ${region.name}${note}`,
    };
  }

  nsWrite(pa: number, bytes: Uint8Array): NsAccess {
    const { hit, ...outcome } = this.nsCheck(pa, bytes.length, true);
    if (outcome.ok && hit) {
      hit.b.store.bytes.set(bytes, hit.off);
      if (hit.b.region.firmware) this.lastWriter = "nonsecure";
    }
    this.bus.emit({ layer: "platform", fn: "nsWrite", pa, size: bytes.length, ...outcome });
    return outcome;
  }

  nsRead(pa: number, len: number): NsReadResult {
    const { hit, ...outcome } = this.nsCheck(pa, len, false);
    this.bus.emit({ layer: "platform", fn: "nsRead", pa, size: len, ...outcome });
    return { ...outcome, data: outcome.ok && hit ? hit.b.store.bytes.slice(hit.off, len) : null };
  }

  /** Firmware regions' bytes, for the core's boot. */
  firmwareViews(): Array<{ region: MemoryRegion; bytes: PagedBytes }> {
    return this.backed
      .filter((b) => b.region.firmware && !b.region.aliasOf)
      .map(({ region, store }) => ({ region, bytes: store.bytes }));
  }
}
