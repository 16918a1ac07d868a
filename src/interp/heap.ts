/**
 * Heap allocators over the interpreter's object memory (kmalloc/kzalloc/kcalloc/kmalloc_array/kmemdup/kfree
 * and libc's malloc/calloc/free), as an environment. The hand model of the kernel will provide its own
 * (tracking lifetimes with devm owners as kernel.ts does); this one is the plain memory semantics the
 * interpreter's tests and the differential test against gcc run on.
 */
import type { EnvFunction, Environment, MachineApi } from "./env.ts";
import type { Value } from "./memory.ts";
import { T } from "./types.ts";
import { NULLP } from "./values.ts";

function size(v: Value | undefined, fn: string): number {
  if (v === undefined || v.k !== "int") throw new Error(`${fn}: size argument is not an integer`);
  return Number(v.v);
}

/** kmalloc and malloc leave memory undefined in C; here it is zero, which no correct program can observe. */
const alloc =
  (label: string, n: (args: readonly Value[]) => number): EnvFunction =>
  (call, m: MachineApi) => {
    const bytes = n(call.args);
    if (bytes > 1 << 30) return NULLP;
    return m.alloc(bytes, `${label}(${bytes}) at ${call.site.file}:${call.site.line}`, T.void);
  };

const free: EnvFunction = (call, m) => {
  const p = call.args[0];
  if (p !== undefined) m.free(p, `${call.caller} (${call.site.file}:${call.site.line})`);
  return { k: "void" };
};

const FNS: Record<string, EnvFunction> = {
  kmalloc: alloc("kmalloc", (a) => size(a[0], "kmalloc")),
  kzalloc: alloc("kzalloc", (a) => size(a[0], "kzalloc")),
  kcalloc: alloc("kcalloc", (a) => size(a[0], "kcalloc") * size(a[1], "kcalloc")),
  kmalloc_array: alloc("kmalloc_array", (a) => size(a[0], "kmalloc_array") * size(a[1], "kmalloc_array")),
  malloc: alloc("malloc", (a) => size(a[0], "malloc")),
  calloc: alloc("calloc", (a) => size(a[0], "calloc") * size(a[1], "calloc")),
  kmemdup: (call, m) => {
    const n = size(call.args[1], "kmemdup");
    const src = call.args[0];
    if (src === undefined) throw new Error("kmemdup: no source");
    const p = m.alloc(n, `kmemdup(${n}) at ${call.site.file}:${call.site.line}`, T.void);
    m.write(p, m.read(src, n));
    return p;
  },
  kfree: free,
  free,
};

export const heapEnvironment: Environment = {
  fn: (name) => (Object.hasOwn(FNS, name) ? FNS[name] : undefined),
};
