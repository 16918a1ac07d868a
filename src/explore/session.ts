/**
 * One explored world: the same World the matrix drives (emulated platform, /lib/firmware, device tree, driver
 * core, kernel with its monitors), its drivers bound, plus what the explorer tracks beside it (pending fault
 * injections, the monitors' authentication bookkeeping) so that a state can be hashed canonically.
 */
import type { Fixtures } from "../emulator/api.ts";
import { rebuildable } from "../fork.ts";
import type { Finding, TraceStep, UnknownReason } from "../scenarios/result.ts";
import {
  ALTERNATE_FIRMWARE,
  DEFAULT_FIRMWARE,
  type Stm32DriverImpl,
  type TeeDriverImpl,
  World,
  worldDrivers,
} from "../scenarios/world.ts";
import type { DesignFacts } from "../semantics/facts.ts";
import type { KEvent } from "../semantics/kernel.ts";
import { EVENT_IDS, type EventId, isEventId } from "./events.ts";

export { EVENT_IDS, type EventId, isEventId };

/** What each event does, in words (CLI help, README). */
export const EVENT_TITLES: Record<EventId, string> = {
  start: "sysfs state start (rproc_boot)",
  stop: "sysfs state stop (rproc_shutdown)",
  crash: "the running firmware crashes (watchdog interrupt)",
  "recovery-on": "sysfs recovery enabled (triggers a pending recovery)",
  "recovery-off": "sysfs recovery disabled",
  "firmware-change": "sysfs firmware: switch between the default and the alternate image name",
  "image-tamper": "replace the current firmware file by a signed image with a flipped byte",
  "tee-unbind": "unbind the remoteproc TEE bus driver",
  "tee-bind": "bind the remoteproc TEE bus driver again",
  "rproc-unbind": "unbind the STM32 remoteproc driver",
  "rproc-bind": "bind the STM32 remoteproc driver again",
  "ta-fail-next": "the TA answers the next command with an error",
  "tee-fail-next": "the next TEE invoke itself fails (ret < 0)",
};

/** Events that exist only where a TEE path does. */
export const TEE_ONLY_EVENTS: ReadonlySet<EventId> = new Set([
  "image-tamper",
  "tee-unbind",
  "tee-bind",
  "ta-fail-next",
  "tee-fail-next",
]);

/** The outcome of a run: the monitors' findings and the trace, after teardown. */
export interface RunOutcome {
  findings: Finding[];
  trace: TraceStep[];
}

/**
 * What a session runs: the design's facts over the hand model, and the posted C that runs instead of the
 * hand model's files where the design has it (its TEE client driver; a kernel tree's STM32 driver, core and
 * virtio), as the matrix's cells of that design run it.
 */
export interface SessionDesign {
  facts: DesignFacts;
  tee?: TeeDriverImpl;
  stm32?: Stm32DriverImpl;
}

/** Whether a design runs some of its files from C. */
export const runsC = (d: SessionDesign): boolean => d.tee !== undefined || d.stm32 !== undefined;

/** What could not run, when a session of `d` stopped with `e` (an API or construct of the C); else null. */
export function stoppedBy(d: SessionDesign, e: unknown): UnknownReason | null {
  return d.tee?.cannotRun(e) ?? d.stm32?.cannotRun(e) ?? null;
}

export class Session {
  /** A fault injection armed and not yet consumed by a TEE invoke. */
  private pending: "ta" | "transport" | null = null;
  /** Mirrors the monitors: per processor, RELEASE_FW sent with nothing loaded since / authenticated load. */
  private released = false;
  private authenticated = false;
  private tamperedMemory = false;
  /** The events applied since the drivers bound (what a fork of a world that runs C replays). */
  private readonly seq: EventId[] = [];

  private constructor(
    readonly w: World,
    private readonly design: SessionDesign,
    private readonly fixtures: Fixtures,
  ) {
    w.k.subscribe(rebuildable([this] as const, (s) => (e: KEvent) => s.observe(e)));
  }

  private observe(e: KEvent): void {
    if (e.type !== "emu") return;
    const x = e.e;
    if (x.layer === "platform" && x.fn === "nsWrite" && x.protectedHit && !x.refused) {
      this.tamperedMemory = true;
    }
    if (x.layer !== "ta" || x.fn !== "invoke") return;
    this.pending = null;
    const ok = x.ret === 0 && x.result === 0;
    if (x.cmdName === "LOAD_FW" && ok) {
      this.released = false;
      this.authenticated = true;
      this.tamperedMemory = false;
    } else if (x.cmdName === "RELEASE_FW") {
      this.released = true;
      if (ok) this.authenticated = false;
    } else if (x.cmdName === "STOP_FW" && ok) this.authenticated = false;
  }

  /** Whether this world runs posted C (its forks replay: see fork). */
  get fromC(): boolean {
    return runsC(this.design);
  }

  /** How many events a fork of this session runs besides the next one: its sequence when it replays. */
  get forkCost(): number {
    return this.fromC ? this.seq.length : 0;
  }

  /**
   * A copy of this session and its world, to run an event on instead of replaying the sequence that led
   * here (only between events): a deep copy (fork.ts) of a world of the hand model. The copy's trace and
   * findings continue those of this one. A world that runs posted C is not a graph fork.ts copies (the
   * interpreter's memory, the lowered program's closures, the environment's maps; the interpreted driver
   * refuses a forked kernel): `copy` replays it.
   */
  fork(): Session {
    if (this.fromC)
      throw new Error("a world that runs posted C is copied by replaying its sequence (copy())");
    this.w.markInputsImmutable();
    return this.w.k.fork(
      this as Session,
      (x) => this.w.isShared(x) || x === this.design || x === this.fixtures,
    );
  }

  /**
   * A copy of this session in the same state: a fork of a world of the hand model; for one that runs posted
   * C, a new world of the design with the sequence that led here replayed on it (a run of the posted code
   * itself, so the copy is that state by construction; it costs `forkCost` events more).
   */
  async copy(): Promise<Session> {
    if (!this.fromC) return this.fork();
    const s = await Session.start(this.design, this.fixtures);
    for (const e of this.seq) await s.apply(e);
    return s;
  }

  /**
   * A world of `design` on stm32mp15 with the reference device tree, its drivers bound (as the matrix does):
   * from the posted C where the design has it.
   */
  static async start(design: SessionDesign, fixtures: Fixtures): Promise<Session> {
    const w = await World.create(design.facts, {
      platform: "stm32mp15",
      dt: "reference",
      fixtures,
      ...worldDrivers(design),
    });
    w.k.keepEvents = false;
    const s = new Session(w, design, fixtures);
    await w.bindDrivers();
    return s;
  }

  /** Whether `e` makes sense now (odd but possible events, such as start twice, do). */
  enabled(e: EventId): boolean {
    const w = this.w;
    const r = w.rprocView;
    switch (e) {
      case "start":
      case "stop":
      case "firmware-change":
        return r !== null;
      case "crash":
        return w.platform.copro.status().run === "running";
      case "recovery-on":
        return r?.recovery_disabled === true;
      case "recovery-off":
        return r !== null && !r.recovery_disabled;
      case "image-tamper":
        return r !== null && w.images.tampered !== null && w.firmware.get(r.firmware) !== w.images.tampered;
      case "tee-unbind":
        return w.teeDev?.driver != null;
      case "tee-bind":
        return w.teeDev !== null && w.teeDev.driver === null;
      case "rproc-unbind":
        return w.rprocDev.driver !== null;
      case "rproc-bind":
        return w.rprocDev.driver === null;
      case "ta-fail-next":
      case "tee-fail-next":
        return w.usesTee && this.pending === null;
    }
  }

  /** The events that make sense now, in contract order. */
  enabledEvents(among: readonly EventId[] = EVENT_IDS): EventId[] {
    return among.filter((e) => this.enabled(e));
  }

  /** Applies `e` (the caller checked `enabled`). */
  async apply(e: EventId): Promise<void> {
    this.seq.push(e);
    const w = this.w;
    switch (e) {
      case "start":
        await w.start();
        return;
      case "stop":
        await w.stop();
        return;
      case "crash":
        await w.crash();
        return;
      case "recovery-on":
      case "recovery-off":
        await w.recovery(e === "recovery-on");
        return;
      case "firmware-change": {
        const current = w.rprocView?.firmware;
        await w.setFirmware(current === ALTERNATE_FIRMWARE ? DEFAULT_FIRMWARE : ALTERNATE_FIRMWARE);
        return;
      }
      case "image-tamper":
        await w.replaceFirmwareFile(
          w.rprocView?.firmware ?? DEFAULT_FIRMWARE,
          w.images.tampered as Uint8Array,
        );
        return;
      case "tee-unbind":
        await w.unbind(w.teeDev, "remoteproc_tee");
        return;
      case "rproc-unbind":
        await w.unbind(w.rprocDev, "stm32-rproc");
        return;
      case "tee-bind":
      case "rproc-bind": {
        const dev = e === "tee-bind" ? w.teeDev : w.rprocDev;
        const name = e === "tee-bind" ? "remoteproc_tee" : "stm32-rproc";
        await w.drive(`bind ${name}`, () => (dev === null ? Promise.resolve(0) : w.core.bind(dev)));
        return;
      }
      case "ta-fail-next":
      case "tee-fail-next": {
        const kind = e === "ta-fail-next" ? "ta" : "transport";
        await w.drive(`inject ${kind} failure on the next TEE invoke`, async () => {
          w.platform.ta.failNext(kind);
          return 0;
        });
        this.pending = kind;
        return;
      }
    }
  }

  /**
   * The canonical state: everything later behaviour or a monitor can depend on, nothing that only counts
   * history (crash counts, trace length, object ids). Live objects are listed oldest first: which of them
   * came first tells, e.g., a TEE session opened on the context of an earlier TEE bind from one opened on the
   * current context (same objects, different teardown).
   */
  hash(): string {
    const w = this.w;
    // A world that runs the C core has its struct rproc in the C's memory (the digest below): the view here.
    const r = w.coreInstance === null ? w.rproc : null;
    const v = w.rprocView;
    const p = w.platform;
    const st = p.copro.status();
    const live: string[] = [];
    const freed = new Set<string>();
    for (const o of w.k.objects) {
      if (o.freed) freed.add(`${o.kind}@${o.freedAt ?? "?"}`);
      else live.push(o.kind);
    }
    const files = [...w.firmware.entries()]
      .map(([name, bytes]) => `${name}=${imageName(w, bytes)}`)
      .sort()
      .join(",");
    return [
      r === null
        ? v === null
          ? "rproc:-"
          : `rproc:${v.state}/${v.firmware}/${v.recovery_disabled ? "norec" : "rec"}`
        : `rproc:${r.state}/${r.power.read()}/${r.firmware}/${r.recovery_disabled ? "norec" : "rec"}/${r.table_sz}/${r.lock.holder ?? ""}`,
      `drv:${w.rprocDev.driver === null ? 0 : 1}${w.teeDev === null ? "" : w.teeDev.driver === null ? 0 : 1}`,
      `cpu:${st.run}/${st.holdBoot ? 1 : 0}${st.inReset ? 1 : 0}${st.pdds ? 1 : 0}/${st.m4State}/${st.firmware ?? ""}/${st.loadedBy ?? ""}`,
      `ta:${p.ta.state(p.procId) ?? "-"}/${p.ta.sessionCount}/${this.pending ?? ""}`,
      `mon:${this.released ? 1 : 0}${this.authenticated ? 1 : 0}${this.tamperedMemory ? 1 : 0}/${w.k.spinlocksHeld.size}`,
      `live:${live.join(",")}`,
      `freed:${[...freed].sort().join(",")}`,
      `fw:${files}`,
      ...this.cState(),
    ].join("|");
  }

  /** The posted C's own state (its memory, canonically), for a world that runs C; none for the hand model. */
  private cState(): string[] {
    const w = this.w;
    const out: string[] = [];
    if (w.teeInstance !== null) out.push(`ctee:${w.teeInstance.stateDigest()}`);
    // (A kernel tree's drivers share one machine with the TEE driver: the same digest twice, which is sound.)
    if (w.stm32Instance !== null) out.push(`cdrv:${w.stm32Instance.stateDigest()}`);
    return out;
  }

  /** Unbinds what is still bound and runs the leak check; returns the findings and the whole trace. */
  async finish(): Promise<RunOutcome> {
    await this.w.teardown();
    // A finding the posted C raised carries its statement (file:line), as the matrix's cells do.
    const inst = this.w.stm32Instance ?? this.w.teeInstance;
    const findings = this.w.monitors.findings.map((f) => {
      const site = inst?.siteOfStep(f.step);
      return site === undefined ? f : { ...f, site: { file: site.file, line: site.line } };
    });
    return { findings, trace: this.w.k.trace };
  }
}

function imageName(w: World, bytes: Uint8Array): string {
  for (const [name, img] of Object.entries(w.images)) if (img === bytes) return name;
  return "other";
}

/**
 * Runs `events` from a freshly bound world. Returns the outcome, or the index of the first event that makes
 * no sense where it stands.
 */
export async function runEvents(
  design: SessionDesign,
  events: readonly EventId[],
  fixtures: Fixtures,
): Promise<RunOutcome | { notEnabled: number }> {
  const s = await Session.start(design, fixtures);
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as EventId;
    if (!s.enabled(e)) return { notEnabled: i };
    await s.apply(e);
  }
  return s.finish();
}
