/**
 * Sparse region memory (pages allocated on first non-zero write) must behave exactly like one flat array per
 * region: same bytes read back, zeros where nothing was written, aliases sharing bytes, and the firmware
 * descriptor found wherever it sits (also across a page boundary).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPlatform, loadFixtures, type MemoryRegion } from "../../src/emulator/api.ts";
import { buildFirmwareElf } from "../../src/emulator/fixtures.ts";
import { EventBus, Memory, PAGE_SIZE, PagedBytes } from "../../src/emulator/memory.ts";

type Op =
  | { kind: "set"; off: number; data: Uint8Array }
  | { kind: "fill"; value: number; start: number; end: number }
  | { kind: "clear" };

const SIZE = 3 * PAGE_SIZE + 100;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc
    .tuple(fc.nat(SIZE - 1), fc.uint8Array({ minLength: 0, maxLength: 2 * PAGE_SIZE + 10 }))
    .map(([off, data]) => ({ kind: "set" as const, off, data: data.subarray(0, SIZE - off) })),
  fc
    .tuple(fc.constantFrom(0, 0, 1, 0xff), fc.nat(SIZE), fc.nat(SIZE))
    .map(([value, a, b]) => ({ kind: "fill" as const, value, start: Math.min(a, b), end: Math.max(a, b) })),
  fc.constant({ kind: "clear" as const }),
);

/** Index of the first byte that differs (or the shorter length), -1 when equal: cheaper than toEqual. */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

function heldPages(b: PagedBytes): number {
  let n = 0;
  for (let i = 0; i < b.pageCount; i++) if (b.heldPage(i) !== undefined) n++;
  return n;
}

describe("PagedBytes", () => {
  it("reads back what a flat array holds after any sequence of writes, fills and clears", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 12 }), fc.nat(SIZE), fc.nat(SIZE), (ops, a, b) => {
        const flat = new Uint8Array(SIZE);
        const paged = new PagedBytes(SIZE);
        for (const op of ops) {
          if (op.kind === "set") {
            flat.set(op.data, op.off);
            paged.set(op.data, op.off);
          } else if (op.kind === "fill") {
            flat.fill(op.value, op.start, op.end);
            paged.fill(op.value, op.start, op.end);
          } else {
            flat.fill(0);
            paged.clear();
          }
        }
        expect(firstDiff(paged.slice(0, SIZE), flat)).toBe(-1);
        const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
        expect(firstDiff(paged.slice(lo, hi - lo), flat.slice(lo, hi))).toBe(-1);
        expect(paged.anyNonZero()).toBe(flat.some((x) => x !== 0));
      }),
      { numRuns: 200 },
    );
  });

  it("holds no page until a non-zero write, and drops a page zeroed as a whole", () => {
    const b = new PagedBytes(SIZE);
    expect(heldPages(b)).toBe(0);
    b.fill(0, 0, SIZE);
    expect(heldPages(b)).toBe(0);
    expect(b.slice(10, 20)).toEqual(new Uint8Array(20));
    b.set(Uint8Array.of(1, 2, 3, 4), PAGE_SIZE - 2);
    expect(heldPages(b)).toBe(2);
    expect(b.slice(PAGE_SIZE - 3, 6)).toEqual(Uint8Array.of(0, 1, 2, 3, 4, 0));
    b.fill(0, 0, PAGE_SIZE);
    expect(heldPages(b)).toBe(1);
    expect(b.slice(PAGE_SIZE - 3, 6)).toEqual(Uint8Array.of(0, 0, 0, 3, 4, 0));
    // The last page is only as long as the region.
    b.fill(7, SIZE - 1, SIZE);
    expect(b.heldPage(b.pageCount - 1)?.length).toBe(SIZE - 3 * PAGE_SIZE);
    b.clear();
    expect(heldPages(b)).toBe(0);
    expect(b.anyNonZero()).toBe(false);
  });
});

describe("Memory on sparse pages", () => {
  const regions: MemoryRegion[] = [
    { name: "sram", da: 0x10000000, pa: 0x10000000, size: 0x40000, firmware: true, secure: false },
    {
      name: "alias",
      da: 0x30000000,
      pa: 0x30000000,
      size: 0x40000,
      firmware: true,
      secure: false,
      aliasOf: "sram",
    },
  ];

  it("an alias shares bytes with its region, and a wipe zeroes both", () => {
    const m = new Memory(regions, new EventBus(), false);
    expect(m.secureWrite(0x30000ffe, Uint8Array.of(9, 8, 7, 6), "tee")).toBe(true);
    expect(m.peek(0x10000ffe, 4)).toEqual(Uint8Array.of(9, 8, 7, 6));
    expect(m.nsRead(0x10000ffc, 8).data).toEqual(Uint8Array.of(0, 0, 9, 8, 7, 6, 0, 0));
    expect(m.nsWrite(0x10001000, Uint8Array.of(1)).ok).toBe(true);
    expect(m.peek(0x30000ffe, 4)).toEqual(Uint8Array.of(9, 8, 1, 6));
    m.wipeAll();
    expect(m.peek(0x30000ffe, 4)).toEqual(new Uint8Array(4));
    expect(m.firmwareViews().map((v) => v.bytes.anyNonZero())).toEqual([false]);
  });

  it("a fresh platform holds no memory pages", async () => {
    const fx = await loadFixtures();
    for (const name of ["stm32mp15", "stm32mp2-m33"] as const) {
      const p = await createPlatform(name, { keys: [fx.keys.rsa] });
      for (const r of p.regions) expect(p.peek(r.pa, 16)).toEqual(new Uint8Array(16));
    }
  });
});

describe("firmware descriptor scan", () => {
  it("finds a descriptor that straddles a page boundary", async () => {
    const fx = await loadFixtures();
    const p = await createPlatform("stm32mp15", { keys: [fx.keys.rsa] });
    // 4-aligned, 16 bytes before the end of the first page of mcuram2: the 32-byte descriptor spans two pages.
    const codeDa = 0x10000000 + PAGE_SIZE - 16;
    const elf = buildFirmwareElf({ name: "straddle", seed: 9, codeDa, vectorDa: null, rscTable: null });
    p.bootStageLoad(elf);
    expect(p.copro.status()).toMatchObject({ run: "running", firmware: "straddle" });
  });

  it("boots the first descriptor by address, and a zeroed one is no longer found", async () => {
    const fx = await loadFixtures();
    const p = await createPlatform("stm32mp15", { keys: [fx.keys.rsa] });
    const late = buildFirmwareElf({
      name: "late",
      seed: 3,
      codeDa: 0x10020000,
      vectorDa: null,
      rscTable: null,
    });
    const early = buildFirmwareElf({
      name: "early",
      seed: 4,
      codeDa: 0x10003000,
      vectorDa: null,
      rscTable: null,
    });
    p.bootStageLoad(late);
    expect(p.copro.status().firmware).toBe("late");
    p.bootStageLoad(early);
    p.copro.assertReset();
    p.copro.setHoldBoot(false);
    expect(p.copro.status().firmware).toBe("early");
  });
});
