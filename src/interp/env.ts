/**
 * The environment interface: what the interpreted C calls that the loaded files do not define. The hand model
 * of the kernel provides it (allocators, locks, device core, TEE client, …); the interpreter itself provides
 * only the language's idioms (builtins.ts). A function may complete at once (return a Value) or be a
 * generator that suspends the calling kernel thread at a scheduling point (a sleep, a lock that is taken, a
 * wait for a completion) and returns its Value when resumed.
 */
import type { Site } from "./ast.ts";
import type { IoHooks, Obj, ObjKind, Value } from "./memory.ts";
import type { CType } from "./types.ts";

/** Why a thread stops at a scheduling point: `yield` lets others run; `wait` blocks until `ready()` holds. */
export type Suspend =
  | { readonly k: "yield"; readonly reason: string }
  | { readonly k: "wait"; readonly reason: string; readonly ready: () => boolean };

/** A resumable computation of the interpreter: yields scheduling points, returns its result. */
export type Gen<T> = Generator<Suspend, T, void>;

/** One call from the C into the environment. */
export interface EnvCall {
  /** The C name called. */
  readonly name: string;
  /** Arguments, converted to the parameters of the prototype when the files declare one. */
  readonly args: readonly Value[];
  /** The statement of the posted code that made the call (the caller's line when a prelude helper calls). */
  readonly site: Site;
  /** The interpreted C function containing that statement. */
  readonly caller: string;
  /** The kernel thread calling. */
  readonly thread: ThreadInfo;
}

export interface ThreadInfo {
  readonly id: number;
  readonly name: string;
}

export type EnvFunction = (call: EnvCall, machine: MachineApi) => Value | Gen<Value>;

/** What an environment function may do with the interpreter's memory. */
export interface MachineApi {
  /** A new zero-filled heap object of `size` bytes; returns a pointer of type `to *` to it. */
  alloc(size: number, label: string, to?: CType): Value & { k: "ptr" };
  /** Marks the object a pointer points to freed (a second free is an event). */
  free(p: Value, at: string): void;
  /** The NUL-terminated string a `char *` points to. */
  cstring(p: Value): string;
  /** Bytes at a pointer. */
  read(p: Value, size: number): Uint8Array;
  /** Writes bytes at a pointer. */
  write(p: Value, bytes: Uint8Array): void;
  /** Size of a type in bytes (with the program's struct layouts). */
  sizeOf(t: CType): number;
  /**
   * A new object of the environment: zero-filled bytes of its own, `bytes` it shares with the environment
   * (the data of a firmware file), or `io` hooks every access goes through (a kernel structure the hand model
   * keeps, device memory).
   */
  object(opts: {
    size: number;
    label: string;
    kind?: ObjKind;
    bytes?: Uint8Array;
    io?: IoHooks;
    readonly?: boolean;
  }): Obj;
  /** The object holding an address (NULL and small values: none). */
  find(addr: bigint): Obj | null;
  /** The complete struct of that tag the loaded files (or the environment's headers) define, or null. */
  structOf(tag: string): (CType & { k: "struct" }) | null;
  /** The value of an enumerator the files define, or undefined. */
  enumValue(name: string): bigint | undefined;
  /** The running thread, the statement of the posted code it is at and the C function of it; null between steps. */
  where(): { thread: ThreadInfo; site: Site; caller: string } | null;
  /** The variadic arguments a va_list stands for (va_start made it), or undefined. */
  vaArgs(ap: Value): readonly Value[] | undefined;
  /** Calls a C function through its pointer on the calling thread (a callback the environment runs). */
  callFunction(fn: Value, args: readonly Value[]): Gen<Value>;
}

export interface Environment {
  /** The function `name`, or undefined when the environment does not provide it. */
  fn(name: string): EnvFunction | undefined;
  /** A global object the environment provides (`jiffies`, a `struct bus_type`), or undefined. */
  global?(name: string, machine: MachineApi): { obj: Obj; t: CType } | undefined;
  /** Watches the prelude's list API (the threaded kernel's data-race monitor); without it the list API is plain C. */
  readonly lists?: ListMonitor;
  /**
   * The names that, called from C, never suspend: the environment's functions that return their value
   * (never a generator that yields), and the interpreter's libc functions it leaves to the interpreter (it
   * gives none of that name). C that calls only those, and functions of its own that do the same, runs
   * without the generators. The same set object for environments of the same make (the interpreter decides per set).
   * A function named here that reaches a scheduling point is an internal error, never a silent misrun.
   */
  readonly syncApis?: ReadonlySet<string>;
}

/**
 * What the prelude's list API tells an environment that watches lists shared between threads: each change
 * (list_add, list_del, …, before it links or unlinks) and each walk (the list_for_each* iterators).
 */
export interface ListMonitor {
  /** The running thread is about to change the list(s) that the `struct list_head` pointers `nodes` are on. */
  change(nodes: readonly Value[]): void;
  /** A walk of the list at `head` (`text`: the iterator's head expression) starts; returns what ends it, run at the end of the walk's scope. */
  walk(head: Value, text: string): (() => void) | null;
}

/** An environment from a table of functions. */
export function tableEnvironment(fns: Record<string, EnvFunction>): Environment {
  return { fn: (name) => (Object.hasOwn(fns, name) ? fns[name] : undefined) };
}

/** Environments tried in order (the first that provides a name wins). */
export function layered(...envs: Environment[]): Environment {
  return {
    fn: (name) => {
      for (const e of envs) {
        const f = e.fn(name);
        if (f !== undefined) return f;
      }
      return undefined;
    },
    global: (name, m) => {
      for (const e of envs) {
        const g = e.global?.(name, m);
        if (g !== undefined) return g;
      }
      return undefined;
    },
  };
}
