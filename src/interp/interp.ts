/**
 * The interpreter: runs functions of a lowered program (ast.ts) over object memory (memory.ts), one
 * generator per kernel thread, so a call into the environment that sleeps or takes a lock suspends the thread
 * and the machine resumes it later in an order a scheduler chooses. What it cannot run it never guesses: a
 * construct it does not handle, or an API neither the files nor the environment define, ends the thread with
 * an `unknown` naming it and the C file and line; a NULL dereference or an access outside an object ends it
 * with a `fault` (the kernel's oops).
 */

import {
  declaredNames,
  forEachChild,
  forEachStmtChild,
  resolveFunction,
  type Suspension,
  suspensionOf,
} from "./analysis.ts";
import type { BinOp, Decl, Expr, FunctionDef, Init, Program, Site, Stmt } from "./ast.ts";
import type { EnvCall, EnvFunction, Environment, Gen, MachineApi, Suspend, ThreadInfo } from "./env.ts";
import { foldBinary } from "./lower.ts";
import {
  type Callee,
  Fault,
  type IoHooks,
  loadInt,
  type MemEvent,
  Memory,
  type Obj,
  type ObjKind,
  readBytes,
  storeInt,
  type Value,
  writeBytes,
} from "./memory.ts";
import { MEMBER, NUM, SITE, slots } from "./slots.ts";
import {
  type CType,
  type FnType,
  type IntType,
  isInt,
  type PtrType,
  promote,
  ptrTo,
  type StructDef,
  StructTable,
  T,
  typeName,
  usual,
} from "./types.ts";
import { convert, intVal, ptrInto, truthy, Unsupported, VOID } from "./values.ts";

/** The interpreter cannot run something: what, and where in the C. */
export class UnknownError extends Error {
  constructor(
    readonly what: string,
    readonly site: Site,
  ) {
    super(`${what} at ${site.file}:${site.line}`);
  }
}

export type ThreadResult =
  | { readonly status: "done"; readonly value: Value }
  | { readonly status: "unknown"; readonly what: string; readonly site: Site }
  | { readonly status: "fault"; readonly kind: Fault["kind"]; readonly detail: string; readonly site: Site };

/** Events of a run, in order: the trace, and what monitors observe. */
export type InterpEvent =
  | { readonly type: "call"; readonly thread: number; readonly fn: string; readonly site: Site }
  | {
      readonly type: "return";
      readonly thread: number;
      readonly fn: string;
      readonly value: Value;
      readonly site: Site;
    }
  | {
      readonly type: "env-call";
      readonly thread: number;
      readonly api: string;
      readonly caller: string;
      readonly args: readonly Value[];
      readonly site: Site;
    }
  | {
      readonly type: "env-return";
      readonly thread: number;
      readonly api: string;
      readonly value: Value;
      readonly site: Site;
    }
  | { readonly type: "suspend"; readonly thread: number; readonly reason: string; readonly site: Site }
  | { readonly type: "resume"; readonly thread: number; readonly site: Site }
  | { readonly type: "mem"; readonly thread: number; readonly e: MemEvent; readonly site: Site }
  | { readonly type: "end"; readonly thread: number; readonly result: ThreadResult };

/** A native built-in (an idiom the kernel writes as a macro or inline helper, or a libc function). */
export type Native = (ex: Exec, args: Value[], line: number) => Value | Gen<Value>;
/** A built-in that receives its arguments unevaluated (it needs a type or a member name). */
export type SpecialForm = (ex: Exec, args: readonly Expr[], line: number) => Gen<Value>;

export interface Builtins {
  /** Language idioms: before the program's own functions and the environment. */
  readonly idioms: Readonly<Record<string, Native>>;
  readonly special: Readonly<Record<string, SpecialForm>>;
  /** libc-like functions: used when the environment does not provide them. */
  readonly libc: Readonly<Record<string, Native>>;
}

export interface MachineOptions {
  /** Statements a machine may execute in all before the run is unknown (an infinite loop). */
  maxSteps?: number;
  /** Maximum call depth. */
  maxDepth?: number;
  /**
   * Keep every event in `Machine.events` (tests read the trace). Off by default: observers see each event
   * as it happens, and a log of every call and memory event of a run is garbage a column cannot afford.
   */
  keepEvents?: boolean;
}

interface Var {
  readonly reg?: undefined;
  readonly obj: Obj;
  readonly t: CType;
  /** A static object whose initialiser could not run: using it is this unknown. */
  broken?: UnknownError;
}

/**
 * An automatic variable of integer or pointer type whose address the function never takes (registerNames):
 * its value, not bytes in memory. Nothing but its name reaches it, so no pointer can see the difference; a
 * load gives what the bytes would (a pointer's object is found again from its address, as `load` does).
 */
interface Reg {
  readonly reg: true;
  readonly t: IntType | PtrType;
  /** The value a load gives (type t), or, for a pointer whose object is not known yet, null (see `addr`). */
  v: Value | null;
  /** The address stored, when `v` is null. */
  addr: bigint;
  /** Its lvalue (the one `name` gives), made once. */
  readonly lv: Lval;
}

interface Scope {
  /**
   * Its variables' names and the variables, in declaration order; null until the first is declared (most
   * blocks declare none). Scopes hold a few names each: a search of two small arrays is cheaper than a Map
   * made per call and per block.
   */
  names: string[] | null;
  vals: (Var | Reg)[] | null;
  /** Run when the scope ends, newest first: `__attribute__((cleanup))` variables and guards. */
  cleanups: { line: number; run: () => Gen<unknown> }[] | null;
}

interface Frame {
  readonly fn: FunctionDef | null;
  readonly name: string;
  readonly file: string;
  line: number;
  readonly scopes: Scope[];
  readonly prelude: boolean;
  /** A variadic function's arguments after its parameters (what va_start gives). */
  readonly varargs: readonly Value[];
}

interface Lval {
  readonly obj: Obj | null;
  readonly addr: bigint;
  readonly t: CType;
  readonly bits?: { width: number; shift: number };
  /** A register variable (no object, no address: obj null, addr 0). */
  readonly reg?: Reg;
}

type Completion =
  | null
  | { readonly k: "break" }
  | { readonly k: "continue" }
  | { readonly k: "return"; readonly v: Value }
  | { readonly k: "goto"; readonly label: number };

const BREAK: Completion = { k: "break" };
const CONTINUE: Completion = { k: "continue" };
const ONE = intVal(T.int, 1n);
const NO_VALUES: readonly Value[] = Object.freeze([]);

/** One kernel thread. */
export class Thread implements ThreadInfo {
  result: ThreadResult | null = null;
  waiting: (Suspend & { k: "wait" }) | null = null;
  constructor(
    readonly id: number,
    readonly name: string,
    readonly exec: Exec,
    readonly gen: Gen<Value>,
  ) {}
  get done(): boolean {
    return this.result !== null;
  }
  get runnable(): boolean {
    return this.result === null && (this.waiting === null || this.waiting.ready());
  }
}

/** Chooses the next thread to run among the runnable ones (`last` is the one that just suspended). */
export type Scheduler = (runnable: readonly Thread[], last: Thread | null) => Thread;

/** Round robin from the thread after the last one: deterministic, and every runnable thread progresses. */
export const roundRobin: Scheduler = (runnable, last) => {
  if (last === null) return runnable[0] as Thread;
  return runnable.find((t) => t.id > last.id) ?? (runnable[0] as Thread);
};

export interface RunOutcome {
  /** Every thread ended (done, unknown or fault). */
  readonly finished: boolean;
  /** Threads blocked forever when none could run (a deadlock), with what each waits for. */
  readonly blocked: readonly { thread: string; reason: string }[];
}

/** Thread entries by spec (Machine.entry), per program: a lookup walks every function name otherwise. */
const UTF8 = new TextDecoder();

const programEntries = new WeakMap<Program, Map<string, FunctionDef | undefined>>();

/** One instance of a program: its memory and globals (one boot of the machine), its threads and trace. */
export class Machine implements MachineApi {
  readonly mem = new Memory();
  readonly structs: StructTable;
  /** Every event so far when the machine keeps them (MachineOptions.keepEvents), else empty. */
  readonly events: InterpEvent[] = [];
  private readonly keepEvents: boolean;
  readonly threads: Thread[] = [];
  /** What the C printed with printf (the differential tests compare it with gcc's). */
  output = "";
  private readonly observers: {
    readonly o: (e: InterpEvent) => void;
    readonly types: ReadonlySet<InterpEvent["type"]> | null;
  }[] = [];
  /** Observers per event type (those of every type counted under each): events nobody sees are not built. */
  private readonly watchers: Record<InterpEvent["type"], number> = {
    call: 0,
    return: 0,
    "env-call": 0,
    "env-return": 0,
    suspend: 0,
    resume: 0,
    mem: 0,
    end: 0,
  };
  /** Globals by key (`file\0name` for statics, `name` otherwise). */
  private readonly globals = new Map<string, Var>();
  private readonly staticLocals = new Map<number, Var>();
  private readonly literals = new Map<number, Obj>();
  private readonly fnObjs = new Map<string, Obj>();
  private readonly envGlobals = new Map<string, Var | null>();
  readonly preludeFiles: ReadonlySet<string>;
  /** Static objects whose initialisers could not run (each use of one is an unknown). */
  readonly initProblems: { what: string; site: Site }[] = [];
  steps = 0;
  readonly maxSteps: number;
  readonly maxDepth: number;
  private current: Thread | null = null;
  private nextThread = 1;

  constructor(
    readonly program: Program,
    readonly env: Environment,
    readonly builtins: Builtins,
    opts: MachineOptions = {},
  ) {
    this.sync = suspensionOf(program, builtins, env.syncApis);
    this.structs = new StructTable();
    this.structs.defs.push(...program.structs);
    this.preludeFiles = new Set(program.preludeFiles);
    this.maxSteps = opts.maxSteps ?? 10_000_000;
    this.maxDepth = opts.maxDepth ?? 512;
    this.keepEvents = opts.keepEvents ?? false;
    this.mem.observer = (e) => {
      if (!this.wants("mem")) return;
      const th = this.current;
      this.emit({ type: "mem", thread: th?.id ?? 0, e, site: th?.exec.site() ?? { file: "?", line: 0 } });
    };
    this.initGlobals();
  }

  /** Calls `o` with each event; returns the unsubscription. */
  subscribe(o: (e: InterpEvent) => void): () => void {
    return this.subscribeTo(null, o);
  }

  /**
   * Calls `o` with each event of `types` (every type: null); returns the unsubscription. An event of a type
   * no observer wants is not even built (an environment call's, a memory event's).
   */
  subscribeTo(types: readonly InterpEvent["type"][] | null, o: (e: InterpEvent) => void): () => void {
    const entry = { o, types: types === null ? null : new Set(types) };
    this.observers.push(entry);
    this.count(entry.types, 1);
    return () => {
      const i = this.observers.indexOf(entry);
      if (i < 0) return;
      this.observers.splice(i, 1);
      this.count(entry.types, -1);
    };
  }

  private count(types: ReadonlySet<InterpEvent["type"]> | null, d: number): void {
    for (const k of Object.keys(this.watchers) as InterpEvent["type"][])
      if (types === null || types.has(k)) this.watchers[k] += d;
  }

  emit(e: InterpEvent): void {
    if (this.keepEvents) this.events.push(e);
    for (const { o, types } of this.observers) if (types === null || types.has(e.type)) o(e);
  }

  /** Whether an event of this type would reach anyone (callers skip building events nobody sees). */
  wants(type: InterpEvent["type"]): boolean {
    return this.keepEvents || this.watchers[type] > 0;
  }

  private initGlobals(): void {
    for (const g of this.program.globals) {
      const key = g.decl.storage === "static" ? `${g.file}\u0000${g.name}` : g.name;
      this.globals.set(key, {
        obj: this.mem.alloc(this.structs.sizeOf(g.decl.t), "global", g.name),
        t: g.decl.t,
      });
    }
    for (const [id, d] of Object.entries(this.program.staticLocals))
      this.staticLocals.set(Number(id), {
        obj: this.mem.alloc(this.structs.sizeOf(d.t), "global", d.name),
        t: d.t,
      });
    const init = (file: string, v: Var, init: Init, line: number): void => {
      const ex = new Exec(this, null);
      ex.frames.push({
        fn: null,
        name: "<static initialiser>",
        file,
        line,
        scopes: [],
        prelude: false,
        varargs: [],
      });
      try {
        const r = ex.initialise(v.obj, 0, v.t, init).next();
        if (!r.done) throw new UnknownError("a static initialiser that suspends", { file, line });
      } catch (e) {
        const what =
          e instanceof UnknownError
            ? e.what
            : e instanceof Fault || e instanceof Unsupported
              ? e.message
              : null;
        if (what === null) throw e;
        const site = e instanceof UnknownError ? e.site : { file, line };
        v.broken = new UnknownError(`the initialiser of ${v.obj.label} could not run: ${what}`, site);
        this.initProblems.push({ what: v.broken.what, site });
      }
    };
    for (const g of this.program.globals) {
      if (g.decl.init === null) continue;
      const key = g.decl.storage === "static" ? `${g.file}\u0000${g.name}` : g.name;
      init(g.file, this.globals.get(key) as Var, g.decl.init, g.decl.line);
    }
    for (const [id, d] of Object.entries(this.program.staticLocals))
      if (d.init !== null) init(d.file, this.staticLocals.get(Number(id)) as Var, d.init, d.line);
  }

  /** Which statements and expressions of the program cannot suspend, in this environment. */
  readonly sync: Suspension;
  /** The arguments each va_list object stands for (va_start made it), by its address. */
  private readonly vaLists = new Map<bigint, readonly Value[]>();

  /** Globals by file, then name, as `global` found them (globals are all declared at instantiation). */
  private readonly globalLookups = new Map<string, Map<string, Var | null>>();

  /** A global visible from `file` (its statics first), or undefined. */
  global(name: string, file: string): Var | undefined {
    let inFile = this.globalLookups.get(file);
    if (inFile === undefined) {
      inFile = new Map();
      this.globalLookups.set(file, inFile);
    }
    let v = inFile.get(name);
    if (v === undefined) {
      v = this.globals.get(`${file}\u0000${name}`) ?? this.globals.get(name) ?? null;
      inFile.set(name, v);
    }
    return v ?? undefined;
  }

  /**
   * The function a thread starts in: `name` (a global, or the one static function of that name), or
   * `file:name` for a static one of that file.
   */
  entry(spec: string): FunctionDef | undefined {
    let memo = programEntries.get(this.program);
    if (memo === undefined) {
      memo = new Map();
      programEntries.set(this.program, memo);
    }
    if (memo.has(spec)) return memo.get(spec);
    const found = this.findEntry(spec);
    memo.set(spec, found);
    return found;
  }

  private findEntry(spec: string): FunctionDef | undefined {
    const colon = spec.lastIndexOf(":");
    if (colon > 0) return this.program.functions[`${spec.slice(0, colon)}\u0000${spec.slice(colon + 1)}`];
    const global = this.program.functions[spec];
    if (global !== undefined) return global;
    const statics = Object.entries(this.program.functions).filter(([k]) => k.endsWith(`\u0000${spec}`));
    if (statics.length > 1)
      throw new Error(
        `${spec} is static in several files (${statics.map(([, f]) => f.file).join(", ")}): name it file:${spec}`,
      );
    return statics[0]?.[1];
  }

  staticLocal(id: number): Var | undefined {
    return this.staticLocals.get(id);
  }

  /** A global the environment provides (asked once per name). */
  /** va_start: a va_list object standing for `args` (the calling frame's variadic arguments). */
  vaStart(args: readonly Value[], label: string): Value & { k: "ptr" } {
    const obj = this.mem.alloc(8, "env", label);
    this.vaLists.set(obj.base, args);
    return { k: "ptr", t: { k: "ptr", to: T.void }, addr: obj.base, obj };
  }

  /** The arguments of a va_list va_start made, or undefined (a va_list the interpreter did not make). */
  vaArgs(ap: Value): readonly Value[] | undefined {
    return ap.k === "ptr" ? this.vaLists.get(ap.addr) : undefined;
  }

  envGlobal(name: string): Var | undefined {
    if (!this.envGlobals.has(name)) this.envGlobals.set(name, this.env.global?.(name, this) ?? null);
    return this.envGlobals.get(name) ?? undefined;
  }

  /** The function `name` defined in the files, as seen from `file` (its statics first). */
  function(name: string, file: string): FunctionDef | undefined {
    // Memoised per program, not per instance (analysis.ts): a review runs a program in hundreds of cells.
    return resolveFunction(this.program, name, file);
  }

  literal(id: number, bytes: readonly number[]): Obj {
    let o = this.literals.get(id);
    if (o === undefined) {
      // In .rodata, as the kernel has it: a write through a pointer to a literal faults.
      o = this.mem.alloc(bytes.length, "literal", `string literal`, { readonly: true });
      // Filled here, not by a store (the C's stores into it fault); from the slab as other small objects are.
      o.bytes.set(bytes);
      this.literals.set(id, o);
    }
    return o;
  }

  /** The object standing for a function (its address is the function pointer's value). */
  functionObj(key: string, callee: Callee, label: string): Obj {
    let o = this.fnObjs.get(key);
    if (o === undefined) {
      o = this.mem.alloc(1, "function", label, { readonly: true, callee });
      this.fnObjs.set(key, o);
    }
    return o;
  }

  // ---- threads -----------------------------------------------------------------------------------------

  /** A new kernel thread that will call `fn` (a function of the files) with `args`. */
  spawn(name: string, fn: string, args: readonly Value[] = []): Thread {
    const id = this.nextThread++;
    const ex = new Exec(this, null);
    const th = new Thread(id, name, ex, ex.callByName(fn, args, 0));
    ex.thread = th;
    this.threads.push(th);
    return th;
  }

  /** Resumes a thread until its next scheduling point or its end; returns false when it had ended. */
  step(th: Thread): boolean {
    if (th.result !== null) return false;
    if (th.waiting !== null && !th.waiting.ready())
      throw new Error(`thread ${th.name} is blocked: ${th.waiting.reason}`);
    const resumed = th.waiting !== null || th.exec.started;
    th.waiting = null;
    th.exec.started = true;
    this.current = th;
    if (resumed && this.wants("resume")) this.emit({ type: "resume", thread: th.id, site: th.exec.site() });
    try {
      const r = th.gen.next();
      if (r.done) th.result = { status: "done", value: r.value };
      else {
        if (r.value.k === "wait") th.waiting = r.value;
        if (this.wants("suspend"))
          this.emit({ type: "suspend", thread: th.id, reason: r.value.reason, site: th.exec.site() });
      }
    } catch (e) {
      th.result = this.failure(e, th);
    } finally {
      this.current = null;
    }
    if (th.result !== null && this.wants("end")) this.emit({ type: "end", thread: th.id, result: th.result });
    return true;
  }

  private failure(e: unknown, th: Thread): ThreadResult {
    const site = th.exec.site();
    if (e instanceof UnknownError) return { status: "unknown", what: e.what, site: e.site };
    if (e instanceof Fault) {
      const inner = th.exec.innermost();
      const where = inner?.prelude ? ` (in ${inner.name})` : "";
      return { status: "fault", kind: e.kind, detail: `${e.message}${where}`, site };
    }
    if (e instanceof Unsupported) return { status: "unknown", what: e.message, site };
    throw e;
  }

  /** Runs threads until all end or none can run, choosing at each scheduling point with `schedule`. */
  run(schedule: Scheduler = roundRobin): RunOutcome {
    let last: Thread | null = null;
    for (;;) {
      const runnable = this.threads.filter((t) => t.runnable);
      if (runnable.length === 0) break;
      const th = schedule(runnable, last);
      this.step(th);
      last = th;
    }
    const blocked = this.threads
      .filter((t) => !t.done)
      .map((t) => ({ thread: t.name, reason: t.waiting?.reason ?? "?" }));
    return { finished: blocked.length === 0, blocked };
  }

  /** Runs `fn` on a new thread to its end (no other thread runs); a suspension that cannot resume is unknown. */
  call(fn: string, args: readonly Value[] = []): ThreadResult {
    const th = this.spawn(fn, fn, args);
    while (!th.done) {
      if (!th.runnable) {
        th.result = {
          status: "unknown",
          what: `blocked forever (${th.waiting?.reason ?? "?"}) with no other thread`,
          site: th.exec.site(),
        };
        break;
      }
      this.step(th);
    }
    return th.result as ThreadResult;
  }

  // ---- MachineApi ----------------------------------------------------------------------------------------

  alloc(size: number, label: string, to: CType = T.void): Value & { k: "ptr" } {
    return ptrInto(this.mem.alloc(size, "heap", label), 0, to);
  }

  free(p: Value, at: string): void {
    if (p.k !== "ptr" || p.addr === 0n) return;
    const o = p.obj ?? this.mem.find(p.addr);
    if (o === null || o.base !== p.addr)
      throw new Fault("bad-pointer", `free of 0x${p.addr.toString(16)}, not an allocation`);
    this.mem.free(o, at);
  }

  cstring(p: Value): string {
    if (p.k !== "ptr") throw new Unsupported("a string argument that is not a pointer");
    const { obj, off } = this.mem.check(p.obj, p.addr, 1, false);
    // A read-only object of plain bytes (a string literal) never changes: its strings are decoded once.
    const cache = obj.readonly && obj.io === null ? this.strings(obj) : null;
    const known = cache?.get(off);
    if (known !== undefined) return known;
    // Plain bytes are searched in place (a copy of the object's rest per string is most of the cost).
    const rest = obj.io === null ? obj.bytes.subarray(off, obj.size) : readBytes(obj, off, obj.size - off);
    const end = rest.indexOf(0);
    if (end < 0) throw new Fault("out-of-bounds", `string without NUL in ${obj.label}`);
    const s = UTF8.decode(rest.subarray(0, end));
    cache?.set(off, s);
    return s;
  }

  /** The strings cstring decoded from a read-only object, by offset. */
  private strings(obj: Obj): Map<number, string> {
    let m = this.readonlyStrings.get(obj);
    if (m === undefined) {
      m = new Map();
      this.readonlyStrings.set(obj, m);
    }
    return m;
  }

  private readonly readonlyStrings = new WeakMap<Obj, Map<number, string>>();

  read(p: Value, size: number): Uint8Array {
    if (p.k !== "ptr") throw new Unsupported("reading memory through a non-pointer");
    const { obj, off } = this.mem.check(p.obj, p.addr, size, false);
    return readBytes(obj, off, size);
  }

  write(p: Value, bytes: Uint8Array): void {
    if (p.k !== "ptr") throw new Unsupported("writing memory through a non-pointer");
    const { obj, off } = this.mem.check(p.obj, p.addr, bytes.length, true);
    writeBytes(obj, off, bytes);
  }

  sizeOf(t: CType): number {
    return this.structs.sizeOf(t);
  }

  object(opts: {
    size: number;
    label: string;
    kind?: ObjKind;
    bytes?: Uint8Array;
    io?: IoHooks;
    readonly?: boolean;
  }): Obj {
    const o: { bytes?: Uint8Array; io?: IoHooks; readonly?: boolean } = {};
    if (opts.bytes !== undefined) o.bytes = opts.bytes;
    if (opts.io !== undefined) o.io = opts.io;
    if (opts.readonly !== undefined) o.readonly = opts.readonly;
    return this.mem.alloc(opts.size, opts.kind ?? "heap", opts.label, o);
  }

  find(addr: bigint): Obj | null {
    return addr < 4096n ? null : this.mem.find(addr);
  }

  structOf(tag: string): (CType & { k: "struct" }) | null {
    let ref = this.structRefs.get(tag);
    if (ref === undefined) {
      ref = null;
      for (let i = this.structs.defs.length - 1; i >= 0 && ref === null; i--) {
        const d = this.structs.defs[i] as StructDef;
        if (d.tag === tag && d.complete && !d.union) ref = { k: "struct", id: d.id, tag };
      }
      this.structRefs.set(tag, ref);
    }
    return ref;
  }

  /** structOf's answers by tag: the definitions are the program's, complete or not once loaded. */
  private readonly structRefs = new Map<string, (CType & { k: "struct" }) | null>();

  enumValue(name: string): bigint | undefined {
    return this.program.enums[name]?.v;
  }

  /** The thread being stepped, or null between steps. */
  running(): Thread | null {
    return this.current;
  }

  where(): { thread: ThreadInfo; site: Site; caller: string } | null {
    const th = this.current;
    if (th === null) return null;
    return { thread: th, site: th.exec.site(), caller: th.exec.callerName() };
  }

  *callFunction(fn: Value, args: readonly Value[]): Gen<Value> {
    const th = this.current;
    if (th === null) throw new Error("callFunction outside a running thread");
    return yield* th.exec.callValue(fn, args, th.exec.site().line);
  }

  /** A new kernel thread that will call through the function pointer `fn` with `args`. */
  spawnPointer(name: string, fn: Value, args: readonly Value[] = []): Thread {
    const id = this.nextThread++;
    const ex = new Exec(this, null);
    const th = new Thread(id, name, ex, ex.callValue(fn, args, 0));
    ex.thread = th;
    this.threads.push(th);
    return th;
  }
}

/** The evaluation of one thread: its call frames, and every C construct as a generator. */
export class Exec {
  readonly frames: Frame[] = [];
  started = false;
  constructor(
    readonly m: Machine,
    public thread: Thread | null,
  ) {}

  /** The variadic arguments of the innermost C function (va_start's). */
  get varargs(): readonly Value[] {
    return this.frame.varargs;
  }

  private get frame(): Frame {
    const f = this.frames[this.frames.length - 1];
    if (f === undefined) throw new Error("no frame");
    return f;
  }

  innermost(): Frame | null {
    return this.frames[this.frames.length - 1] ?? null;
  }

  /** The statement the thread is at in the posted code (prelude helpers report their caller's line). */
  site(): Site {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i] as Frame;
      if (!f.prelude) return { file: f.file, line: f.line };
    }
    const f = this.frames[0];
    return f === undefined ? { file: "?", line: 0 } : { file: f.file, line: f.line };
  }

  /** The interpreted function the posted-code site is in. */
  callerName(): string {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i] as Frame;
      if (!f.prelude) return f.name;
    }
    return this.frames[0]?.name ?? "?";
  }

  unknown(what: string, line?: number): UnknownError {
    const f = this.innermost();
    if (line !== undefined && f !== null && !f.prelude) return new UnknownError(what, { file: f.file, line });
    return new UnknownError(what, this.site());
  }

  /** The function the innermost frame runs (null: a static initialiser). */
  private fnNow(): FunctionDef | null {
    return this.frames[this.frames.length - 1]?.fn ?? null;
  }

  /** Whether an expression of the running function cannot suspend (evaluated by `exprS`/`lvalS`). */
  private sx(e: Expr): boolean {
    return this.m.sync.expr(e, this.fnNow());
  }

  /** Whether a statement of the running function runs as a plain function (`stmtS`). */
  private ss(s: Stmt): boolean {
    return this.m.sync.stmt(s, this.fnNow());
  }

  private tick(line: number): void {
    this.frame.line = line;
    if (++this.m.steps > this.m.maxSteps)
      throw this.unknown(`step limit of ${this.m.maxSteps} statements reached`);
  }

  // ---- calls -------------------------------------------------------------------------------------------

  /** Calls a function of the files (or the environment) by name: a thread's entry. */
  *callByName(name: string, args: readonly Value[], line: number): Gen<Value> {
    const def = this.m.entry(name);
    if (def !== undefined) return yield* this.callC(def, args, line);
    const env = this.m.env.fn(name);
    if (env !== undefined) return yield* this.callEnv(name, env, args, null);
    throw new UnknownError(`function ${name} is defined neither in the files nor by the environment`, {
      file: "?",
      line,
    });
  }

  *callC(def: FunctionDef, args: readonly Value[], _line: number): Gen<Value> {
    const frame = this.enterC(def, args);
    const c = this.m.sync.stmt(def.body, def) ? this.stmtS(def.body) : yield* this.stmt(def.body, null);
    return this.leaveC(frame, c);
  }

  /** callC of a function whose body runs as a plain function (`ss`), without a generator. */
  private callCS(def: FunctionDef, args: readonly Value[]): Value {
    const frame = this.enterC(def, args);
    return this.leaveC(frame, this.stmtS(def.body));
  }

  /** A C function's frame, its parameters bound to the arguments, pushed; the call event. */
  private enterC(def: FunctionDef, args: readonly Value[]): Frame {
    if (this.frames.length >= this.m.maxDepth) throw this.unknown(`call depth ${this.m.maxDepth} exceeded`);
    const prelude = this.m.preludeFiles.has(def.file);
    const scope: Scope = { names: null, vals: null, cleanups: null };
    const frame: Frame = {
      fn: def,
      name: def.name,
      file: def.file,
      line: def.line,
      scopes: [scope],
      prelude,
      varargs: def.t.variadic ? args.slice(def.params.length) : NO_VALUES,
    };
    for (let i = 0; i < def.params.length; i++) {
      const p = def.params[i] as { name: string | null; t: CType };
      const arg = args[i];
      if (arg === undefined) throw this.unknown(`${def.name}() called with ${args.length} arguments`);
      if (p.name !== null && this.canRegisterIn(def, p.name, p.t)) {
        // Its value is the argument's, stored next.
        const reg = this.newReg(p.t, VOID);
        this.storeReg(reg, this.conv(arg, p.t));
        declareIn(scope, p.name, reg);
        continue;
      }
      const obj = this.m.mem.alloc(this.m.structs.sizeOf(p.t), "local", p.name ?? `param ${i}`);
      const v: Var = { obj, t: p.t };
      this.store({ obj, addr: obj.base, t: p.t }, this.conv(arg, p.t));
      if (p.name !== null) declareIn(scope, p.name, v);
    }
    this.frames.push(frame);
    if (!prelude && this.m.wants("call"))
      this.m.emit({ type: "call", thread: this.thread?.id ?? 0, fn: def.name, site: this.site() });
    return frame;
  }

  /**
   * The end of a C call: its value, the parameters' end, the return event, the frame popped. The
   * parameters' scope has no cleanups (a guard or cleanup variable is in the body's block, ended with it).
   */
  private leaveC(frame: Frame, c: Completion): Value {
    let ret: Value = VOID;
    if (c !== null && c.k === "return") ret = c.v;
    else if (c !== null && c.k === "goto") throw this.unknown(`goto to a label outside its block`);
    const scope = frame.scopes[0] as Scope;
    if (scope.cleanups !== null) throw new Error("internal: cleanups on a function's parameters");
    endLocals(scope);
    if (!frame.prelude && this.m.wants("return"))
      this.m.emit({
        type: "return",
        thread: this.thread?.id ?? 0,
        fn: frame.name,
        value: ret,
        site: this.site(),
      });
    this.frames.pop();
    return ret;
  }

  *callEnv(name: string, fn: EnvFunction, args: readonly Value[], proto: FnType | null): Gen<Value> {
    const call = this.envCall(name, args, proto);
    const r = fn(call, this.m);
    return this.envReturn(call, proto, isGen(r) ? yield* r : r);
  }

  /** The start of an environment call: its arguments converted to the prototype's parameters, its event. */
  private envCall(name: string, args: readonly Value[], proto: FnType | null): EnvCall {
    let conv = args;
    const params = proto?.params ?? null;
    if (params !== null) {
      const out: Value[] = new Array(args.length);
      for (let i = 0; i < args.length; i++) {
        const a = args[i] as Value;
        const pt = params[i];
        out[i] = pt === undefined ? this.promoteArg(a) : this.conv(a, pt);
      }
      conv = out;
    }
    const site = this.site();
    const thread: ThreadInfo = this.thread ?? { id: 0, name: "init" };
    const call: EnvCall = { name, args: conv, site, caller: this.callerName(), thread };
    if (this.m.wants("env-call"))
      this.m.emit({ type: "env-call", thread: thread.id, api: name, caller: call.caller, args: conv, site });
    return call;
  }

  /** The end of an environment call: its event, and its value converted to the prototype's return type. */
  private envReturn(call: EnvCall, proto: FnType | null, v: Value): Value {
    if (this.m.wants("env-return"))
      this.m.emit({
        type: "env-return",
        thread: call.thread.id,
        api: call.name,
        value: v,
        site: this.site(),
      });
    return proto === null || proto.ret.k === "void" ? v : this.conv(v, proto.ret);
  }

  private promoteArg(a: Value): Value {
    return a.k === "int" && a.t.rank < 3 ? intVal(T.int, a.v) : a;
  }

  /** Calls through a function object (a function pointer's target). */
  private *callObj(obj: Obj, args: readonly Value[], line: number): Gen<Value> {
    const callee = obj.callee;
    if (callee === null)
      throw new Fault("bad-call", `call through a pointer to ${obj.label}, not a function`);
    if (callee.k === "c") return yield* this.callC(callee.def, args, line);
    const env = this.m.env.fn(callee.name) ?? nativeAsEnv(this, this.m.builtins.libc[callee.name]);
    if (env === undefined) throw this.unknown(`${callee.name}: not provided by the environment`, line);
    return yield* this.callEnv(callee.name, env, args, this.m.program.prototypes[callee.name] ?? null);
  }

  /** Calls through a function pointer value, as `(*fn)(args)` would. */
  *callValue(fv: Value, args: readonly Value[], line: number): Gen<Value> {
    if (fv.k !== "ptr") throw this.unknown(`call of a ${fv.k} value`, line);
    if (fv.addr === 0n) throw new Fault("null-deref", "call through a NULL function pointer");
    const obj = fv.obj ?? this.m.mem.find(fv.addr);
    if (obj === null || obj.base !== fv.addr)
      throw new Fault("bad-call", `call through 0x${fv.addr.toString(16)}, not a function`);
    return yield* this.callObj(obj, args, line);
  }

  /** A call's value (a struct returned by value: a copy the callee's storage cannot change afterwards). */
  private *call(e: Expr & { k: "call" }): Gen<Value> {
    return this.returned(yield* this.callee(e));
  }

  /** `call` of a call that cannot suspend (`sx`), without generators but where a jump needs one. */
  private callS(e: Expr & { k: "call" }): Value {
    return this.returned(this.calleeS(e));
  }

  private returned(v: Value): Value {
    if (v.k !== "agg") return v;
    const obj = this.temp(v.t, "returned struct");
    this.store({ obj, addr: obj.base, t: v.t }, v);
    return { k: "agg", t: v.t, obj, off: 0 };
  }

  /**
   * `callee` of a call that cannot suspend: a name no variable shadows (Suspension), so the call site's
   * target is the callee, run at once (a special form, a generator, to its end at once); what is left (the
   * errors) as `callee` says.
   */
  private calleeS(e: Expr & { k: "call" }): Value {
    const f = e.fn;
    const site = f.k === "id" ? this.callSite(e, f.name) : null;
    if (f.k !== "id" || site === null || site.shadow) return runSync(this.callee(e));
    const target = site.target;
    switch (target.k) {
      case "special":
        return runSync(target.f(this, e.args, e.line));
      case "idiom": {
        const r = target.f(this, this.argsNow(e.args), e.line);
        return isGen(r) ? runSync(r) : r;
      }
      case "c": {
        const def = target.def;
        const args = this.argsNow(e.args);
        return this.m.sync.stmt(def.body, def)
          ? this.callCS(def, args)
          : runSync(this.callC(def, args, e.line));
      }
      default:
        break;
    }
    const name = f.name;
    const env = this.m.env.fn(name);
    if (env !== undefined) {
      const proto = this.m.program.prototypes[name] ?? null;
      const call = this.envCall(name, this.argsNow(e.args), proto);
      const r = env(call, this.m);
      return this.envReturn(call, proto, isGen(r) ? runSync(r, name) : r);
    }
    const libc = this.m.builtins.libc[name];
    if (libc !== undefined) {
      const r = libc(this, this.argsNow(e.args), e.line);
      return isGen(r) ? runSync(r) : r;
    }
    return runSync(this.callee(e));
  }

  /** The values of a plain call's arguments (Suspension found none can suspend: no check per argument). */
  private argsNow(es: readonly Expr[]): Value[] {
    const out: Value[] = new Array(es.length);
    for (let i = 0; i < es.length; i++) out[i] = this.exprS(es[i] as Expr);
    return out;
  }

  /**
   * What `name(…)` at this call site resolves to, decided once per site (program and builtins never
   * change): a special form, an idiom, a function of the files, or else the environment's (asked per call).
   * `shadow`: a variable of that name may be in scope (the function declares one, or a global exists), so
   * each call still looks the name up first. Null in a static initialiser (no function to decide for).
   */
  private callSite(e: Expr & { k: "call" }, name: string): CallSite | null {
    const fn = this.frame.fn;
    if (fn === null) return null;
    // Decided per program and builtins (the machine's analysis stands for both), in the node's slot.
    const by = this.m.sync;
    const known = slots(e)[SITE];
    if (known !== undefined && known.by === by) return known.v as CallSite;
    const shadow = declaredNames(fn).has(name) || this.m.global(name, fn.file) !== undefined;
    const site: CallSite = { shadow, target: this.callTarget(name) };
    slots(e)[SITE] = { by, v: site };
    return site;
  }

  private callTarget(name: string): CallTarget {
    const special = this.m.builtins.special[name];
    if (special !== undefined) return { k: "special", f: special };
    const idiom = this.m.builtins.idioms[name];
    if (idiom !== undefined) return { k: "idiom", f: idiom };
    const def = this.m.function(name, this.frame.file);
    if (def !== undefined) return { k: "c", def };
    return { k: "other" };
  }

  private *callee(e: Expr & { k: "call" }): Gen<Value> {
    const f = e.fn;
    const site = f.k === "id" ? this.callSite(e, f.name) : null;
    if (f.k === "id" && ((site !== null && !site.shadow) || this.lookupVar(f.name) === undefined)) {
      const name = f.name;
      const target = site?.target ?? this.callTarget(name);
      if (target.k === "special") return yield* target.f(this, e.args, e.line);
      if (target.k === "idiom") {
        const r = target.f(this, this.argsS(e.args) ?? (yield* this.args(e.args)), e.line);
        return isGen(r) ? yield* r : r;
      }
      if (target.k === "c") {
        const def = target.def;
        const args = this.argsS(e.args) ?? (yield* this.args(e.args));
        return this.m.sync.stmt(def.body, def)
          ? this.callCS(def, args)
          : yield* this.callC(def, args, e.line);
      }
      const proto = this.m.program.prototypes[name] ?? null;
      const env = this.m.env.fn(name);
      if (env !== undefined) {
        // callEnv without a generator of its own (most environment functions return at once).
        const call = this.envCall(name, this.argsS(e.args) ?? (yield* this.args(e.args)), proto);
        const r = env(call, this.m);
        return this.envReturn(call, proto, isGen(r) ? yield* r : r);
      }
      const libc = this.m.builtins.libc[name];
      if (libc !== undefined) {
        const r = libc(this, this.argsS(e.args) ?? (yield* this.args(e.args)), e.line);
        return isGen(r) ? yield* r : r;
      }
      if (name.startsWith("__guard_enter_"))
        throw this.unknown(
          `guard(${name.slice("__guard_enter_".length)}): a lock class the interpreter does not know`,
          e.line,
        );
      throw this.unknown(`${name}(): not defined in the files and not provided by the environment`, e.line);
    }
    const fv = yield* this.expr(f);
    if (fv.k !== "ptr") throw this.unknown(`call of a ${fv.k} value`, e.line);
    if (fv.addr === 0n)
      throw new Fault("null-deref", `call through a NULL function pointer (${exprText(f)})`);
    const obj = fv.obj ?? this.m.mem.find(fv.addr);
    if (obj === null || obj.base !== fv.addr)
      throw new Fault("bad-call", `call through ${exprText(f)} = 0x${fv.addr.toString(16)}, not a function`);
    return yield* this.callObj(obj, this.argsS(e.args) ?? (yield* this.args(e.args)), e.line);
  }

  /** Calls `name` as C would from the current function: a function of the files, the environment, libc. */
  *invoke(name: string, args: readonly Value[], line: number): Gen<Value> {
    const def = this.m.function(name, this.frame.file);
    if (def !== undefined) return yield* this.callC(def, args, line);
    const env = this.m.env.fn(name);
    if (env !== undefined)
      return yield* this.callEnv(name, env, args, this.m.program.prototypes[name] ?? null);
    const libc = this.m.builtins.libc[name];
    if (libc !== undefined) {
      const r = libc(this, [...args], line);
      return isGen(r) ? yield* r : r;
    }
    throw this.unknown(`${name}(): not defined in the files and not provided by the environment`, line);
  }

  /** Registers `run` to be called when the innermost scope ends (a guard's unlock). */
  atScopeEnd(line: number, run: () => Gen<unknown>): void {
    const scope = this.frame.scopes[this.frame.scopes.length - 1];
    if (scope === undefined) throw this.unknown("a guard outside any scope", line);
    scope.cleanups ??= [];
    scope.cleanups.push({ line, run });
  }

  /** The arguments' values when none can suspend (else null: `args` evaluates them). */
  private argsS(es: readonly Expr[]): Value[] | null {
    for (let i = 0; i < es.length; i++) if (!this.sx(es[i] as Expr)) return null;
    const out: Value[] = new Array(es.length);
    for (let i = 0; i < es.length; i++) out[i] = this.exprS(es[i] as Expr);
    return out;
  }

  *args(es: readonly Expr[]): Gen<Value[]> {
    const out: Value[] = [];
    for (const a of es) out.push(this.sx(a) ? this.exprS(a) : yield* this.expr(a));
    return out;
  }

  /** Runs a function's C value (the static-initialiser context cannot). */
  conv(v: Value, t: CType): Value {
    try {
      return convert(v, t, this.m.mem);
    } catch (e) {
      if (e instanceof Unsupported) throw this.unknown(e.message);
      throw e;
    }
  }

  // ---- names -------------------------------------------------------------------------------------------

  private lookupVar(name: string): Var | Reg | undefined {
    const f = this.frames[this.frames.length - 1];
    if (f !== undefined)
      for (let i = f.scopes.length - 1; i >= 0; i--) {
        const scope = f.scopes[i] as Scope;
        const names = scope.names;
        if (names === null) continue;
        for (let j = names.length - 1; j >= 0; j--)
          if (names[j] === name) return (scope.vals as (Var | Reg)[])[j];
      }
    return this.m.global(name, f?.file ?? "");
  }

  /** The lvalue (or function designator) a name denotes. */
  private name(name: string, line: number): Lval {
    const v = this.lookupVar(name);
    if (v !== undefined) return this.varLval(v);
    const file = this.frame.file;
    const def = this.m.function(name, file);
    if (def !== undefined) {
      const key = def.static ? `${def.file}\u0000${name}` : name;
      const obj = this.m.functionObj(key, { k: "c", def }, name);
      return { obj, addr: obj.base, t: def.t };
    }
    const env = this.m.envGlobal(name);
    if (env !== undefined) return { obj: env.obj, addr: env.obj.base, t: env.t };
    const proto = this.m.program.prototypes[name];
    if (
      proto !== undefined ||
      this.m.env.fn(name) !== undefined ||
      this.m.builtins.libc[name] !== undefined
    ) {
      const obj = this.m.functionObj(name, { k: "env", name }, name);
      return { obj, addr: obj.base, t: proto ?? { k: "fn", ret: T.int, params: null, variadic: true } };
    }
    throw this.unknown(
      `identifier ${name}: not defined in the files and not provided by the environment`,
      line,
    );
  }

  /** The lvalue of a variable `lookupVar` found. */
  private varLval(v: Var | Reg): Lval {
    if (v.reg === true) return v.lv;
    if (v.broken !== undefined) throw v.broken;
    return { obj: v.obj, addr: v.obj.base, t: v.t };
  }

  // ---- memory ------------------------------------------------------------------------------------------

  load(lv: Lval): Value {
    const t = lv.t;
    const reg = lv.reg;
    if (reg !== undefined) {
      if (reg.v !== null) return reg.v;
      // A pointer stored before its object was known: found again, as a load from memory finds it.
      return { k: "ptr", t: reg.t as PtrType, addr: reg.addr, obj: this.m.mem.find(reg.addr) };
    }
    switch (t.k) {
      case "int": {
        const mem = this.m.mem;
        const obj = mem.target(lv.obj, lv.addr, false);
        const off = mem.offset(obj, lv.addr, t.bits / 8, false);
        if (lv.bits === undefined) {
          // Already in the range of t (read at its width and signedness), but for _Bool.
          const raw = loadInt(obj, off, t);
          return t.rank === 0 ? intVal(t, raw) : { k: "int", t, v: raw };
        }
        const { width, shift } = lv.bits;
        let v = loadInt(obj, off, { ...t, signed: false });
        v = (v >> BigInt(shift)) & ((1n << BigInt(width)) - 1n);
        if (t.signed && v >> BigInt(width - 1) === 1n) v -= 1n << BigInt(width);
        return intVal(t, v);
      }
      case "ptr": {
        const mem = this.m.mem;
        const obj = mem.target(lv.obj, lv.addr, false);
        const addr = loadInt(obj, mem.offset(obj, lv.addr, 8, false), T.ulong);
        return { k: "ptr", t, addr, obj: addr < 4096n ? null : this.m.mem.find(addr) };
      }
      case "struct":
      case "array": {
        const { obj, off } = this.m.mem.check(lv.obj, lv.addr, this.m.structs.sizeOf(t), false);
        return { k: "agg", t, obj, off };
      }
      case "fn": {
        if (lv.obj === null) throw new Fault("bad-call", "function designator without a function");
        return { k: "ptr", t: ptrTo(t), addr: lv.addr, obj: lv.obj };
      }
      case "float":
        throw this.unknown("floating-point value");
      case "void":
        throw this.unknown("read of a void object");
    }
  }

  store(lv: Lval, v: Value): void {
    const t = lv.t;
    const reg = lv.reg;
    if (reg !== undefined) {
      this.storeReg(reg, v);
      return;
    }
    switch (t.k) {
      case "int": {
        if (v.k !== "int") throw this.unknown(`store of a ${v.k} into ${typeName(t)}`);
        const mem = this.m.mem;
        const obj = mem.target(lv.obj, lv.addr, true);
        const off = mem.offset(obj, lv.addr, t.bits / 8, true);
        if (lv.bits === undefined) {
          storeInt(obj, off, t.bits, v.v);
          return;
        }
        const { width, shift } = lv.bits;
        const mask = ((1n << BigInt(width)) - 1n) << BigInt(shift);
        const old = loadInt(obj, off, { ...t, signed: false });
        storeInt(obj, off, t.bits, (old & ~mask) | ((v.v << BigInt(shift)) & mask));
        return;
      }
      case "ptr": {
        if (v.k !== "ptr") throw this.unknown(`store of a ${v.k} into ${typeName(t)}`);
        const mem = this.m.mem;
        const obj = mem.target(lv.obj, lv.addr, true);
        storeInt(obj, mem.offset(obj, lv.addr, 8, true), 64, v.addr);
        return;
      }
      case "struct":
      case "array": {
        if (v.k !== "agg") throw this.unknown(`store of a ${v.k} into ${typeName(t)}`);
        const size = this.m.structs.sizeOf(t);
        const { obj, off } = this.m.mem.check(lv.obj, lv.addr, size, true);
        const src = this.m.mem.check(v.obj, v.obj.base + BigInt(v.off), size, false);
        writeBytes(obj, off, readBytes(src.obj, src.off, size));
        return;
      }
      default:
        throw this.unknown(`store into ${typeName(t)}`);
    }
  }

  /** `store` into a register variable: what a load of the bytes written would give. */
  private storeReg(reg: Reg, v: Value): void {
    const t = reg.t;
    if (t.k === "int") {
      if (v.k !== "int") throw this.unknown(`store of a ${v.k} into ${typeName(t)}`);
      // The bytes of t's width, read back with t's signedness (a _Bool reads as 0 or 1).
      reg.v = v.t === t ? v : intVal(t, t.signed ? BigInt.asIntN(t.bits, v.v) : BigInt.asUintN(t.bits, v.v));
      return;
    }
    if (v.k !== "ptr") throw this.unknown(`store of a ${v.k} into ${typeName(t)}`);
    const addr = v.addr;
    const o = v.obj;
    // The object a load finds for the address: NULL and small values have none; an object holding it (or
    // one past its end) is the only one that ever can (objects are apart and never move); otherwise it is
    // looked up at the load, when a newer object may hold it.
    if (addr < 4096n) reg.v = { k: "ptr", t, addr, obj: null };
    else if (o !== null && addr >= o.base && addr <= o.base + BigInt(o.size))
      reg.v = v.t === t ? v : { k: "ptr", t, addr, obj: o };
    else {
      const found = this.m.mem.find(addr);
      reg.v = found === null ? null : { k: "ptr", t, addr, obj: found };
      reg.addr = addr;
    }
  }

  /** A new register variable of type t, zero as a new object's bytes are. */
  private newReg(t: IntType | PtrType, init?: Value): Reg {
    const v: Value = init ?? (t.k === "int" ? intVal(t, 0n) : { k: "ptr", t, addr: 0n, obj: null });
    const lv: { obj: null; addr: bigint; t: CType; reg?: Reg } = { obj: null, addr: 0n, t };
    const reg: Reg = { reg: true, t, v, addr: 0n, lv };
    lv.reg = reg;
    return reg;
  }

  /** Whether a variable of the current function can be a register (registerBlockers). */
  private canRegister(name: string, t: CType): t is IntType | PtrType {
    const fn = this.frame.fn;
    return fn !== null && this.canRegisterIn(fn, name, t);
  }

  private canRegisterIn(fn: FunctionDef, name: string, t: CType): t is IntType | PtrType {
    return (t.k === "int" || t.k === "ptr") && !registerBlockers(fn, this.m.builtins).has(name);
  }

  /** Lvalue conversion with array and function decay (C11 6.3.2.1). */
  private rv(lv: Lval): Value {
    if (lv.t.k === "array") {
      if (lv.obj !== null) this.m.mem.check(lv.obj, lv.addr, 0, false);
      return { k: "ptr", t: ptrTo(lv.t.of), addr: lv.addr, obj: lv.obj };
    }
    return this.load(lv);
  }

  /** A temporary holding a struct value (a function's result, a compound literal). */
  private temp(t: CType, label: string): Obj {
    return this.m.mem.alloc(this.m.structs.sizeOf(t), "temp", label);
  }

  // ---- expressions -------------------------------------------------------------------------------------
  //
  // Two evaluators share every operation: `exprS`/`lvalS` run an expression that cannot suspend (`sx`: no
  // call but of what cannot suspend either, analysis.ts's Suspension) as plain functions; the generators
  // `expr`/`lval` run the others, and evaluate each operand that cannot suspend with the plain ones. A call
  // is the only thing that can reach a scheduling point, so the generators remain exactly as resumable as
  // before; the plain ones spare a generator object per node (most of the expressions of kernel C).

  /** The lvalue of an expression that cannot suspend. */
  lvalS(e: Expr): Lval {
    switch (e.k) {
      case "id":
        return this.name(e.name, e.line);
      case "deref":
        return this.derefLval(this.exprS(e.e), e.line);
      case "index": {
        const a = this.exprS(e.e);
        return this.indexLval(a, this.exprS(e.i), e.line);
      }
      case "member": {
        if (e.arrow) {
          // p->m: the member of what p points to, without an lvalue of *p first.
          const p = this.exprS(e.e);
          if (p.k !== "ptr") throw this.unknown(`-> on a ${p.k}`, e.line);
          return this.memberOf(e, p.obj, p.addr, p.t.to);
        }
        const base = isLvalueExpr(e.e) ? this.lvalS(e.e) : this.aggBase(this.exprS(e.e), e.line);
        return this.memberOf(e, base.obj, base.addr, base.t);
      }
      case "str":
        return this.strLval(e);
      case "compound": {
        const obj = this.temp(e.t, `compound literal (${typeName(e.t)})`);
        runSync(this.initialise(obj, 0, e.t, e.init));
        return { obj, addr: obj.base, t: e.t };
      }
      default:
        return this.valueLval(this.exprS(e), e);
    }
  }

  *lval(e: Expr): Gen<Lval> {
    if (this.sx(e)) return this.lvalS(e);
    switch (e.k) {
      case "deref":
        return this.derefLval(this.sx(e.e) ? this.exprS(e.e) : yield* this.expr(e.e), e.line);
      case "index": {
        const a = this.sx(e.e) ? this.exprS(e.e) : yield* this.expr(e.e);
        const i = this.sx(e.i) ? this.exprS(e.i) : yield* this.expr(e.i);
        return this.indexLval(a, i, e.line);
      }
      case "member": {
        let base: Lval;
        if (e.arrow) base = this.arrowBase(yield* this.expr(e.e), e.line);
        else if (isLvalueExpr(e.e)) base = yield* this.lval(e.e);
        else base = this.aggBase(yield* this.expr(e.e), e.line);
        return this.memberOf(e, base.obj, base.addr, base.t);
      }
      case "compound": {
        const obj = this.temp(e.t, `compound literal (${typeName(e.t)})`);
        yield* this.initialise(obj, 0, e.t, e.init);
        return { obj, addr: obj.base, t: e.t };
      }
      default:
        return this.valueLval(yield* this.expr(e), e);
    }
  }

  private derefLval(p: Value, line: number): Lval {
    if (p.k !== "ptr") throw this.unknown(`dereference of a ${p.k === "int" ? typeName(p.t) : p.k}`, line);
    return { obj: p.obj, addr: p.addr, t: p.t.to };
  }

  private indexLval(a: Value, i: Value, line: number): Lval {
    const p = a.k === "ptr" ? a : i;
    const n = a.k === "ptr" ? i : a;
    if (p.k !== "ptr" || n.k !== "int") throw this.unknown("subscript of a non-pointer", line);
    const size = this.m.structs.sizeOf(p.t.to);
    return { obj: p.obj, addr: BigInt.asUintN(64, p.addr + n.v * BigInt(size)), t: p.t.to };
  }

  private arrowBase(p: Value, line: number): Lval {
    if (p.k !== "ptr") throw this.unknown(`-> on a ${p.k}`, line);
    return { obj: p.obj, addr: p.addr, t: p.t.to };
  }

  private aggBase(v: Value, line: number): Lval {
    if (v.k !== "agg") throw this.unknown(`. on a ${v.k}`, line);
    return { obj: v.obj, addr: v.obj.base + BigInt(v.off), t: v.t };
  }

  /** memberAt for a member expression: its field decided once per struct definition (the node's slot). */
  private memberOf(e: Expr & { k: "member" }, obj: Obj | null, at: bigint, t: CType): Lval {
    const known = slots(e)[MEMBER];
    if (known === undefined || t.k !== "struct" || known.def !== this.m.structs.get(t)) {
      const lv = this.memberAt(obj, at, t, e.name, e.line);
      if (t.k === "struct") {
        const def = this.m.structs.get(t);
        const field = this.m.structs.member(t, e.name);
        if (def.complete && field !== null) slots(e)[MEMBER] = { def, field, off: BigInt(field.offset) };
      }
      return lv;
    }
    const f = known.field;
    const addr = at + known.off;
    return f.bits === undefined ? { obj, addr, t: f.type } : { obj, addr, t: f.type, bits: f.bits };
  }

  /** The lvalue of member `name` of the `t` at `addr` (of `obj`). */
  private memberAt(obj: Obj | null, at: bigint, t: CType, name: string, line: number): Lval {
    if (t.k !== "struct") throw this.unknown(`member ${name} of ${typeName(t)}`, line);
    this.complete(t, line);
    const f = this.m.structs.member(t, name);
    if (f === null) throw this.unknown(`struct ${t.tag} has no member ${name}`, line);
    const addr = at + BigInt(f.offset);
    return f.bits === undefined ? { obj, addr, t: f.type } : { obj, addr, t: f.type, bits: f.bits };
  }

  private strLval(e: Expr & { k: "str" }): Lval {
    const obj = this.m.literal(e.id, e.bytes);
    return { obj, addr: obj.base, t: { k: "array", of: T.char, n: e.bytes.length } };
  }

  private valueLval(v: Value, e: Expr): Lval {
    if (v.k === "agg") return { obj: v.obj, addr: v.obj.base + BigInt(v.off), t: v.t };
    throw this.unknown(`not an lvalue: ${exprText(e)}`, e.line);
  }

  /** The value of an expression that cannot suspend. */
  exprS(e: Expr): Value {
    switch (e.k) {
      case "num": {
        // A constant's value, made once (values are immutable).
        const known = slots(e)[NUM];
        if (known !== undefined) return known;
        const v = e.t.k === "int" ? intVal(e.t, e.v) : this.conv(intVal(T.long, e.v), e.t);
        slots(e)[NUM] = v;
        return v;
      }
      case "id": {
        // A variable first (most names are), as `name` finds it; else an enumerator it does not shadow.
        const v = this.lookupVar(e.name);
        if (v !== undefined) return this.rv(this.varLval(v));
        const en = this.m.program.enums[e.name];
        if (en !== undefined && en.t.k === "int") return intVal(en.t, en.v);
        return this.rv(this.name(e.name, e.line));
      }
      case "str":
      case "deref":
      case "index":
      case "member":
      case "compound":
        return this.rv(this.lvalS(e));
      case "addr":
        return this.addrOf(this.lvalS(e.e), e.line);
      case "unary":
        return this.unaryOp(e.op, this.exprS(e.e), e.line);
      case "incdec":
        return this.incdecOp(e, this.lvalS(e.e));
      case "binary": {
        const l = this.exprS(e.l);
        return this.binary(e.op, l, this.exprS(e.r), e.line);
      }
      case "logical": {
        const l = this.truth(this.exprS(e.l), e.line);
        if (e.op === "&&" ? !l : l) return intVal(T.int, e.op === "&&" ? 0n : 1n);
        return intVal(T.int, this.truth(this.exprS(e.r), e.line) ? 1n : 0n);
      }
      case "assign": {
        const lv = this.lvalS(e.l);
        return this.assignOp(e.op, lv, this.exprS(e.r), e.line);
      }
      case "cond": {
        const c = this.exprS(e.c);
        const pick = this.truth(c, e.line);
        const t = this.staticType(e);
        const v = pick ? (e.t === null ? c : this.exprS(e.t)) : this.exprS(e.f);
        return t.k === "void" ? VOID : this.conv(v, t);
      }
      case "call":
        return this.callS(e);
      case "cast":
        return this.castOp(this.exprS(e.e), e.t);
      case "sizeof": {
        const t = e.t ?? this.staticType(e.e as Expr);
        if (t.k === "array" && t.n === null) throw this.unknown("sizeof of an incomplete array", e.line);
        if (t.k === "struct" && !this.m.structs.get(t).complete)
          throw this.unknown(`sizeof of incomplete struct ${t.tag}`, e.line);
        return intVal(T.ulong, BigInt(this.m.structs.sizeOf(t)));
      }
      case "alignof":
        return intVal(T.ulong, BigInt(this.m.structs.alignOf(e.t)));
      case "offsetof": {
        if (e.t.k !== "struct") throw this.unknown(`offsetof in ${typeName(e.t)}`, e.line);
        const f = this.m.structs.member(e.t, e.path[0] as string);
        if (f === null) throw this.unknown(`struct ${e.t.tag} has no member ${e.path[0]}`, e.line);
        return intVal(T.ulong, BigInt(f.offset));
      }
      case "comma":
        this.exprS(e.l);
        return this.exprS(e.r);
      case "stmtexpr": {
        if (e.body.k !== "block") throw this.unknown("statement expression", e.line);
        return runSync(this.stmtExpr(e.body));
      }
      case "unsupported":
        throw this.unknown(`unsupported construct: ${e.what}`, e.line);
    }
  }

  *expr(e: Expr): Gen<Value> {
    if (this.sx(e)) return this.exprS(e);
    switch (e.k) {
      case "deref":
      case "index":
      case "member":
      case "compound":
        return this.rv(yield* this.lval(e));
      case "addr":
        return this.addrOf(yield* this.lval(e.e), e.line);
      case "unary":
        return this.unaryOp(e.op, yield* this.expr(e.e), e.line);
      case "incdec":
        return this.incdecOp(e, yield* this.lval(e.e));
      case "binary": {
        const l = this.sx(e.l) ? this.exprS(e.l) : yield* this.expr(e.l);
        const r = this.sx(e.r) ? this.exprS(e.r) : yield* this.expr(e.r);
        return this.binary(e.op, l, r, e.line);
      }
      case "logical": {
        const l = this.truth(this.sx(e.l) ? this.exprS(e.l) : yield* this.expr(e.l), e.line);
        if (e.op === "&&" ? !l : l) return intVal(T.int, e.op === "&&" ? 0n : 1n);
        return intVal(
          T.int,
          this.truth(this.sx(e.r) ? this.exprS(e.r) : yield* this.expr(e.r), e.line) ? 1n : 0n,
        );
      }
      case "assign": {
        const lv = this.sx(e.l) ? this.lvalS(e.l) : yield* this.lval(e.l);
        const r = this.sx(e.r) ? this.exprS(e.r) : yield* this.expr(e.r);
        return this.assignOp(e.op, lv, r, e.line);
      }
      case "cond": {
        const c = this.sx(e.c) ? this.exprS(e.c) : yield* this.expr(e.c);
        const pick = this.truth(c, e.line);
        const t = this.staticType(e);
        const v = pick ? (e.t === null ? c : yield* this.expr(e.t)) : yield* this.expr(e.f);
        return t.k === "void" ? VOID : this.conv(v, t);
      }
      case "call":
        return yield* this.call(e);
      case "cast":
        return this.castOp(yield* this.expr(e.e), e.t);
      case "comma":
        if (this.sx(e.l)) this.exprS(e.l);
        else yield* this.expr(e.l);
        return yield* this.expr(e.r);
      case "stmtexpr": {
        if (e.body.k !== "block") throw this.unknown("statement expression", e.line);
        return yield* this.stmtExpr(e.body);
      }
      default:
        // Every other kind cannot suspend (`sx`).
        return this.exprS(e);
    }
  }

  private addrOf(lv: Lval, line: number): Value {
    if (lv.bits !== undefined) throw this.unknown("address of a bit-field", line);
    if (lv.reg !== undefined)
      throw new Error(`internal: the address of a register variable (line ${line}): registerNames missed it`);
    return { k: "ptr", t: ptrTo(lv.t), addr: lv.addr, obj: lv.obj };
  }

  private unaryOp(op: "-" | "+" | "~" | "!", v: Value, line: number): Value {
    if (op === "!") return intVal(T.int, this.truth(v, line) ? 0n : 1n);
    if (v.k !== "int") throw this.unknown(`unary ${op} on a ${v.k}`, line);
    const t = promote(v.t);
    if (op === "-") return intVal(t, -v.v);
    if (op === "~") return intVal(t, ~v.v);
    return intVal(t, v.v);
  }

  private incdecOp(e: Expr & { k: "incdec" }, lv: Lval): Value {
    const old = this.load(lv);
    const nv = this.conv(this.binary(e.op === "++" ? "+" : "-", old, ONE, e.line), lv.t);
    this.store(lv, nv);
    return e.prefix ? nv : old;
  }

  private assignOp(op: BinOp | null, lv: Lval, r: Value, line: number): Value {
    // The value of an assignment is the value stored (read back only where the store narrows it, a
    // bit-field, or for an aggregate): a register or a served member is not read again.
    const plain = lv.bits === undefined && lv.t.k !== "struct" && lv.t.k !== "array";
    const v = op === null ? this.conv(r, lv.t) : this.conv(this.binary(op, this.load(lv), r, line), lv.t);
    this.store(lv, v);
    return plain ? v : this.load(lv);
  }

  private castOp(v: Value, t: CType): Value {
    if (t.k === "void") return VOID;
    return this.conv(v, t);
  }

  /** An expression statement that can suspend. */
  private *exprStmt(e: Expr): Gen<void> {
    if (e.k === "call") yield* this.call(e);
    else if (e.k === "assign" && e.r.k === "call" && this.sx(e.l)) {
      const lv = this.lvalS(e.l);
      this.assignOp(e.op, lv, yield* this.call(e.r), e.line);
    } else yield* this.expr(e);
  }

  /** GNU `({ …; e; })`: the value of the last expression statement. */
  private *stmtExpr(body: Stmt & { k: "block" }): Gen<Value> {
    const scope: Scope = { names: null, vals: null, cleanups: null };
    this.frame.scopes.push(scope);
    let v: Value = VOID;
    const last = body.body.length - 1;
    for (let i = 0; i <= last; i++) {
      const s = body.body[i] as Stmt;
      if (i === last && s.k === "expr") {
        this.tick(s.line);
        v = this.sx(s.e) ? this.exprS(s.e) : yield* this.expr(s.e);
        break;
      }
      const c = this.ss(s) ? this.stmtS(s) : yield* this.stmt(s, null);
      if (c !== null) throw this.unknown("jump out of a statement expression", s.line);
    }
    const frame = this.frame;
    yield* this.exitScope(scope, frame);
    frame.scopes.pop();
    return v;
  }

  truth(v: Value, line: number): boolean {
    try {
      return truthy(v);
    } catch (e) {
      if (e instanceof Unsupported) throw this.unknown(e.message, line);
      throw e;
    }
  }

  /** A binary operator on values, by C's rules for integers and pointers. */
  binary(
    op: Expr & { k: "binary" } extends { op: infer O } ? O : never,
    l: Value,
    r: Value,
    line: number,
  ): Value {
    if (l.k === "int" && r.k === "int") {
      if ((op === "/" || op === "%") && r.v === 0n) throw new Fault("div-by-zero", `${op} by zero`);
      if (op === "<<" || op === ">>") {
        const t = promote(l.t);
        if (r.v < 0n || r.v >= BigInt(t.bits))
          throw this.unknown(`shift by ${r.v} of a ${t.bits}-bit value (undefined in C)`, line);
      }
      const v = foldBinary(op, { v: l.v, t: l.t }, { v: r.v, t: r.t });
      if (v === null) throw this.unknown(`${op} on ${typeName(l.t)} and ${typeName(r.t)}`, line);
      return intVal(v.t, v.v);
    }
    if (l.k === "ptr" && r.k === "int" && (op === "+" || op === "-"))
      return this.ptrAdd(l, op === "+" ? r.v : -r.v);
    if (l.k === "int" && r.k === "ptr" && op === "+") return this.ptrAdd(r, l.v);
    if (l.k === "ptr" && r.k === "ptr" && op === "-") {
      const size = BigInt(Math.max(this.m.structs.sizeOf(l.t.to), 1));
      const diff = BigInt.asIntN(64, l.addr - r.addr);
      return intVal(T.long, diff / size);
    }
    if (
      (l.k === "ptr" || r.k === "ptr") &&
      (l.k === "ptr" || l.k === "int") &&
      (r.k === "ptr" || r.k === "int")
    ) {
      const a = l.k === "ptr" ? l.addr : BigInt.asUintN(64, l.v);
      const b = r.k === "ptr" ? r.addr : BigInt.asUintN(64, r.v);
      switch (op) {
        case "==":
          return intVal(T.int, a === b ? 1n : 0n);
        case "!=":
          return intVal(T.int, a !== b ? 1n : 0n);
        case "<":
          return intVal(T.int, a < b ? 1n : 0n);
        case ">":
          return intVal(T.int, a > b ? 1n : 0n);
        case "<=":
          return intVal(T.int, a <= b ? 1n : 0n);
        case ">=":
          return intVal(T.int, a >= b ? 1n : 0n);
        default:
          break;
      }
    }
    throw this.unknown(`${op} on ${describe(l)} and ${describe(r)}`, line);
  }

  private ptrAdd(p: Value & { k: "ptr" }, n: bigint): Value {
    const size = BigInt(this.m.structs.sizeOf(p.t.to));
    return { k: "ptr", t: p.t, addr: BigInt.asUintN(64, p.addr + n * size), obj: p.obj };
  }

  /** The type of an expression, without evaluating it (sizeof, conditional results). */
  staticType(e: Expr): CType {
    switch (e.k) {
      case "num":
        return e.t;
      case "str":
        return { k: "array", of: T.char, n: e.bytes.length };
      case "id": {
        const v = this.lookupVar(e.name);
        if (v !== undefined) return v.t;
        const en = this.m.program.enums[e.name];
        if (en !== undefined) return en.t;
        return this.name(e.name, e.line).t;
      }
      case "unary":
        if (e.op === "!") return T.int;
        return this.arith(this.staticType(e.e), e.line);
      case "deref": {
        const t = decay(this.staticType(e.e));
        if (t.k !== "ptr") throw this.unknown(`dereference of ${typeName(t)}`, e.line);
        return t.to;
      }
      case "addr":
        return ptrTo(this.staticType(e.e));
      case "incdec":
        return this.staticType(e.e);
      case "binary": {
        const l = decay(this.staticType(e.l));
        const r = decay(this.staticType(e.r));
        if (["==", "!=", "<", ">", "<=", ">="].includes(e.op)) return T.int;
        if (l.k === "ptr" && r.k === "ptr") return T.long;
        if (l.k === "ptr") return l;
        if (r.k === "ptr") return r;
        if (e.op === "<<" || e.op === ">>") return this.arith(l, e.line);
        return usual(this.arith(l, e.line), this.arith(r, e.line));
      }
      case "logical":
        return T.int;
      case "assign":
        return this.staticType(e.l);
      case "cond": {
        const a = decay(this.staticType(e.t ?? e.c));
        const b = decay(this.staticType(e.f));
        if (isInt(a) && isInt(b)) return usual(a, b);
        if (a.k === "ptr" && b.k === "ptr") return a.to.k === "void" ? b : a;
        if (a.k === "ptr") return a;
        if (b.k === "ptr") return b;
        return a;
      }
      case "call": {
        const f = e.fn;
        if (f.k === "id") {
          const def = this.m.function(f.name, this.frame.file);
          if (def !== undefined) return def.t.ret;
          const proto = this.m.program.prototypes[f.name];
          if (proto !== undefined) return proto.ret;
          if (this.lookupVar(f.name) === undefined)
            throw this.unknown(`type of ${f.name}(): no prototype`, e.line);
        }
        const t = decay(this.staticType(f));
        if (t.k === "ptr" && t.to.k === "fn") return t.to.ret;
        throw this.unknown(`type of a call through ${typeName(t)}`, e.line);
      }
      case "member": {
        let t = this.staticType(e.e);
        if (e.arrow) {
          t = decay(t);
          if (t.k !== "ptr") throw this.unknown(`-> on ${typeName(t)}`, e.line);
          t = t.to;
        }
        if (t.k !== "struct") throw this.unknown(`member ${e.name} of ${typeName(t)}`, e.line);
        const f = this.m.structs.member(t, e.name);
        if (f === null) throw this.unknown(`struct ${t.tag} has no member ${e.name}`, e.line);
        return f.type;
      }
      case "index": {
        const a = decay(this.staticType(e.e));
        const b = decay(this.staticType(e.i));
        const p = a.k === "ptr" ? a : b;
        if (p.k !== "ptr") throw this.unknown("subscript of a non-pointer", e.line);
        return p.to;
      }
      case "cast":
      case "compound":
        return e.t;
      case "sizeof":
      case "alignof":
      case "offsetof":
        return T.ulong;
      case "comma":
        return this.staticType(e.r);
      case "stmtexpr": {
        const last = e.body.k === "block" ? e.body.body.at(-1) : undefined;
        return last?.k === "expr" ? this.staticType(last.e) : T.void;
      }
      case "unsupported":
        throw this.unknown(`unsupported construct: ${e.what}`, e.line);
    }
  }

  /** A struct (or array of structs) neither the files nor the environment's headers define is an unknown. */
  complete(t: CType, line: number): void {
    const base = t.k === "array" ? t.of : t;
    if (base.k === "struct" && !this.m.structs.get(base).complete)
      throw this.unknown(
        `${this.m.structs.get(base).union ? "union" : "struct"} ${base.tag} is not defined (by the files or the environment's headers)`,
        line,
      );
    if (base.k === "array") this.complete(base, line);
  }

  arith(t: CType, line: number): IntType {
    if (t.k !== "int") throw this.unknown(`arithmetic on ${typeName(t)}`, line);
    return promote(t);
  }

  // ---- initialisers ------------------------------------------------------------------------------------

  /** Initialises the object at `off` of `obj`, of type `t`, from `init` (designated or positional). */
  *initialise(obj: Obj, off: number, t: CType, init: Init): Gen<void> {
    if (init.k === "expr") {
      const e = init.e;
      if (t.k === "array" && e.k === "str") {
        const n = Math.min(e.bytes.length, this.m.structs.sizeOf(t));
        writeBytes(obj, off, Uint8Array.from(e.bytes.slice(0, n)));
        return;
      }
      const v = this.sx(e) ? this.exprS(e) : yield* this.expr(e);
      this.store({ obj, addr: obj.base + BigInt(off), t }, this.conv(v, t));
      return;
    }
    if (t.k === "struct") {
      const def = this.m.structs.get(t);
      let next = 0;
      for (const item of init.items) {
        let idx = next;
        let path = item.design;
        const first = path[0];
        if (first !== undefined) {
          if (!("field" in first)) throw this.unknown(`array designator in ${typeName(t)}`, init.line);
          const direct = def.fields.findIndex((f) => f.name === first.field);
          if (direct < 0) {
            const f = this.m.structs.member(t, first.field);
            if (f === null) throw this.unknown(`struct ${t.tag} has no member ${first.field}`, init.line);
            yield* this.initPath(obj, off + f.offset, f.type, path.slice(1), item.init, f.bits);
            continue;
          }
          idx = direct;
          path = path.slice(1);
        }
        const f = def.fields[idx];
        if (f === undefined) throw this.unknown(`too many initialisers for ${typeName(t)}`, init.line);
        yield* this.initPath(obj, off + f.offset, f.type, path, item.init, f.bits);
        next = idx + 1;
        if (def.union) next = def.fields.length;
      }
      return;
    }
    if (t.k === "array") {
      const size = this.m.structs.sizeOf(t.of);
      let next = 0;
      for (const item of init.items) {
        let idx = next;
        let path = item.design;
        const first = path[0];
        if (first !== undefined) {
          if (!("index" in first)) throw this.unknown(`member designator in ${typeName(t)}`, init.line);
          idx = first.index;
          path = path.slice(1);
        }
        if (t.n !== null && idx >= t.n)
          throw this.unknown(`initialiser index ${idx} beyond ${typeName(t)}`, init.line);
        if (
          path.length === 0 &&
          item.init.k === "expr" &&
          isAggregate(t.of) &&
          !this.isAggValue(item.init.e, t.of)
        )
          throw this.unknown("brace elision in an initialiser", init.line);
        yield* this.initPath(obj, off + idx * size, t.of, path, item.init, undefined);
        next = idx + 1;
      }
      return;
    }
    // A scalar in braces: `int x = { 1 };`
    const item = init.items[0];
    if (item !== undefined) yield* this.initialise(obj, off, t, item.init);
  }

  private isAggValue(e: Expr, t: CType): boolean {
    if (t.k === "array" && e.k === "str") return true;
    const st = this.staticType(e);
    return st.k === t.k;
  }

  private *initPath(
    obj: Obj,
    off: number,
    t: CType,
    path: Init extends never ? never : readonly ({ field: string } | { index: number })[],
    init: Init,
    bits: { width: number; shift: number } | undefined,
  ): Gen<void> {
    if (path.length > 0) {
      yield* this.initialise(obj, off, t, { k: "list", line: 0, items: [{ design: path, init }] });
      return;
    }
    if (bits !== undefined) {
      if (init.k !== "expr") throw this.unknown("braced initialiser of a bit-field");
      const v = yield* this.expr(init.e);
      this.store({ obj, addr: obj.base + BigInt(off), t, bits }, this.conv(v, t));
      return;
    }
    if (init.k === "expr" && isAggregate(t) && !this.isAggValue(init.e, t))
      throw this.unknown("brace elision in an initialiser", init.e.line);
    yield* this.initialise(obj, off, t, init);
  }

  // ---- statements --------------------------------------------------------------------------------------
  //
  // As for expressions: `stmtS` runs a statement that cannot suspend (`ss`: nothing in it can, and it has
  // no jump target, switch, goto or cleanup variable) as a plain function; `stmt` runs the others.

  private *declare(d: Decl, scope: Scope, init: boolean): Gen<void> {
    const obj = this.bind(d, scope);
    if (obj === null || !init || d.init === null) return;
    if ("reg" in obj) {
      // A register's initialiser is an expression (bind): initialise's first case.
      const e = (d.init as Init & { k: "expr" }).e;
      const v = this.sx(e) ? this.exprS(e) : yield* this.expr(e);
      this.store(obj.lv, this.conv(v, d.t));
      return;
    }
    yield* this.initialise(obj, 0, d.t, d.init);
  }

  /** A declaration that cannot suspend (`ss`), with its initialiser. */
  private declareS(d: Decl, scope: Scope): void {
    const obj = this.bind(d, scope);
    if (obj === null || d.init === null) return;
    const init = d.init;
    if (init.k === "expr" && !(d.t.k === "array" && init.e.k === "str")) {
      // `T x = e;` (initialise's first case, without its generator).
      const lv = "reg" in obj ? obj.lv : { obj, addr: obj.base, t: d.t };
      this.store(lv, this.conv(this.exprS(init.e), d.t));
      return;
    }
    if ("reg" in obj) throw new Error(`internal: register ${d.name} with a braced initialiser`);
    runSync(this.initialise(obj, 0, d.t, init));
  }

  /** Binds a declaration in `scope`; returns the new automatic object (or register) to initialise, or null. */
  private bind(d: Decl, scope: Scope): Obj | Reg | null {
    if (d.storage === "typedef") return null;
    if (d.storage === "static") {
      const v = this.m.staticLocal(d.id);
      if (v === undefined) throw this.unknown(`static local ${d.name}`, d.line);
      declareIn(scope, d.name, v);
      return null;
    }
    if (d.storage === "extern" || d.t.k === "fn") {
      const g = this.m.global(d.name, this.frame.file);
      if (g !== undefined) declareIn(scope, d.name, g);
      return null;
    }
    if (d.t.k === "array" && d.t.n === null) throw this.unknown(`array ${d.name} of unknown size`, d.line);
    if (d.cleanup === null && (d.init === null || d.init.k === "expr") && this.canRegister(d.name, d.t)) {
      const reg = this.newReg(d.t);
      declareIn(scope, d.name, reg);
      return reg;
    }
    this.complete(d.t, d.line);
    const obj = this.m.mem.alloc(this.m.structs.sizeOf(d.t), "local", d.name);
    const v: Var = { obj, t: d.t };
    declareIn(scope, d.name, v);
    const cleanup = d.cleanup;
    if (cleanup !== null) {
      scope.cleanups ??= [];
      scope.cleanups.push({
        line: d.line,
        run: () => this.invoke(cleanup, [ptrInto(v.obj, 0, v.t)], d.line),
      });
    }
    return obj;
  }

  /** Leaves a scope: runs its cleanup functions (`__attribute__((cleanup))`), newest first; ends its locals. */
  private *exitScope(scope: Scope, frame: Frame): Gen<void> {
    const cleanups = scope.cleanups;
    if (cleanups !== null) {
      for (let i = cleanups.length - 1; i >= 0; i--) {
        const c = cleanups[i] as { line: number; run: () => Gen<unknown> };
        frame.line = c.line;
        yield* c.run();
      }
      scope.cleanups = null;
    }
    endLocals(scope);
  }

  private *block(body: readonly Stmt[], seek: number | null, scope: Scope | null): Gen<Completion> {
    const sync = this.m.sync.flags(body, this.fnNow());
    let i = 0;
    let target = seek;
    if (target !== null) i = this.skipTo(body, target, scope);
    for (;;) {
      let c: Completion = null;
      for (; i < body.length; i++) {
        const s = body[i] as Stmt;
        if (target !== null) c = yield* this.stmt(s, target);
        else if (sync[i] === 1) c = this.stmtS(s);
        else if (s.labels !== undefined && s.labels.length > 0) c = yield* this.stmt(s, null);
        else if (s.k === "expr") {
          // `f(x);` and `ret = f(x);`, the most common statements that can suspend: without a generator
          // of `stmt` and `expr` each.
          this.tick(s.line);
          yield* this.exprStmt(s.e);
          c = null;
        } else if (s.k === "return" && s.e !== null) {
          // `return f(x);`: as stmt's return, without its generator.
          this.tick(s.line);
          const v = s.e.k === "call" ? yield* this.call(s.e) : yield* this.expr(s.e);
          const rt = this.frame.fn?.t.ret ?? T.void;
          c = { k: "return", v: rt.k === "void" ? VOID : this.conv(v, rt) };
        } else if (s.k === "if") {
          // As stmt's if, without its generator (the branches each as the block's statements are).
          this.tick(s.line);
          const v = this.sx(s.c)
            ? this.exprS(s.c)
            : s.c.k === "call"
              ? yield* this.call(s.c)
              : yield* this.expr(s.c);
          const branch = this.truth(v, s.line) ? s.yes : s.no;
          c = branch === null ? null : this.ss(branch) ? this.stmtS(branch) : yield* this.stmt(branch, null);
        } else c = yield* this.stmt(s, null);
        target = null;
        if (c !== null) break;
      }
      if (c !== null && c.k === "goto") {
        const j = body.findIndex((s) => s.labels?.includes(c.label) === true);
        if (j >= 0) {
          target = c.label;
          i = this.skipTo(body, target, scope);
          continue;
        }
      }
      return c;
    }
  }

  /** Index of the statement of `body` holding label `target`; declarations jumped over are still in scope. */
  private skipTo(body: readonly Stmt[], target: number, scope: Scope | null): number {
    const j = body.findIndex((s) => s.labels?.includes(target) === true);
    if (j < 0) throw this.unknown("jump to a label not in this block");
    if (scope !== null)
      for (let k = 0; k < j; k++) {
        const s = body[k] as Stmt;
        if (s.k !== "decl") continue;
        for (const d of s.decls) {
          if (scope.names?.includes(d.name) === true || d.storage === "typedef") continue;
          // Bound without its initialiser, as C does when a jump passes a declaration.
          this.bind(d, scope);
        }
      }
    return j;
  }

  /** A statement that cannot suspend (`ss`), not sought by a jump. */
  stmtS(s: Stmt): Completion {
    this.tick(s.line);
    switch (s.k) {
      case "expr":
        this.exprS(s.e);
        return null;
      case "decl": {
        const scope = this.frame.scopes[this.frame.scopes.length - 1] as Scope;
        for (const d of s.decls) this.declareS(d, scope);
        return null;
      }
      case "block": {
        // A scope only for a block that declares (nothing in a block that cannot suspend registers a
        // cleanup: guards are calls).
        let c: Completion = null;
        if (!declares(s)) {
          for (let i = 0; i < s.body.length && c === null; i++) c = this.stmtS(s.body[i] as Stmt);
          return c;
        }
        const frame = this.frame;
        const scope: Scope = { names: null, vals: null, cleanups: null };
        frame.scopes.push(scope);
        for (let i = 0; i < s.body.length && c === null; i++) c = this.stmtS(s.body[i] as Stmt);
        this.endScopeS(scope, frame);
        return c;
      }
      case "if":
        if (this.truth(this.exprS(s.c), s.line)) return this.stmtS(s.yes);
        return s.no === null ? null : this.stmtS(s.no);
      case "while":
      case "do":
      case "for":
        return this.loopS(s);
      case "return": {
        if (s.e === null) return { k: "return", v: VOID };
        const v = this.exprS(s.e);
        const rt = this.frame.fn?.t.ret ?? T.void;
        return { k: "return", v: rt.k === "void" ? VOID : this.conv(v, rt) };
      }
      case "break":
        return BREAK;
      case "continue":
        return CONTINUE;
      case "empty":
        return null;
      case "unsupported":
        throw this.unknown(`unsupported construct: ${s.what}`, s.line);
      default:
        throw new Error(`internal: a ${s.k} statement run as one that cannot suspend (line ${s.line})`);
    }
  }

  /** `loop` for a loop that cannot suspend. */
  private loopS(s: Stmt & { k: "while" | "do" | "for" }): Completion {
    const frame = this.frame;
    let scope: Scope | null = null;
    if (s.k === "for" && s.init !== null) {
      // A scope of its own only for a declaration (`for (int i = 0; …)`), as a block's.
      if (s.init.k === "decl") {
        scope = { names: null, vals: null, cleanups: null };
        frame.scopes.push(scope);
      }
      this.stmtS(s.init);
    }
    let out: Completion = null;
    for (;;) {
      if (s.k !== "do" && s.c !== null) {
        frame.line = s.line;
        if (!this.truth(this.exprS(s.c), s.line)) break;
      }
      const c = this.stmtS(s.body);
      if (c === BREAK) break;
      if (c !== null && c !== CONTINUE) {
        out = c;
        break;
      }
      frame.line = s.line;
      if (s.k === "for" && s.step !== null) this.exprS(s.step);
      if (s.k === "do" && !this.truth(this.exprS(s.c), s.line)) break;
      this.tick(s.line);
    }
    if (scope !== null) this.endScopeS(scope, frame);
    return out;
  }

  /** The end of a scope of a statement that cannot suspend: a list walk's end (its only cleanup), the locals'. */
  private endScopeS(scope: Scope, frame: Frame): void {
    if (scope.cleanups === null) endLocals(scope);
    else runSync(this.exitScope(scope, frame));
    frame.scopes.pop();
  }

  *stmt(s: Stmt, seek: number | null): Gen<Completion> {
    if (seek === null) {
      if (this.ss(s)) return this.stmtS(s);
      this.tick(s.line);
    }
    switch (s.k) {
      case "expr":
        if (this.sx(s.e)) this.exprS(s.e);
        else yield* this.exprStmt(s.e);
        return null;
      case "decl": {
        const scope = this.frame.scopes[this.frame.scopes.length - 1] as Scope;
        for (const d of s.decls) yield* this.declare(d, scope, true);
        return null;
      }
      case "block": {
        const frame = this.frame;
        const scope: Scope = { names: null, vals: null, cleanups: null };
        frame.scopes.push(scope);
        const c = yield* this.block(s.body, seek, scope);
        yield* this.exitScope(scope, frame);
        frame.scopes.pop();
        return c;
      }
      case "case":
        return yield* this.block(s.body, seek === s.label ? null : seek, this.frame.scopes.at(-1) ?? null);
      case "label":
        if (s.body === null) return null;
        return yield* this.stmt(s.body, seek === s.label ? null : seek);
      case "if": {
        if (seek !== null) {
          if (s.yes.labels?.includes(seek)) return yield* this.stmt(s.yes, seek);
          if (s.no !== null) return yield* this.stmt(s.no, seek);
          return null;
        }
        if (this.truth(this.sx(s.c) ? this.exprS(s.c) : yield* this.expr(s.c), s.line))
          return yield* this.stmt(s.yes, null);
        return s.no === null ? null : yield* this.stmt(s.no, null);
      }
      case "while":
      case "do":
      case "for":
        return yield* this.loop(s, seek);
      case "switch": {
        if (seek !== null) {
          const c = yield* this.stmt(s.body, seek);
          return c === BREAK ? null : c;
        }
        const v = this.sx(s.c) ? this.exprS(s.c) : yield* this.expr(s.c);
        if (v.k !== "int") throw this.unknown(`switch on a ${v.k}`, s.line);
        const hit = caseLabel(s, promote(v.t), v.v);
        if (hit === null) return null;
        const c = yield* this.stmt(s.body, hit);
        return c === BREAK ? null : c;
      }
      case "goto":
        return { k: "goto", label: s.label };
      case "return": {
        const fn = this.frame.fn;
        if (s.e === null) return { k: "return", v: VOID };
        const v = this.sx(s.e) ? this.exprS(s.e) : yield* this.expr(s.e);
        const rt = fn?.t.ret ?? T.void;
        return { k: "return", v: rt.k === "void" ? VOID : this.conv(v, rt) };
      }
      case "break":
        return BREAK;
      case "continue":
        return CONTINUE;
      case "empty":
        return null;
      case "unsupported":
        throw this.unknown(`unsupported construct: ${s.what}`, s.line);
    }
  }

  private *loop(s: Stmt & { k: "while" | "do" | "for" }, seek: number | null): Gen<Completion> {
    const frame = this.frame;
    let scope: Scope | null = null;
    if (s.k === "for") {
      scope = { names: null, vals: null, cleanups: null };
      frame.scopes.push(scope);
      if (seek === null && s.init !== null) yield* this.stmt(s.init, null);
    }
    let target = seek;
    let out: Completion = null;
    for (;;) {
      if (target === null && s.k !== "do") {
        const c = s.c;
        if (c !== null) {
          frame.line = s.line;
          if (!this.truth(this.sx(c) ? this.exprS(c) : yield* this.expr(c), s.line)) break;
        }
      }
      const c = yield* this.stmt(s.body, target);
      target = null;
      if (c === BREAK) break;
      if (c !== null && c !== CONTINUE) {
        out = c;
        break;
      }
      frame.line = s.line;
      if (s.k === "for" && s.step !== null) {
        if (this.sx(s.step)) this.exprS(s.step);
        else yield* this.expr(s.step);
      }
      if (s.k === "do" && !this.truth(this.sx(s.c) ? this.exprS(s.c) : yield* this.expr(s.c), s.line)) break;
      this.tick(s.line);
    }
    if (scope !== null) {
      yield* this.exitScope(scope, frame);
      frame.scopes.pop();
    }
    return out;
  }
}

/**
 * Names of a function's variables that must live in memory: the variable whose storage a `&` takes (`&x`, and
 * `&x.m` of a struct x; `&p->m` and `&a[i]` only read p, a and i), and every identifier in the arguments of a
 * special form that may want an lvalue's object (all but va_start, which stores through the lvalue, and the
 * list iterators' container_of and walk start, which only read values and types). Every other integer or
 * pointer local can be a register (Reg); addrOf stops with an internal error if one is missed.
 */
function registerBlockers(fn: FunctionDef, builtins: Builtins): ReadonlySet<string> {
  let perFn = blockerMemo.get(builtins.special);
  if (perFn === undefined) {
    perFn = new WeakMap();
    blockerMemo.set(builtins.special, perFn);
  }
  let names = perFn.get(fn);
  if (names === undefined) {
    const out = new Set<string>();
    const ids = (e: Expr): void => {
      if (e.k === "id") out.add(e.name);
      forEachChild(e, ids, (s) => stmtIds(s));
    };
    const stmtIds = (s: Stmt): void => forEachStmtChild(s, ids, stmtIds);
    // The variable an lvalue is stored in, if any: only `.` keeps to the same storage (`->`, `[]` and `*`
    // go through a pointer value, which the walk below reads as any other value).
    const stored = (e: Expr): void => {
      if (e.k === "id") out.add(e.name);
      else if (e.k === "member" && !e.arrow) stored(e.e);
    };
    const walk = (e: Expr): void => {
      if (e.k === "addr") stored(e.e);
      else if (
        e.k === "call" &&
        e.fn.k === "id" &&
        builtins.special[e.fn.name] !== undefined &&
        !REGISTER_SAFE_FORMS.has(e.fn.name)
      )
        for (const a of e.args) ids(a);
      forEachChild(e, walk, walkStmt);
    };
    const walkStmt = (s: Stmt): void => forEachStmtChild(s, walk, walkStmt);
    for (const p of fn.params) if (p.name !== null && p.t.k !== "int" && p.t.k !== "ptr") out.add(p.name);
    walkStmt(fn.body);
    names = out;
    perFn.set(fn, names);
  }
  return names;
}

const blockerMemo = new WeakMap<object, WeakMap<FunctionDef, ReadonlySet<string>>>();
const REGISTER_SAFE_FORMS: ReadonlySet<string> = new Set(["va_start", "__container_of_var", "__list_walk"]);

/** Whether a block has declarations of its own (statements directly in it). */
function declares(s: Stmt & { k: "block" }): boolean {
  let d = declaresMemo.get(s);
  if (d === undefined) {
    d = s.body.some(isDecl);
    declaresMemo.set(s, d);
  }
  return d;
}

const declaresMemo = new WeakMap<Stmt, boolean>();

function isDecl(s: Stmt): boolean {
  return s.k === "decl";
}

/** A switch's case labels by value (each converted to the promoted type of the controlling expression). */
const caseTables = new WeakMap<Stmt, { t: IntType; labels: Map<bigint, number>; dflt: number | null }>();

/** The label a switch jumps to for `v` of promoted type `t` (the first case of that value, else default). */
function caseLabel(s: Stmt & { k: "switch" }, t: IntType, v: bigint): number | null {
  let table = caseTables.get(s);
  if (table === undefined || table.t !== t) {
    const labels = new Map<bigint, number>();
    let dflt: number | null = null;
    for (const c of s.cases) {
      if (c.value === null) dflt ??= c.label;
      else {
        const k = intVal(t, c.value).v;
        if (!labels.has(k)) labels.set(k, c.label);
      }
    }
    table = { t, labels, dflt };
    caseTables.set(s, table);
  }
  return table.labels.get(v) ?? table.dflt;
}

/** A call site's target (Exec.callSite). */
type CallTarget =
  | { readonly k: "special"; readonly f: SpecialForm }
  | { readonly k: "idiom"; readonly f: Native }
  | { readonly k: "c"; readonly def: FunctionDef }
  | { readonly k: "other" };

interface CallSite {
  readonly shadow: boolean;
  readonly target: CallTarget;
}

/**
 * Runs a generator that cannot suspend (Suspension says so) to its result. `what` names an environment API
 * that said it never suspends: reaching a scheduling point is a bug of that declaration (Environment.syncApis).
 */
function runSync<R>(g: Gen<R>, what?: string): R {
  const r = g.next();
  if (!r.done)
    throw new Error(
      what === undefined
        ? "internal: an evaluation that cannot suspend reached a scheduling point"
        : `internal: ${what}, which the environment says never suspends, reached a scheduling point`,
    );
  return r.value;
}

/** The end of a scope's automatic objects (a pointer kept to one is a use after its end). */
function endLocals(scope: Scope): void {
  const vals = scope.vals;
  if (vals !== null)
    for (const v of vals) if (v.reg === undefined && v.obj.kind === "local") v.obj.freed = true;
}

/** Declares a variable in a scope (its map made at the first). */
function declareIn(scope: Scope, name: string, v: Var | Reg): void {
  const names = scope.names;
  const vals = scope.vals;
  if (names === null || vals === null) {
    scope.names = [name];
    scope.vals = [v];
    return;
  }
  // Declared again (a jump back before its declaration): the new object replaces the old.
  const i = names.indexOf(name);
  if (i >= 0) vals[i] = v;
  else {
    names.push(name);
    vals.push(v);
  }
}

function isGen(r: Value | Gen<Value>): r is Gen<Value> {
  return typeof (r as { next?: unknown }).next === "function";
}

function nativeAsEnv(ex: Exec, n: Native | undefined): EnvFunction | undefined {
  if (n === undefined) return undefined;
  return (call) => n(ex, [...call.args], call.site.line);
}

function decay(t: CType): CType {
  if (t.k === "array") return ptrTo(t.of);
  if (t.k === "fn") return ptrTo(t);
  return t;
}

function isAggregate(t: CType): boolean {
  return t.k === "struct" || t.k === "array";
}

function isLvalueExpr(e: Expr): boolean {
  return (
    e.k === "id" ||
    e.k === "deref" ||
    e.k === "index" ||
    e.k === "member" ||
    e.k === "compound" ||
    e.k === "str"
  );
}

function describe(v: Value): string {
  return v.k === "void" ? "void" : typeName(v.t);
}

/** Short C text of an expression, for messages. */
export function exprText(e: Expr): string {
  switch (e.k) {
    case "id":
      return e.name;
    case "member":
      return `${exprText(e.e)}${e.arrow ? "->" : "."}${e.name}`;
    case "deref":
      return `*${exprText(e.e)}`;
    case "addr":
      return `&${exprText(e.e)}`;
    case "index":
      return `${exprText(e.e)}[…]`;
    case "call":
      return `${exprText(e.fn)}(…)`;
    default:
      return e.k;
  }
}

export type { PtrType };
