/**
 * Built-ins of the interpreter: the kernel's idioms that C writes as macros or inline helpers (ERR_PTR and
 * friends, min/max, list helpers, …), and libc-like functions (memset, memcpy, strlen, printf, …) used when
 * the environment does not provide its own.
 */
import type { Builtins, Exec, Native, SpecialForm } from "./interp.ts";
import { Fault, type Value } from "./memory.ts";
import { formatC } from "./printf.ts";
import { T } from "./types.ts";
import { asBigInt, intVal } from "./values.ts";

function ptrArg(ex: Exec, v: Value | undefined, fn: string, line: number): Value & { k: "ptr" } {
  if (v === undefined || v.k !== "ptr") throw ex.unknown(`${fn}: pointer argument expected`, line);
  return v;
}

function sizeArg(ex: Exec, v: Value | undefined, fn: string, line: number): number {
  if (v === undefined || v.k !== "int") throw ex.unknown(`${fn}: size argument expected`, line);
  return Number(v.v);
}

const libc: Record<string, Native> = {
  printf(ex, args, line) {
    const fmt = ex.m.cstring(ptrArg(ex, args[0], "printf", line));
    const s = formatC(fmt, args.slice(1), (p) => ex.m.cstring(p));
    ex.m.output += s;
    return intVal(T.int, BigInt(new TextEncoder().encode(s).length));
  },
  memset(ex, args, line) {
    const p = ptrArg(ex, args[0], "memset", line);
    const c = Number(BigInt.asUintN(8, asBigInt(args[1] ?? intVal(T.int, 0n))));
    const n = sizeArg(ex, args[2], "memset", line);
    ex.m.write(p, new Uint8Array(n).fill(c));
    return p;
  },
  memcpy(ex, args, line) {
    const d = ptrArg(ex, args[0], "memcpy", line);
    const s = ptrArg(ex, args[1], "memcpy", line);
    const n = sizeArg(ex, args[2], "memcpy", line);
    ex.m.write(d, ex.m.read(s, n));
    return d;
  },
  memmove(ex, args, line) {
    const d = ptrArg(ex, args[0], "memmove", line);
    const s = ptrArg(ex, args[1], "memmove", line);
    ex.m.write(d, ex.m.read(s, sizeArg(ex, args[2], "memmove", line)));
    return d;
  },
  memcmp(ex, args, line) {
    const n = sizeArg(ex, args[2], "memcmp", line);
    const a = ex.m.read(ptrArg(ex, args[0], "memcmp", line), n);
    const b = ex.m.read(ptrArg(ex, args[1], "memcmp", line), n);
    for (let i = 0; i < n; i++)
      if (a[i] !== b[i]) return intVal(T.int, BigInt((a[i] as number) - (b[i] as number)));
    return intVal(T.int, 0n);
  },
  strlen(ex, args, line) {
    return intVal(
      T.ulong,
      BigInt(new TextEncoder().encode(ex.m.cstring(ptrArg(ex, args[0], "strlen", line))).length),
    );
  },
  strcmp(ex, args, line) {
    const a = ex.m.cstring(ptrArg(ex, args[0], "strcmp", line));
    const b = ex.m.cstring(ptrArg(ex, args[1], "strcmp", line));
    return intVal(T.int, a < b ? -1n : a > b ? 1n : 0n);
  },
};

const idioms: Record<string, Native> = {};
const special: Record<string, SpecialForm> = {};

export const BUILTINS: Builtins = { idioms, special, libc };

export { Fault };
