/**
 * Node-only: worker threads running our own modules, and a pool of them taking calls. A thread starts from
 * the built dist/ or, in development, from the TypeScript sources through tsx (an eval'd worker resolves bare
 * names from the cwd, and tsx is a development dependency, so it is resolved here).
 *
 * The pool sends a call to a free thread (else queues it), one call per thread at a time. A call that
 * outlives its time limit terminates its thread (synchronous work cannot be interrupted otherwise) and fails;
 * a thread that dies fails its call and is replaced on the next one. Arguments and results cross as
 * structured clones; user errors keep their class (the callers tell bad input from failures by it).
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { InputError, isUserError, UsageError, type UserErrorKind } from "../errors.ts";

const BOOT = `
const { workerData } = require("node:worker_threads");
(workerData.tsx === null
  ? import(workerData.entry)
  : import(workerData.tsx).then((tsx) => { tsx.register(); return import(workerData.entry); }));
`;

/** A worker running the module at `entry` (an import.meta.url); it reads `data` as workerData.data. */
export function startModuleWorker(entry: string, data: unknown): Worker {
  const tsx = entry.endsWith(".ts") ? import.meta.resolve("tsx/esm/api") : null;
  return new Worker(BOOT, { eval: true, workerData: { entry, tsx, data } });
}

/** True in the worker started for `entry` (the module's own import.meta.url). */
export function isWorkerFor(entry: string, data: unknown = workerData): boolean {
  return !isMainThread && (data as { entry?: unknown } | null)?.entry === entry;
}

type Handlers = Record<string, (...args: never[]) => Promise<unknown>>;

interface Request {
  id: number;
  method: string;
  args: unknown[];
}

interface ErrorShape {
  message: string;
  stack?: string;
  user?: { kind: UserErrorKind; subject?: string };
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ErrorShape };

function reviveError(e: ErrorShape): Error {
  if (e.user) {
    const options = e.user.subject === undefined ? {} : { subject: e.user.subject };
    return e.user.kind === "usage" ? new UsageError(e.message, options) : new InputError(e.message, options);
  }
  const err = new Error(e.message);
  if (e.stack !== undefined) err.stack = e.stack;
  return err;
}

function errorShape(err: unknown): ErrorShape {
  return {
    message: err instanceof Error ? err.message : String(err),
    ...(err instanceof Error && err.stack !== undefined ? { stack: err.stack } : {}),
    ...(isUserError(err)
      ? { user: { kind: err.kind, ...(err.subject === undefined ? {} : { subject: err.subject }) } }
      : {}),
  };
}

/** Thread side: answers the pool's calls with `handlers` (made once, on the first call). */
export function serveThread(handlers: () => Promise<Handlers> | Handlers): void {
  const port = parentPort;
  if (port === null) return;
  let ready: Promise<Handlers> | null = null;
  port.on("message", async (req: Request) => {
    try {
      ready ??= Promise.resolve(handlers());
      const fn = (await ready)[req.method] as ((...a: unknown[]) => Promise<unknown>) | undefined;
      if (fn === undefined) throw new Error(`no method ${req.method} in this thread`);
      port.postMessage({ id: req.id, ok: true, value: await fn(...req.args) } satisfies Reply);
    } catch (err) {
      port.postMessage({ id: req.id, ok: false, error: errorShape(err) } satisfies Reply);
    }
  });
}

export interface PoolOptions {
  /** The module whose thread side calls serveThread (its import.meta.url). */
  entry: string;
  /** Threads at most (at least 1); they start on the first calls. */
  threads: number;
  /** Longest a call may run before its thread is terminated. */
  callTimeoutMs: number;
  /** How a call past its time limit is described ("the review", "the mail parse"). */
  what: string;
}

export interface ThreadPool<H extends Handlers> {
  call<K extends keyof H & string>(method: K, ...args: Parameters<H[K]>): ReturnType<H[K]>;
  /** Terminates the threads; pending and later calls fail. */
  close(): Promise<void>;
  /** Threads started so far (replacements included). */
  readonly started: number;
}

interface Pending {
  request: Request;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

class Slot {
  worker: Worker | null = null;
  busy: Pending | null = null;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export function createThreadPool<H extends Handlers>(options: PoolOptions): ThreadPool<H> {
  const slots = Array.from({ length: Math.max(1, options.threads) }, () => new Slot());
  const waiting: Pending[] = [];
  const closedError = () => new Error(`the threads of ${options.what} are closed`);
  let nextId = 1;
  let started = 0;
  let closed = false;

  const finish = (slot: Slot, settle: (p: Pending) => void): void => {
    const p = slot.busy;
    clearTimeout(slot.timer);
    slot.busy = null;
    // An idle thread does not keep the process alive; a busy one does, as any pending work would.
    slot.worker?.unref();
    if (p) settle(p);
    dispatch();
  };

  const spawn = (slot: Slot): Worker => {
    const worker = startModuleWorker(options.entry, null);
    started++;
    worker.on("message", (reply: Reply) => {
      if (slot.busy?.request.id !== reply.id) return;
      finish(slot, (p) => (reply.ok ? p.resolve(reply.value) : p.reject(reviveError(reply.error))));
    });
    const lost = (why: string) => {
      if (slot.worker !== worker) return;
      slot.worker = null;
      finish(slot, (p) => p.reject(new Error(`the thread of ${options.what} ${why}`)));
    };
    worker.on("error", (e) => lost(`failed: ${e instanceof Error ? e.message : String(e)}`));
    worker.on("exit", (code) => lost(`exited with code ${code}`));
    return worker;
  };

  function dispatch(): void {
    for (const slot of slots) {
      if (closed || waiting.length === 0) return;
      if (slot.busy !== null) continue;
      const p = waiting.shift() as Pending;
      slot.busy = p;
      slot.worker ??= spawn(slot);
      const worker = slot.worker;
      worker.ref();
      slot.timer = setTimeout(() => {
        slot.worker = null;
        finish(slot, (q) =>
          q.reject(
            new Error(
              `${options.what} ran past its time limit of ${options.callTimeoutMs} ms and was stopped`,
            ),
          ),
        );
        void worker.terminate();
      }, options.callTimeoutMs);
      worker.postMessage(p.request);
    }
  }

  return {
    call(method, ...args) {
      return new Promise((resolve, reject) => {
        if (closed) return reject(closedError());
        waiting.push({ request: { id: nextId++, method, args }, resolve, reject });
        dispatch();
      }) as ReturnType<H[typeof method]>;
    },
    get started() {
      return started;
    },
    async close() {
      closed = true;
      for (const p of waiting.splice(0)) p.reject(closedError());
      await Promise.all(
        slots.map(async (slot) => {
          const w = slot.worker;
          slot.worker = null;
          finish(slot, (p) => p.reject(closedError()));
          if (w) await w.terminate();
        }),
      );
    },
  };
}
