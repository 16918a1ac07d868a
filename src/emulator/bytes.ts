/** Small byte helpers shared by the emulator (Workers-safe: Uint8Array and DataView only). */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

export const r8 = (n: number): number => Math.ceil(n / 8) * 8;

// Reads index the bytes directly when the offset is a whole number in range (no DataView to allocate); any
// other offset goes through a DataView, so that it throws the same RangeError as before.
export function u32(b: Uint8Array, off: number): number {
  if (Number.isInteger(off) && off >= 0 && off + 4 <= b.length) {
    return (
      ((b[off] as number) | ((b[off + 1] as number) << 8) | ((b[off + 2] as number) << 16)) +
      (b[off + 3] as number) * 0x1000000
    );
  }
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
}

export function u16(b: Uint8Array, off: number): number {
  if (Number.isInteger(off) && off >= 0 && off + 2 <= b.length) {
    return (b[off] as number) | ((b[off + 1] as number) << 8);
  }
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint16(off, true);
}

export function putU32(b: Uint8Array, off: number, v: number): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(off, v >>> 0, true);
}

export function putU16(b: Uint8Array, off: number, v: number): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint16(off, v, true);
}

export function le32(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => {
    putU32(out, i * 4, v);
  });
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Pads with zeros to a multiple of 8. */
export function pad8(b: Uint8Array): Uint8Array {
  if (b.length % 8 === 0) return b;
  const out = new Uint8Array(r8(b.length));
  out.set(b);
  return out;
}

export const sha256 = (b: Uint8Array): Uint8Array => nobleSha256(b);

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export const hex32 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, "0")}`;

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

// One encoder and one decoder for the module: both are stateless for whole (non-streaming) calls.
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

export const utf8 = (s: string): Uint8Array => ENCODER.encode(s);

/** Fixed-size, NUL-padded ASCII field. */
export function cstr(s: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(utf8(s).subarray(0, size - 1));
  return out;
}

export function readCstr(b: Uint8Array, off: number, max: number): string {
  let end = off;
  while (end < off + max && end < b.length && b[end] !== 0) end++;
  return DECODER.decode(b.subarray(off, end));
}
