/**
 * Remoteproc resource tables (ver 1): a builder for fixtures and a parser for monitors and inspection.
 * Layout: ver, num, reserved[2], offset[num], then entries {u32 type, body} (linux-remoteproc-core.md §4.1).
 */
import { concat, cstr, le32, readCstr, u32 } from "./bytes.ts";

export const RSC = { CARVEOUT: 0, DEVMEM: 1, TRACE: 2, VDEV: 3 } as const;
export const FW_RSC_ADDR_ANY = 0xffffffff;

export interface Vring {
  da: number;
  align: number;
  num: number;
  notifyid: number;
  pa: number;
}

export type ResourceEntry =
  | { type: "carveout" | "devmem"; da: number; pa: number; len: number; flags: number; name: string }
  | { type: "trace"; da: number; len: number; name: string }
  | {
      type: "vdev";
      id: number;
      notifyid: number;
      dfeatures: number;
      gfeatures: number;
      status: number;
      vrings: Vring[];
      config: Uint8Array;
    }
  | { type: "other"; rawType: number };

export interface ResourceTable {
  ver: number;
  entries: Array<ResourceEntry & { offset: number }>;
}

function encodeEntry(e: ResourceEntry): Uint8Array {
  switch (e.type) {
    case "carveout":
    case "devmem":
      return concat([
        le32(e.type === "carveout" ? RSC.CARVEOUT : RSC.DEVMEM, e.da, e.pa, e.len, e.flags, 0),
        cstr(e.name, 32),
      ]);
    case "trace":
      return concat([le32(RSC.TRACE, e.da, e.len, 0), cstr(e.name, 32)]);
    case "vdev": {
      const head = le32(RSC.VDEV, e.id, e.notifyid, e.dfeatures, e.gfeatures, e.config.length);
      const rings = e.vrings.map((v) => le32(v.da, v.align, v.num, v.notifyid, v.pa));
      const padded = new Uint8Array(Math.ceil(e.config.length / 4) * 4);
      padded.set(e.config);
      return concat([head, Uint8Array.of(e.status, e.vrings.length, 0, 0), ...rings, padded]);
    }
    case "other":
      return le32(e.rawType);
  }
}

export function buildResourceTable(entries: ResourceEntry[]): Uint8Array {
  const bodies = entries.map(encodeEntry);
  const offsets: number[] = [];
  let off = 16 + 4 * entries.length;
  for (const b of bodies) {
    offsets.push(off);
    off += b.length;
  }
  return concat([le32(1, entries.length, 0, 0, ...offsets), ...bodies]);
}

/** Parses a table; entries that do not fit are dropped (a monitor reports them from `entries.length`). */
export function parseResourceTable(b: Uint8Array): ResourceTable | null {
  if (b.length < 16) return null;
  const num = u32(b, 4);
  if (16 + 4 * num > b.length) return null;
  const entries: ResourceTable["entries"] = [];
  for (let i = 0; i < num; i++) {
    const offset = u32(b, 16 + 4 * i);
    if (offset + 4 > b.length) continue;
    const type = u32(b, offset);
    const body = offset + 4;
    const fits = (n: number): boolean => body + n <= b.length;
    if ((type === RSC.CARVEOUT || type === RSC.DEVMEM) && fits(52)) {
      entries.push({
        offset,
        type: type === RSC.CARVEOUT ? "carveout" : "devmem",
        da: u32(b, body),
        pa: u32(b, body + 4),
        len: u32(b, body + 8),
        flags: u32(b, body + 12),
        name: readCstr(b, body + 20, 32),
      });
    } else if (type === RSC.TRACE && fits(44)) {
      entries.push({
        offset,
        type: "trace",
        da: u32(b, body),
        len: u32(b, body + 4),
        name: readCstr(b, body + 12, 32),
      });
    } else if (type === RSC.VDEV && fits(24)) {
      const nrings = b[body + 21] ?? 0;
      const configLen = u32(b, body + 16);
      if (!fits(24 + 20 * nrings + configLen)) continue;
      const vrings: Vring[] = [];
      for (let r = 0; r < nrings; r++) {
        const v = body + 24 + 20 * r;
        vrings.push({
          da: u32(b, v),
          align: u32(b, v + 4),
          num: u32(b, v + 8),
          notifyid: u32(b, v + 12),
          pa: u32(b, v + 16),
        });
      }
      const cfg = body + 24 + 20 * nrings;
      entries.push({
        offset,
        type: "vdev",
        id: u32(b, body),
        notifyid: u32(b, body + 4),
        dfeatures: u32(b, body + 8),
        gfeatures: u32(b, body + 12),
        status: b[body + 20] ?? 0,
        vrings,
        config: b.slice(cfg, cfg + configLen),
      });
    } else if (type > RSC.VDEV) {
      entries.push({ offset, type: "other", rawType: type });
    }
  }
  return { ver: u32(b, 0), entries };
}
