/**
 * The canonical digest of the interpreter's memory (src/interp/digest.ts), which the explorer's state hash
 * adds for a world that runs posted C: alike for the same C state reached by other histories, different when
 * a byte, a pointer's target or a dead object it points to differs.
 */
import { describe, expect, it } from "vitest";
import { memoryDigest } from "../../src/interp/digest.ts";
import { Memory, type Obj } from "../../src/interp/memory.ts";

const setPtr = (o: Obj, off: number, to: Obj | null, plus = 0): void =>
  o.view.setBigUint64(o.vo + off, to === null ? 0n : to.base + BigInt(plus), true);

/** A global `list` of 16 bytes pointing at a heap block, after `locals` locals came and went. */
function world(locals: number, heapBlocks: number): { mem: Memory; list: Obj; blocks: Obj[] } {
  const mem = new Memory();
  const list = mem.alloc(16, "global", "fx_list");
  const blocks: Obj[] = [];
  for (let i = 0; i < locals; i++) {
    const l = mem.alloc(8, "local", `tmp${i}`);
    mem.free(l, "scope");
  }
  for (let i = 0; i < heapBlocks; i++) blocks.push(mem.alloc(24, "heap", "kzalloc(24) at fx.c:10"));
  return { mem, list, blocks };
}

describe("memoryDigest", () => {
  it("is the same for the same C state whatever the addresses and the locals on the way", () => {
    const a = world(0, 1);
    const b = world(5, 1);
    setPtr(a.list, 0, a.blocks[0] as Obj, 8);
    setPtr(b.list, 0, b.blocks[0] as Obj, 8);
    expect((a.blocks[0] as Obj).base).not.toBe((b.blocks[0] as Obj).base);
    expect(memoryDigest(a.mem)).toBe(memoryDigest(b.mem));
  });

  it("tells apart a byte, a pointer's offset, and which live block it points to", () => {
    const base = (): ReturnType<typeof world> => {
      const w = world(0, 2);
      setPtr(w.list, 0, w.blocks[0] as Obj);
      return w;
    };
    const ref = memoryDigest(base().mem);
    const byte = base();
    (byte.blocks[1] as Obj).bytes[3] = 7;
    expect(memoryDigest(byte.mem)).not.toBe(ref);
    const off = base();
    setPtr(off.list, 0, off.blocks[0] as Obj, 8);
    expect(memoryDigest(off.mem)).not.toBe(ref);
    const other = base();
    setPtr(other.list, 0, other.blocks[1] as Obj);
    expect(memoryDigest(other.mem)).not.toBe(ref);
  });

  it("digests a freed block a live pointer still reaches (a use after free reads it), and a freed one nothing reaches not at all", () => {
    const dangling = (byte: number): string => {
      const w = world(0, 1);
      const b = w.blocks[0] as Obj;
      setPtr(w.list, 0, b);
      b.bytes[9] = byte;
      w.mem.free(b, "rproc_tee_stop");
      return memoryDigest(w.mem);
    };
    expect(dangling(1)).not.toBe(dangling(2));
    expect(dangling(1)).toContain("(freed)");
    const unreached = (byte: number): string => {
      const w = world(0, 1);
      const b = w.blocks[0] as Obj;
      b.bytes[9] = byte;
      w.mem.free(b, "rproc_tee_stop");
      return memoryDigest(w.mem);
    };
    expect(unreached(1)).toBe(unreached(2));
    expect(unreached(1)).toBe(memoryDigest(world(0, 0).mem));
  });
});
