/** The direct-indexing reads of u32/u16 give what a DataView gives, and throw where it throws. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { u16, u32 } from "../../src/emulator/bytes.ts";

function viaDataView(b: Uint8Array, off: number, size: 2 | 4): number | "RangeError" {
  try {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return size === 4 ? v.getUint32(off, true) : v.getUint16(off, true);
  } catch (e) {
    if (e instanceof RangeError) return "RangeError";
    throw e;
  }
}

function direct(b: Uint8Array, off: number, size: 2 | 4): number | "RangeError" {
  try {
    return size === 4 ? u32(b, off) : u16(b, off);
  } catch (e) {
    if (e instanceof RangeError) return "RangeError";
    throw e;
  }
}

describe("u32/u16", () => {
  it("match a DataView on subarrays, at any offset (also fractional, negative or past the end)", () => {
    const offset = fc.oneof(fc.integer({ min: -3, max: 40 }), fc.double({ min: -2, max: 40, noNaN: false }));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), fc.nat(8), offset, (bytes, start, off) => {
        const b = bytes.subarray(Math.min(start, bytes.length));
        for (const size of [2, 4] as const) expect(direct(b, off, size)).toEqual(viaDataView(b, off, size));
      }),
      { numRuns: 500 },
    );
  });

  it("reads little-endian, unsigned", () => {
    const b = Uint8Array.of(0xff, 0xfe, 0xfd, 0xfc, 0x01);
    expect(u32(b, 0)).toBe(0xfcfdfeff);
    expect(u32(b, 1)).toBe(0x01fcfdfe);
    expect(u16(b, 3)).toBe(0x01fc);
  });
});
