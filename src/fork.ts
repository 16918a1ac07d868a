/**
 * Forking a world: a deep copy of the object graph of one emulated platform, kernel and model, so that an
 * explorer can run an event on a copy instead of rebuilding the world and replaying every event before it.
 *
 * JavaScript cannot copy a closure's captured variables, so a function stored in the world is either
 * - static: it captures nothing that belongs to one world (module-level functions, class methods); it is
 *   shared by both copies; or
 * - rebuildable: made by `rebuildable(captures, make)`, which records what it captures; a fork maps the
 *   captures into the copy and calls `make` again.
 * `forkGraph` with `strict` names any other function it meets (tests run it so; a closure that captures a
 * world object would otherwise keep acting on the original after a fork).
 *
 * What a fork shares instead of copying: primitives, static functions, objects declared immutable
 * (`markImmutable`: device tree, images, keys) or shared by the caller (design facts), and the entries of
 * append-only logs (`markLog`). Own enumerable properties are copied; `#private` fields would not be (the
 * model has none; strict mode refuses non-enumerable and symbol-keyed ones).
 */

const REBUILD: unique symbol = Symbol("rproc-review.rebuild");
const STATIC: unique symbol = Symbol("rproc-review.static");

type Rebuild = (map: <T>(x: T) => T) => unknown;

/**
 * A closure a fork can rebuild: `make(...captures)` returns the function; a fork calls `make` again with
 * the copies of `captures`. `make` itself must capture nothing of a world.
 */
// biome-ignore lint/suspicious/noExplicitAny: the function type is the caller's; only its identity matters here
export function rebuildable<C extends readonly unknown[], F extends (...args: any[]) => unknown>(
  captures: C,
  make: (...c: C) => F,
): F {
  const f = make(...captures) as F & { [REBUILD]?: Rebuild };
  // A plain assignment (not defineProperty): a fork rebuilds every such closure, so this is on its hot path.
  f[REBUILD] = (map) => rebuildable(captures.map(map) as unknown as C, make);
  return f;
}

/**
 * Declares inline functions static: they capture nothing of a world (only constants and module-level
 * functions), so both copies of a fork may share them. Returns its argument.
 */
export function staticFn<F extends (...args: never[]) => unknown>(f: F): F {
  Object.defineProperty(f, STATIC, { value: true });
  return f;
}

/** Any function (what a world may store). */
export type AnyFunction = (...args: never[]) => unknown;

const logs = new WeakSet<object>();
const immutables = new WeakSet<object>();

/**
 * Declares `root` and everything reachable from it immutable (a device tree, keys, images): forks share
 * them. The model never writes them; sharing them keeps a fork to the objects that change. (Design facts
 * are shared as a whole by the kernel: walking them here would count as reading every fact.)
 */
export function markImmutable<T>(root: T): T {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const x = stack.pop();
    if (x === null || typeof x !== "object" || immutables.has(x)) continue;
    immutables.add(x);
    if (ArrayBuffer.isView(x)) continue;
    if (x instanceof Map) for (const [k, v] of x) stack.push(k, v);
    else if (x instanceof Set) for (const v of x) stack.push(v);
    else for (const v of Object.values(x)) stack.push(v);
  }
  return root;
}

/** Declares an array an append-only log of immutable entries: a fork copies the array, not its entries. */
export function markLog<T extends unknown[]>(a: T): T {
  logs.add(a);
  return a;
}

export interface ForkOptions {
  /** Objects both copies share (immutable inputs: facts, fixtures, keys). */
  shared: (x: object) => boolean;
  /**
   * When set, a function that is neither rebuildable nor marked static is reported here (with the path it
   * was reached by) instead of being shared silently. Module-level functions are static by construction;
   * `isStatic` lets the caller accept them (e.g. function declarations, which are module-level here).
   */
  strict?: { isStatic: (f: AnyFunction) => boolean; report: (f: AnyFunction, path: string) => void };
}

/** Deep-copies the graph reachable from `root` (cycles and sharing preserved). */
export function forkGraph<T>(root: T, opts: ForkOptions): T {
  const copies = new Map<unknown, unknown>();
  const strict = opts.strict;
  const visit = (x: unknown, path: string): unknown => {
    if (x === null || (typeof x !== "object" && typeof x !== "function")) return x;
    const done = copies.get(x);
    if (done !== undefined) return done;
    if (typeof x === "function") {
      const rebuild = (x as { [REBUILD]?: Rebuild })[REBUILD];
      if (rebuild === undefined) {
        if (
          strict !== undefined &&
          !(x as { [STATIC]?: true })[STATIC] &&
          !strict.isStatic(x as AnyFunction)
        ) {
          strict.report(x as AnyFunction, path);
        }
        copies.set(x, x);
        return x;
      }
      // The rebuilt closure is registered before its captures are visited only through map's results, so
      // a capture that refers back to the closure itself would see the original; the model has none.
      const f = rebuild(<U>(c: U) => visit(c, strict ? `${path}<captured>` : path) as U);
      copies.set(x, f);
      return f;
    }
    const o = x as object;
    if (immutables.has(o) || opts.shared(o)) {
      copies.set(o, o);
      return o;
    }
    const proto = Object.getPrototypeOf(o) as object | null;
    if (proto === Array.prototype) {
      const a = o as unknown[];
      if (logs.has(a)) {
        const copy = a.slice();
        logs.add(copy);
        copies.set(o, copy);
        return copy;
      }
      const copy: unknown[] = new Array(a.length);
      copies.set(o, copy);
      for (let i = 0; i < a.length; i++) copy[i] = visit(a[i], strict ? `${path}[${i}]` : path);
      return copy;
    }
    if (proto !== Object.prototype) {
      if (ArrayBuffer.isView(o)) {
        const copy = o instanceof DataView ? new DataView(o.buffer.slice(0)) : (o as Uint8Array).slice();
        copies.set(o, copy);
        return copy;
      }
      if (o instanceof Map) {
        const copy = new Map();
        copies.set(o, copy);
        for (const [k, v] of o)
          copy.set(visit(k, path), visit(v, strict ? `${path}.get(${String(k)})` : path));
        return copy;
      }
      if (o instanceof Set) {
        const copy = new Set();
        copies.set(o, copy);
        for (const v of o) copy.add(visit(v, path));
        return copy;
      }
      if (o instanceof Promise || o instanceof WeakMap || o instanceof WeakSet || Array.isArray(o)) {
        throw new Error(`cannot fork a ${o.constructor.name} (at ${path})`);
      }
    }
    // Properties added one by one in the original's order: faster here than a spread, which V8 runs on its
    // slow path for the many shapes of a world (measured: a fork 47 -> 42 µs).
    const src = o as Record<string, unknown>;
    const keys = Object.keys(src);
    const copy = (proto === Object.prototype ? {} : Object.create(proto)) as Record<string, unknown>;
    copies.set(o, copy);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const v = src[key];
      copy[key] =
        v !== null && (typeof v === "object" || typeof v === "function")
          ? visit(v, strict ? `${path}.${key}` : path)
          : v;
    }
    if (strict !== undefined && Reflect.ownKeys(o).length !== Object.keys(o).length) {
      throw new Error(`cannot fork an object with non-enumerable or symbol-keyed properties (at ${path})`);
    }
    return copy;
  };
  return visit(root, "") as T;
}
