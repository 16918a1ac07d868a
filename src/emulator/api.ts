/**
 * Public surface of the OP-TEE remoteproc emulator. The executable model (src/semantics) and the CLI use
 * only what this module exports: a platform (memory, regions, coprocessor registers, mailboxes, watchdog),
 * the remoteproc trusted application it hosts, and the events both emit.
 */
import type { TeeResult } from "./tee.ts";

export { buildFirmwareDescriptor, type FirmwareDescriptor } from "./copro.ts";
export { buildElf, type ElfSpec, readElf } from "./elf.ts";
export {
  buildFirmwareElf,
  type FirmwareSpec,
  type Fixtures,
  fixtureResourceTable,
  LAYOUT,
  loadFixtures,
} from "./fixtures.ts";
export {
  assembleImage,
  type ImageInfo,
  inspectImage,
  parsePlatTlvId,
  parsePlatTlvValue,
  type SignOptions,
  signImage,
  TLV,
} from "./image.ts";
export { importKey, type KeyMaterial } from "./keys.ts";
export { type LoadReport, loadOn, loadOnce } from "./load.ts";
export { createPlatform, PLATFORM_NAMES, type PlatformName } from "./platform.ts";
export type { ResourceEntry, ResourceTable } from "./rsc.ts";
export { buildResourceTable, parseResourceTable, RSC } from "./rsc.ts";
export { PARAM_TYPE, TA_CMD, TEE_RESULT, type TeeResult, taCommandName, teeResultName } from "./tee.ts";

// ---------------------------------------------------------------------------------------------
// GlobalPlatform client API as the Linux TEE driver uses it

/**
 * One invoke parameter. A memref names either a registered shared-memory object (`shm`, as Linux does
 * with tee_shm_register_kernel_buf) or carries the bytes directly (`data`). The TA reads a memref from
 * the live buffer for the whole command, as the real TA reads the images from non-secure memory.
 */
export type TeeParam =
  | { type: "none" }
  | { type: "value-in"; a: number; b: number }
  | { type: "value-out"; a: number; b: number }
  | { type: "value-inout"; a: number; b: number }
  | { type: "memref-in"; shm?: number; data?: Uint8Array; offset?: number; size?: number };

export interface OpenSessionResult {
  /** 0, or a negative errno when the call itself failed (transport). */
  ret: number;
  result: TeeResult;
  session: number;
}

export interface InvokeResult {
  /** 0, or a negative errno when the call itself failed (transport); then `result` is GENERIC. */
  ret: number;
  result: TeeResult;
  /** The parameters as the TA left them (value-out filled in). */
  params: TeeParam[];
  /** One line: command, result and, for a failed LOAD_FW, the step that failed (e.g. "L5: …"). */
  detail: string;
}

/** The remoteproc TA of one platform: single instance, state kept when all sessions close. */
export interface TrustedApplication {
  openSession(procId: number): Promise<OpenSessionResult>;
  closeSession(session: number): Promise<void>;
  invoke(session: number, cmd: number, params: TeeParam[]): Promise<InvokeResult>;
  /** Registers `data` as shared memory (by reference, not copied); returns its id. */
  registerShm(data: Uint8Array): number;
  freeShm(id: number): void;
  /**
   * Fault injection for the next invoke: "ta" makes the TA answer with `result` (default GENERIC);
   * "transport" makes the call itself fail with `result` as negative errno (default -EIO = -5).
   */
  failNext(kind: "ta" | "transport", result?: number): void;
  /** TA state of a processor context: null when no LOAD_FW was ever sent for it. */
  state(procId: number): TaState | null;
  /** Number of open sessions. */
  readonly sessionCount: number;
}

export type TaState = "OFF" | "LOADED" | "STARTED";

// ---------------------------------------------------------------------------------------------
// Platform

/** Values of the M4 state register (st,syscfg-m4-state), as the Linux STM32 driver names them. */
export const M4_STATE = { OFF: 0, INI: 1, CRUN: 2, CSTOP: 3, STANDBY: 4, CRASH: 5 } as const;

export type MailboxChannel = "vq0" | "vq1" | "shutdown" | "detach";

export interface MemoryRegion {
  name: string;
  da: number;
  pa: number;
  size: number;
  /** Holds firmware (as opposed to vrings / shared buffers). */
  firmware: boolean;
  /** Secure-only: the non-secure world can neither read nor write it (stm32mp2-m33 firewall). */
  secure: boolean;
  /** Another window on the memory of the named region (same bytes), e.g. stm32mp15's mcuram. */
  aliasOf?: string;
}

/** Outcome of a non-secure (Linux ioremap) memory access. */
export interface NsAccess {
  ok: boolean;
  /** Region hit, null when the address is outside every region. */
  region: string | null;
  /** The access touched memory holding TEE-loaded firmware (a finding on a platform without firewall). */
  protectedHit: boolean;
  /** Refused by the firewall or unmapped; ok is false then. */
  refused: boolean;
  detail: string;
}

export interface NsReadResult extends NsAccess {
  data: Uint8Array | null;
}

export type RunState = "halted" | "running" | "crashed";

export interface CoprocessorStatus {
  run: RunState;
  holdBoot: boolean;
  /** The MCU reset line is asserted (released by the hardware on the next hold-boot release). */
  inReset: boolean;
  pdds: boolean;
  m4State: number;
  rscTableDa: number;
  /** Name of the running firmware (from its descriptor), "unknown" without one, null when halted. */
  firmware: string | null;
  /** Who loaded the memory the core runs: the TEE (signed image) or the non-secure world. */
  loadedBy: "tee" | "nonsecure" | "boot" | null;
  /** Number of boots since creation. */
  boots: number;
  crashReason: string | null;
}

export interface Coprocessor {
  status(): CoprocessorStatus;
  /** Hold boot: true holds the core at its next reset; releasing it boots a core that is not running. */
  setHoldBoot(held: boolean): void;
  /** Asserts the MCU reset: the core stops. */
  assertReset(): void;
  setPdds(value: boolean): void;
  readM4State(): number;
  writeM4State(value: number): void;
  /** The resource-table address register (st,syscfg-rsc-tbl): a device address, 0 when none. */
  readRscTableReg(): number;
  writeRscTableReg(da: number): void;
  /** Sends a message on a mailbox channel. shutdown/detach are answered by a running firmware. */
  mailboxSend(
    channel: MailboxChannel,
    message: string,
  ): { outcome: "ack" | "timeout" | "sent"; detail: string };
  /** Messages from the firmware to Linux (vq0/vq1 kicks). */
  onMailbox(handler: (channel: MailboxChannel, message: string) => void): void;
  /** The firmware kicks Linux on a vq channel (delivered to onMailbox handlers when running). */
  firmwareKick(channel: "vq0" | "vq1"): boolean;
  /** Registers the watchdog interrupt handler (one per call; all are fired). */
  onWatchdog(handler: () => void): void;
  /** The firmware crashes: the core is marked crashed, M4 state CRASH, and the watchdog fires. */
  crash(reason?: string): void;
  /**
   * Makes the running firmware ignore (false) or answer (true) a blocking channel, overriding its
   * descriptor, e.g. to play a firmware that never acknowledges shutdown.
   */
  setFirmwareAnswers(channel: "shutdown" | "detach", answers: boolean): void;
}

export interface Platform {
  readonly name: string;
  /** The processor id Linux passes (st,proc-id). */
  readonly procId: number;
  readonly regions: readonly MemoryRegion[];
  readonly ta: TrustedApplication;
  readonly copro: Coprocessor;
  /** Linux ioremap access. */
  nsRead(pa: number, length: number): NsReadResult;
  nsWrite(pa: number, bytes: Uint8Array): NsAccess;
  /** da -> pa through the region map (null when [da, da+size) is not inside one region). */
  daToPa(da: number, size?: number): number | null;
  paToDa(pa: number, size?: number): number | null;
  /** Memory content as it is, without access checks or events (for monitors). */
  peek(pa: number, length: number): Uint8Array;
  /**
   * A boot stage (before Linux) loads an ELF and starts the core, e.g. for "attach to a running
   * firmware". Returns the segments it wrote.
   */
  bootStageLoad(elf: Uint8Array): { da: number; pa: number; size: number }[];
  onEvent(observer: (e: EmulatorEvent) => void): () => void;
}

export interface PlatformOptions {
  /**
   * Verification key(s) built into the platform: PEM text (public or private; the public part is used)
   * or keys already imported with importKey.
   */
  keys: Array<string | import("./keys.ts").KeyMaterial>;
  /** Extra memory regions (e.g. DDR carveouts), identity or translated. */
  extraRegions?: MemoryRegion[];
  onEvent?: (e: EmulatorEvent) => void;
}

// ---------------------------------------------------------------------------------------------
// Events

interface EventBase {
  /** Sequence number, increasing per platform. */
  seq: number;
  detail: string;
}

export type TaEventFn = "openSession" | "closeSession" | "invoke" | "registerShm" | "freeShm" | "panic";

export type PlatformEventFn =
  | "pta"
  | "memWrite"
  | "memWipe"
  | "nsWrite"
  | "nsRead"
  | "holdBoot"
  | "reset"
  | "boot"
  | "pdds"
  | "m4State"
  | "rscTableReg"
  | "mailbox"
  | "crash"
  | "watchdog";

export type EmulatorEvent =
  | (EventBase & {
      layer: "ta";
      fn: "invoke";
      session: number;
      cmd: number;
      cmdName: string;
      procId: number | null;
      result: TeeResult;
      resultName: string;
      /** The call failed in transport (ret < 0 for the client). */
      ret: number;
    })
  | (EventBase & { layer: "ta"; fn: "openSession" | "closeSession"; session: number; result: TeeResult })
  | (EventBase & { layer: "ta"; fn: "registerShm" | "freeShm"; shm: number; size: number })
  | (EventBase & { layer: "ta"; fn: "panic" })
  | (EventBase & {
      layer: "platform";
      fn: "pta";
      cmd: string;
      result: TeeResult;
      resultName: string;
      /** For segment loads and fills: where (device and physical address) and how many bytes. */
      da?: number;
      pa?: number;
      size?: number;
    })
  | (EventBase & {
      layer: "platform";
      fn: "memWrite" | "memWipe" | "nsWrite" | "nsRead";
      pa: number;
      size: number;
      region: string | null;
      /** Non-secure access into memory holding TEE-loaded firmware. */
      protectedHit: boolean;
      refused: boolean;
    })
  | (EventBase & {
      layer: "platform";
      fn: Exclude<PlatformEventFn, "pta" | "memWrite" | "memWipe" | "nsWrite" | "nsRead">;
    });
