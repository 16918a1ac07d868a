/**
 * Monitors: observers of a Kernel's event stream that raise findings, never assert. One per finding kind of
 * the matrix contract; identical findings (kind, detail, C function) are reported once per cell.
 */

import type { Platform } from "../emulator/api.ts";
import { TEE_RESULT } from "../emulator/api.ts";
import { rebuildable } from "../fork.ts";
import type { Finding, FindingKind } from "../scenarios/result.ts";
import { errnoName, type KEvent, type Kernel, type KObj } from "./kernel.ts";
import type { RprocState } from "./remoteproc_core.ts";

function allocSite(k: Kernel, obj: KObj): string {
  return k.trace[obj.allocStep]?.fn ?? "?";
}

/** Attaches every monitor to `k`; `platform` is the hardware the state and authentication checks compare with. */
export class Monitors {
  readonly findings: Finding[] = [];
  private readonly seen = new Set<string>();
  /** Per processor id: a RELEASE_FW was sent and nothing was loaded since. */
  private readonly released = new Map<number, boolean>();
  /** Per processor id: a LOAD_FW succeeded since the last STOP_FW or RELEASE_FW. */
  private readonly authenticated = new Map<number, boolean>();
  /** Device memory Linux may write: the resource-table windows declared by the core's table copies. */
  private readonly rscWindows: { pa: number; size: number }[] = [];
  /** Non-secure writes into TEE-loaded firmware outside a table window since the last LOAD_FW. */
  private tampered: string[] = [];

  constructor(
    private readonly k: Kernel,
    private readonly platform: Platform | null,
  ) {
    k.subscribe(rebuildable([this] as const, (m) => (e: KEvent) => m.observe(e)));
  }

  /** Records a finding once per (kind, detail, at). */
  raise(kind: FindingKind, detail: string, at: string, step: number): void {
    const key = `${kind}\u0000${detail}\u0000${at}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.findings.push({ kind, detail, at, step });
  }

  private observe(e: KEvent): void {
    const k = this.k;
    switch (e.type) {
      case "use":
        if (e.obj.freed) {
          this.raise(
            "use-after-free",
            `${e.what} of ${e.obj.kind} "${e.obj.label}" freed in ${e.obj.freedAt ?? "?"}`,
            e.at,
            e.step,
          );
        }
        return;
      case "free":
        if (e.already) {
          this.raise(
            "double-free",
            `${e.obj.kind} "${e.obj.label}" already freed in ${e.obj.freedAt ?? "?"}`,
            e.at,
            e.step,
          );
        }
        return;
      case "leak-check": {
        const groups = new Map<string, KObj[]>();
        for (const obj of e.live) {
          const key = `${obj.kind}\u0000${allocSite(k, obj)}`;
          groups.set(key, [...(groups.get(key) ?? []), obj]);
        }
        for (const objs of groups.values()) {
          const first = objs[0] as KObj;
          const site = allocSite(k, first);
          const names = objs.map((o) => `"${o.label}"`).join(", ");
          const what =
            objs.length === 1 ? `${first.kind} ${names}` : `${objs.length} ${first.kind} objects (${names})`;
          this.raise("leak", `${what} allocated in ${site} still allocated after teardown`, site, e.step);
        }
        return;
      }
      case "sleep":
        if (e.spinlocks.length > 0) {
          this.raise(
            "sleep-in-atomic",
            `${e.fn} may sleep while holding spinlock ${e.spinlocks.join(", ")}`,
            e.at,
            e.step,
          );
        }
        return;
      case "warn":
        this.raise("warn", e.detail, e.at, e.step);
        return;
      case "return":
        if (e.ret === 0 && e.frame.failedCallees.length > 0) this.observeSwallowed(e);
        return;
      case "rsc-table-copy":
        this.rscWindows.push({ pa: e.pa, size: e.size });
        return;
      case "emu":
        this.observeEmulator(e);
        return;
      default:
        return;
    }
  }

  /**
   * A function returned 0 after direct callees failed. Apart from observe, which runs on every event: a closure
   * over its event would make observe allocate a context on each call.
   */
  private observeSwallowed(e: Extract<KEvent, { type: "return" }>): void {
    const swallowed = e.frame.failedCallees.filter((c) => !e.frame.ignores.has(c.fn));
    for (const c of swallowed) {
      this.raise(
        "error-swallowed",
        `${c.fn} failed (${describeRet(c.ret)}) but ${e.fn} returned 0`,
        e.fn,
        e.step,
      );
    }
  }

  private observeEmulator(ev: Extract<KEvent, { type: "emu" }>): void {
    const e = ev.e;
    if (e.layer === "platform" && e.fn === "nsWrite" && e.protectedHit && !e.refused) {
      const inside = this.rscWindows.some((w) => e.pa >= w.pa && e.pa + e.size <= w.pa + w.size);
      if (!inside) this.tampered.push(`${e.size} bytes at 0x${e.pa.toString(16)} (${e.region ?? "?"})`);
      return;
    }
    if (e.layer !== "ta" || e.fn !== "invoke") return;
    const proc = e.procId ?? -1;
    const ok = e.ret === 0 && e.result === TEE_RESULT.SUCCESS;
    if (e.cmdName === "LOAD_FW") {
      if (ok) {
        this.released.set(proc, false);
        this.authenticated.set(proc, true);
        this.tampered = [];
        this.rscWindows.length = 0;
      }
      return;
    }
    if (e.cmdName === "RELEASE_FW") {
      if (this.released.get(proc) === true) {
        this.raise(
          "double-release",
          `RELEASE_FW for processor ${proc} with nothing loaded since the previous RELEASE_FW`,
          this.k.current,
          ev.step,
        );
      }
      this.released.set(proc, true);
      if (ok) this.authenticated.set(proc, false);
      return;
    }
    if (e.cmdName === "STOP_FW" && ok) this.authenticated.set(proc, false);
    if (e.cmdName === "START_FW" && ok) {
      if (this.authenticated.get(proc) !== true) {
        this.raise(
          "unauthenticated-start",
          `START_FW for processor ${proc} succeeded with no successful LOAD_FW (authentication) since the last STOP_FW/RELEASE_FW`,
          this.k.current,
          ev.step,
        );
      }
      for (const t of this.tampered) {
        this.raise(
          "unauthenticated-start",
          `authenticated memory changed before START_FW: ${t}`,
          this.k.current,
          ev.step,
        );
      }
    }
  }

  /**
   * Compares Linux's rproc state with the platform (and the TA when it holds a context) after a driven step.
   * `state` is null when no rproc is registered.
   */
  checkState(state: RprocState | null, op: string): void {
    if (state === null || state === "deleted" || this.platform === null) return;
    const p = this.platform;
    const run = p.copro.status().run;
    const step = this.k.trace.length - 1;
    const expectsRunning = state === "running" || state === "attached" || state === "detached";
    if (expectsRunning !== (run === "running")) {
      this.raise("state-mismatch", `after ${op}: rproc is ${state} but the coprocessor is ${run}`, op, step);
    }
    const ta = p.ta.state(p.procId);
    if (ta === null) return;
    if ((state === "running" && ta !== "STARTED") || (state === "offline" && ta === "STARTED")) {
      this.raise("state-mismatch", `after ${op}: rproc is ${state} but the TA is ${ta}`, op, step);
    }
  }
}

function describeRet(ret: number): string {
  return ret < 0 ? errnoName(ret) : `0x${(ret >>> 0).toString(16)}`;
}
