/**
 * Built-ins of the interpreter: the kernel's idioms that C writes as macros or inline helpers (ERR_PTR and
 * friends, min/max, list helpers, …), and libc-like functions (memset, memcpy, strlen, printf, …) used when
 * the environment does not provide its own.
 */
import { type Builtins, type Exec, exprText, type Native, type SpecialForm } from "./interp.ts";
import { Fault, type Value } from "./memory.ts";
import { formatC } from "./printf.ts";
import { T, usual } from "./types.ts";
import { asBigInt, intVal, VOID } from "./values.ts";

const ONE = intVal(T.int, 1n);

function ptrArg(ex: Exec, v: Value | undefined, fn: string, line: number): Value & { k: "ptr" } {
  if (v === undefined || v.k !== "ptr") throw ex.unknown(`${fn}: pointer argument expected`, line);
  return v;
}

function sizeArg(ex: Exec, v: Value | undefined, fn: string, line: number): number {
  if (v === undefined || v.k !== "int") throw ex.unknown(`${fn}: size argument expected`, line);
  return Number(v.v);
}

/** memcpy(d, s, n) under `fn`'s name: returns the destination when `returnsDest`, else nothing. */
function copy(fn: string, returnsDest: boolean): Native {
  return (ex, args, line) => {
    const d = ptrArg(ex, args[0], fn, line);
    const src = ptrArg(ex, args[1], fn, line);
    ex.m.write(d, ex.m.read(src, sizeArg(ex, args[2], fn, line)));
    return returnsDest ? d : VOID;
  };
}

/** memset(p, c, n) under `fn`'s name: returns `p` when `returnsDest`, else nothing. */
function fill(fn: string, returnsDest: boolean): Native {
  return (ex, args, line) => {
    const p = ptrArg(ex, args[0], fn, line);
    const c = Number(BigInt.asUintN(8, asBigInt(args[1] ?? intVal(T.int, 0n))));
    ex.m.write(p, new Uint8Array(sizeArg(ex, args[2], fn, line)).fill(c));
    return returnsDest ? p : VOID;
  };
}

const libc: Record<string, Native> = {
  printf(ex, args, line) {
    const fmt = ex.m.cstring(ptrArg(ex, args[0], "printf", line));
    const s = formatC(fmt, args.slice(1), (p) => ex.m.cstring(p));
    ex.m.output += s;
    return intVal(T.int, BigInt(new TextEncoder().encode(s).length));
  },
  memset: fill("memset", true),
  memcpy: copy("memcpy", true),
  // memmove copies as memcpy does: the source is read whole before the destination is written.
  memmove: copy("memmove", true),
  // The I/O-memory forms (asm/io.h): a mapping is a view onto the emulated memory, so they copy and fill
  // through the same accesses; they return nothing.
  memcpy_toio: copy("memcpy_toio", false),
  memcpy_fromio: copy("memcpy_fromio", false),
  memset_io: fill("memset_io", false),
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
  /** At most n bytes, as unsigned chars; a string's end compares as its NUL. */
  strncmp(ex, args, line) {
    const utf8 = new TextEncoder();
    const a = utf8.encode(ex.m.cstring(ptrArg(ex, args[0], "strncmp", line)));
    const b = utf8.encode(ex.m.cstring(ptrArg(ex, args[1], "strncmp", line)));
    const n = sizeArg(ex, args[2], "strncmp", line);
    for (let i = 0; i < n; i++) {
      const x = a[i] ?? 0;
      const y = b[i] ?? 0;
      if (x !== y) return intVal(T.int, BigInt(x - y));
      if (x === 0) break;
    }
    return intVal(T.int, 0n);
  },
};

/** min()/max(): each argument evaluated once, compared after the usual arithmetic conversions. */
function minmax(which: "min" | "max"): Native {
  return (ex, args, line) => {
    const [a, b] = args;
    if (a?.k !== "int" || b?.k !== "int" || args.length !== 2)
      throw ex.unknown(`${which}() of non-integers`, line);
    const t = usual(a.t, b.t);
    const x = intVal(t, a.v);
    const y = intVal(t, b.v);
    return (which === "min" ? x.v <= y.v : x.v >= y.v) ? x : y;
  };
}

/** GCC's __builtin_ctz*(): the trailing zero bits of an unsigned `bits`-bit value (of 0: undefined, an unknown). */
function ctz(bits: number): Native {
  return (ex, args, line) => {
    const a = args[0];
    if (a?.k !== "int") throw ex.unknown("__builtin_ctz() of a non-integer", line);
    const x = BigInt.asUintN(bits, a.v);
    if (x === 0n) throw ex.unknown("__builtin_ctz(0), which GCC leaves undefined", line);
    let n = 0;
    while (((x >> BigInt(n)) & 1n) === 0n) n++;
    return intVal(T.int, BigInt(n));
  };
}

/** GCC's __builtin_popcount*(): the set bits of an unsigned `bits`-bit value. */
function popcount(bits: number): Native {
  return (ex, args, line) => {
    const a = args[0];
    if (a?.k !== "int") throw ex.unknown("__builtin_popcount() of a non-integer", line);
    let x = BigInt.asUintN(bits, a.v);
    let n = 0;
    for (; x !== 0n; x >>= 1n) if ((x & 1n) === 1n) n++;
    return intVal(T.int, BigInt(n));
  };
}

const idioms: Record<string, Native> = {
  min: minmax("min"),
  max: minmax("max"),
  /** drivers/base/core.c: dev_err_probe() logs (unless -EPROBE_DEFER) and returns err. */
  dev_err_probe(ex, args, line) {
    const err = args[1];
    if (err?.k !== "int") throw ex.unknown("dev_err_probe() without an error code", line);
    return intVal(T.int, err.v);
  },
  __builtin_constant_p: () => intVal(T.int, 0n),
  __builtin_ctz: ctz(32),
  __builtin_ctzl: ctz(64),
  __builtin_ctzll: ctz(64),
  __builtin_popcount: popcount(32),
  __builtin_popcountl: popcount(64),
  __builtin_popcountll: popcount(64),
  /** va_end(ap): nothing to release (va_start's object stays with the machine). */
  va_end: () => VOID,
  /** The prelude's list API, before a change: the environment's list monitor (env.ts ListMonitor) is told. */
  __list_change(ex, args) {
    ex.m.env.lists?.change(args);
    return VOID;
  },
};

/**
 * Lock classes of guard()/scoped_guard() (include/linux/cleanup.h users: mutex.h, spinlock.h, rwsem.h,
 * rcupdate.h): the environment's lock and unlock calls. A saved result (irqsave's flags) goes to the unlock.
 */
const GUARDS: Record<string, { lock: string; unlock: string; saves?: boolean; args: 0 | 1 }> = {
  mutex: { lock: "mutex_lock", unlock: "mutex_unlock", args: 1 },
  spinlock: { lock: "spin_lock", unlock: "spin_unlock", args: 1 },
  spinlock_irq: { lock: "spin_lock_irq", unlock: "spin_unlock_irq", args: 1 },
  spinlock_bh: { lock: "spin_lock_bh", unlock: "spin_unlock_bh", args: 1 },
  spinlock_irqsave: { lock: "spin_lock_irqsave", unlock: "spin_unlock_irqrestore", saves: true, args: 1 },
  raw_spinlock: { lock: "raw_spin_lock", unlock: "raw_spin_unlock", args: 1 },
  raw_spinlock_irqsave: {
    lock: "raw_spin_lock_irqsave",
    unlock: "raw_spin_unlock_irqrestore",
    saves: true,
    args: 1,
  },
  rwsem_read: { lock: "down_read", unlock: "up_read", args: 1 },
  rwsem_write: { lock: "down_write", unlock: "up_write", args: 1 },
  rcu: { lock: "rcu_read_lock", unlock: "rcu_read_unlock", args: 0 },
};

function guardEnter(
  cls: string,
  g: { lock: string; unlock: string; saves?: boolean; args: 0 | 1 },
): SpecialForm {
  return function* (ex, args, line) {
    if (args.length !== g.args) throw ex.unknown(`guard(${cls}) with ${args.length} arguments`, line);
    const vals = yield* ex.args(args);
    const saved = yield* ex.invoke(g.lock, vals, line);
    const unlockArgs = g.saves === true ? [...vals, saved] : vals;
    ex.atScopeEnd(line, () => ex.invoke(g.unlock, unlockArgs, line));
    return VOID;
  };
}

const special: Record<string, SpecialForm> = {
  /** va_start(ap, last): ap stands for the variadic arguments of the function it is in. */
  *va_start(ex, args, line) {
    const ap = args[0];
    if (ap === undefined || args.length !== 2) throw ex.unknown("va_start with unexpected arguments", line);
    const lv = yield* ex.lval(ap);
    ex.store(lv, ex.m.vaStart(ex.varargs, "va_list"));
    return VOID;
  },

  /** no_free_ptr(p) (cleanup.h): p's value, and p set to NULL so that its __free() cleanup frees nothing. */
  *__no_free_ptr(ex, args, line) {
    const p = args[0];
    if (p === undefined || args.length !== 1) throw ex.unknown("no_free_ptr with unexpected arguments", line);
    const lv = yield* ex.lval(p);
    if (lv.t.k !== "ptr") throw ex.unknown("no_free_ptr of a non-pointer", line);
    const v = ex.load(lv);
    ex.store(lv, { k: "ptr", t: lv.t, addr: 0n, obj: null });
    return v;
  },

  /** container_of(ptr, typeof(*pos), member): the list iterators' step, typed by the iterator variable. */
  *__container_of_var(ex, args, line) {
    const [pos, ptr, member] = args;
    if (pos === undefined || ptr === undefined || member?.k !== "id" || args.length !== 3)
      throw ex.unknown("list iterator with unexpected arguments", line);
    const t = ex.staticType(pos);
    if (t.k !== "ptr" || t.to.k !== "struct")
      throw ex.unknown("list iterator over a non-struct pointer", line);
    const f = ex.m.structs.member(t.to, member.name);
    if (f === null) throw ex.unknown(`struct ${t.to.tag} has no member ${member.name}`, line);
    const p = yield* ex.expr(ptr);
    if (p.k !== "ptr") throw ex.unknown("list iterator over a non-pointer", line);
    return { k: "ptr", t, addr: BigInt.asUintN(64, p.addr - BigInt(f.offset)), obj: p.obj };
  },
  /** The prelude's list iterators: a walk of `head` starts, and ends with the iterator's scope (break, return too). */
  *__list_walk(ex, args, line) {
    const head = args[0];
    if (head === undefined || args.length !== 1)
      throw ex.unknown("list walk with unexpected arguments", line);
    const v = yield* ex.expr(head);
    const lists = ex.m.env.lists;
    if (lists !== undefined) {
      const end = lists.walk(v, exprText(head));
      if (end !== null)
        // biome-ignore lint/correctness/useYield: the end of a walk never suspends (a scope end runs generators).
        ex.atScopeEnd(line, function* () {
          end();
        });
    }
    return ONE;
  },
  ...Object.fromEntries(
    Object.entries(GUARDS).map(([cls, g]) => [`__guard_enter_${cls}`, guardEnter(cls, g)]),
  ),
};

export const BUILTINS: Builtins = { idioms, special, libc };

export { Fault };
