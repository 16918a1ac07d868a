/**
 * The coprocessor as the Linux STM32 driver sees it: hold boot, MCU reset, PDDS, the M4 state and
 * resource-table registers, four mailbox channels and the watchdog interrupt.
 *
 * The core runs whatever is in its memory: releasing hold boot on a core in reset boots it. A firmware
 * describes itself with a 32-byte descriptor anywhere in its memory (4-aligned): "RPRCEMU1", u32 resource
 * table da, u32 flags (bit 0 answers shutdown, bit 1 answers detach), name[16]. Like an OpenAMP firmware
 * it writes CRUN and its resource-table address into the registers when it boots. Memory with code but
 * no descriptor runs as "unknown" and answers both channels; all-zero memory faults at once.
 */
import type { Coprocessor, CoprocessorStatus, MailboxChannel } from "./api.ts";
import { concat, cstr, hex32, le32, readCstr, u32, utf8 } from "./bytes.ts";
import { type EventBus, type Memory, PAGE_SIZE, type PagedBytes } from "./memory.ts";

export const M4 = { OFF: 0, INI: 1, CRUN: 2, CSTOP: 3, STANDBY: 4, CRASH: 5 } as const;

const DESCRIPTOR_MAGIC = "RPRCEMU1";
export const DESCRIPTOR_SIZE = 32;
const ANSWERS_SHUTDOWN = 1;
const ANSWERS_DETACH = 2;

export interface FirmwareDescriptor {
  name: string;
  rscDa: number;
  answersShutdown: boolean;
  answersDetach: boolean;
}

export function buildFirmwareDescriptor(d: FirmwareDescriptor): Uint8Array {
  const flags = (d.answersShutdown ? ANSWERS_SHUTDOWN : 0) | (d.answersDetach ? ANSWERS_DETACH : 0);
  return concat([utf8(DESCRIPTOR_MAGIC), le32(d.rscDa, flags), cstr(d.name, 16)]);
}

const MAGIC = utf8(DESCRIPTOR_MAGIC);

/** The descriptor in these 32 bytes, or null when they do not start with the magic. */
function readDescriptor(d: Uint8Array): FirmwareDescriptor | null {
  if (!MAGIC.every((c, k) => d[k] === c)) return null;
  const flags = u32(d, 12);
  return {
    name: readCstr(d, 16, 16),
    rscDa: u32(d, 8),
    answersShutdown: (flags & ANSWERS_SHUTDOWN) !== 0,
    answersDetach: (flags & ANSWERS_DETACH) !== 0,
  };
}

/**
 * The first descriptor by address, region by region: every 4-aligned offset whose 32 bytes fit. Only the
 * pages a region holds are scanned: the rest is zeros, where no descriptor can start.
 */
function findDescriptor(views: Array<{ bytes: PagedBytes }>): FirmwareDescriptor | null {
  const m0 = MAGIC[0];
  const m1 = MAGIC[1];
  for (const { bytes } of views) {
    for (let index = 0; index < bytes.pageCount; index++) {
      const p = bytes.heldPage(index);
      if (p === undefined) continue;
      const base = index * PAGE_SIZE;
      for (let j = 0; j < p.length && base + j + DESCRIPTOR_SIZE <= bytes.length; j += 4) {
        if (p[j] !== m0 || p[j + 1] !== m1) continue;
        // No closure in this loop: it would allocate a context per iteration.
        const d = readDescriptor(bytes.slice(base + j, DESCRIPTOR_SIZE));
        if (d !== null) return d;
      }
    }
  }
  return null;
}

export class Core implements Coprocessor {
  private s: CoprocessorStatus = {
    run: "halted",
    holdBoot: true,
    inReset: true,
    pdds: false,
    m4State: M4.OFF,
    rscTableDa: 0,
    firmware: null,
    loadedBy: null,
    boots: 0,
    crashReason: null,
  };
  private answers = { shutdown: true, detach: true };
  private readonly watchdogs: Array<() => void> = [];
  private readonly mailboxHandlers: Array<(channel: MailboxChannel, message: string) => void> = [];

  constructor(
    private readonly memory: Memory,
    private readonly bus: EventBus,
  ) {}

  private emit(
    fn: "holdBoot" | "reset" | "boot" | "pdds" | "m4State" | "rscTableReg" | "mailbox" | "crash" | "watchdog",
    detail: string,
  ): void {
    this.bus.emit({ layer: "platform", fn, detail });
  }

  status(): CoprocessorStatus {
    return { ...this.s };
  }

  setHoldBoot(held: boolean): void {
    this.s.holdBoot = held;
    this.emit("holdBoot", held ? "hold boot asserted" : "hold boot released");
    if (!held && this.s.inReset) this.boot();
  }

  assertReset(): void {
    this.s.run = "halted";
    this.s.inReset = true;
    this.s.firmware = null;
    this.emit("reset", "MCU reset asserted: core halted");
    // The hardware releases the reset itself; without hold boot the core restarts at once.
    if (!this.s.holdBoot) this.boot();
  }

  private boot(): void {
    this.s.inReset = false;
    this.s.boots++;
    const views = this.memory.firmwareViews();
    if (!views.some((v) => v.bytes.anyNonZero())) {
      this.s.run = "crashed";
      this.s.crashReason = "no code in memory: the core faults at boot";
      this.s.firmware = null;
      this.emit("boot", "core boots from empty memory and faults");
      return;
    }
    const d = findDescriptor(views);
    this.s.run = "running";
    this.s.crashReason = null;
    this.s.firmware = d?.name ?? "unknown";
    this.s.loadedBy = this.memory.lastWriter;
    this.answers = { shutdown: d?.answersShutdown ?? true, detach: d?.answersDetach ?? true };
    this.s.m4State = M4.CRUN;
    if (d && d.rscDa !== 0) this.s.rscTableDa = d.rscDa;
    this.emit("boot", `core boots firmware "${this.s.firmware}" (loaded by ${this.s.loadedBy ?? "nobody"})`);
  }

  setPdds(value: boolean): void {
    this.s.pdds = value;
    this.emit("pdds", `PDDS = ${value ? 1 : 0}`);
  }

  readM4State(): number {
    return this.s.m4State;
  }

  writeM4State(value: number): void {
    this.s.m4State = value;
    this.emit("m4State", `M4 state register = ${value}`);
  }

  readRscTableReg(): number {
    return this.s.rscTableDa;
  }

  writeRscTableReg(da: number): void {
    this.s.rscTableDa = da >>> 0;
    this.emit("rscTableReg", `resource-table register = ${hex32(da)}`);
  }

  mailboxSend(
    channel: MailboxChannel,
    message: string,
  ): { outcome: "ack" | "timeout" | "sent"; detail: string } {
    const running = this.s.run === "running";
    let result: { outcome: "ack" | "timeout" | "sent"; detail: string };
    if (channel === "vq0" || channel === "vq1") {
      result = {
        outcome: "sent",
        detail: `${channel} "${message}" sent (${running ? "firmware notified" : "core not running"})`,
      };
    } else if (running && this.answers[channel]) {
      if (channel === "shutdown") this.s.m4State = M4.CSTOP;
      result = { outcome: "ack", detail: `${channel} "${message}" acknowledged by the firmware` };
    } else {
      const ms = channel === "shutdown" ? 500 : 200;
      const why = running ? "the firmware does not answer" : `core ${this.s.run}`;
      result = {
        outcome: "timeout",
        detail: `${channel} "${message}" not acknowledged within ${ms} ms (${why})`,
      };
    }
    this.emit("mailbox", result.detail);
    return result;
  }

  onMailbox(handler: (channel: MailboxChannel, message: string) => void): void {
    this.mailboxHandlers.push(handler);
  }

  firmwareKick(channel: "vq0" | "vq1"): boolean {
    if (this.s.run !== "running") return false;
    this.emit("mailbox", `firmware kicks ${channel}`);
    for (const h of this.mailboxHandlers) h(channel, "kick");
    return true;
  }

  onWatchdog(handler: () => void): void {
    this.watchdogs.push(handler);
  }

  crash(reason = "firmware crash"): void {
    this.s.run = "crashed";
    this.s.crashReason = reason;
    this.s.m4State = M4.CRASH;
    this.emit("crash", `core crashed: ${reason}`);
    this.emit("watchdog", `watchdog interrupt (${this.watchdogs.length} handler(s))`);
    for (const h of this.watchdogs) h();
  }

  setFirmwareAnswers(channel: "shutdown" | "detach", answers: boolean): void {
    this.answers[channel] = answers;
  }
}
