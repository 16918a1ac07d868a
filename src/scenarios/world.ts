/**
 * A World is one cell's universe: the emulated platform, /lib/firmware, the device tree, the driver core and
 * the kernel with its monitors. Scenarios drive it through sysfs-like operations; each driven operation's
 * return is recorded, work queued by interrupts is flushed, and the state monitor compares Linux with the
 * hardware after each step.
 */

import { createPlatform, type Fixtures, type Platform, type PlatformName } from "../emulator/api.ts";
import { markImmutable, rebuildable } from "../fork.ts";
import { Device, DriverCore } from "../semantics/device.ts";
import { bindingDt, type DtNode, referenceDt } from "../semantics/devicetree.ts";
import type { DesignFacts } from "../semantics/facts.ts";
import { ENODEV, Kernel } from "../semantics/kernel.ts";
import { Monitors } from "../semantics/monitors.ts";
import {
  type FirmwareStore,
  type Rproc,
  type RprocState,
  rproc_boot,
  rproc_set_firmware,
  rproc_shutdown,
  rproc_trigger_recovery,
} from "../semantics/remoteproc_core.ts";
import { type RprocTeeApi, STM32_M4_COMPATIBLE, stm32RprocDriver } from "../semantics/stm32_rproc.ts";
import type { TeeDevice } from "../semantics/tee_client.ts";
import type { UnknownReason } from "./result.ts";

/** The firmware file name the STM32 driver asks for (v6.15: "rproc-<node name>-fw"). */
export const DEFAULT_FIRMWARE = "rproc-m4-fw";
export const ALTERNATE_FIRMWARE = "rproc-m4-alt-fw";

export interface WorldOptions {
  platform: PlatformName;
  /** "reference": ST's DT of the compatible; "binding": exactly what the design's binding requires. */
  dt: "reference" | "binding";
  fixtures: Fixtures;
  /**
   * The remoteproc_tee.c the world runs instead of the hand model's (the posted C, interpreted); on a kernel
   * with CONFIG_REMOTEPROC_TEE=n, the client API the STM32 driver calls (the posted header's stubs).
   */
  tee?: TeeDriverImpl;
  /** The stm32_rproc.c the world runs instead of the hand model's (a kernel tree's, interpreted). */
  stm32?: Stm32DriverImpl;
  /** The kernel config the world's kernel is built with (default: CONFIG_REMOTEPROC_TEE=y). */
  config?: KernelConfig;
  /** The reference DT's "st,auto-boot" flag (default off, as ST's board trees write it). */
  autoBoot?: boolean;
}

/** The drivers a design gives a world, as WorldOptions takes them (an absent one: the hand model's). */
export function worldDrivers(d: {
  tee?: TeeDriverImpl | undefined;
  stm32?: Stm32DriverImpl | undefined;
}): Pick<WorldOptions, "tee" | "stm32"> {
  return {
    ...(d.tee === undefined ? {} : { tee: d.tee }),
    ...(d.stm32 === undefined ? {} : { stm32: d.stm32 }),
  };
}

/** The config options a scenario can set (a scenario dimension: the same design on another kernel build). */
export interface KernelConfig {
  /** false: CONFIG_REMOTEPROC_TEE=n, no TEE client driver is built and remoteproc_tee.h's stubs stand in. */
  readonly REMOTEPROC_TEE: boolean;
}

/** What an implementation of a driver other than the hand model's runs in: the world's kernel and platform. */
export interface DriverWorld {
  k: Kernel;
  core: DriverCore;
  teedevs: readonly TeeDevice[];
  platform: Platform;
  /** /lib/firmware, as the core reads it. */
  store: FirmwareStore;
  /** The TEE client driver's API when it is the hand model's (a C STM32 driver calls it through the environment). */
  tee?: RprocTeeApi | null;
}

/**
 * An implementation of stm32_rproc.c other than the hand model's (src/interp/env/drivers.ts runs a kernel
 * tree's, with the series applied): its module init registers the platform driver with the world's driver
 * core; the rest of the kernel stays the hand model.
 */
export interface Stm32DriverImpl {
  readonly what: string;
  init(w: DriverWorld): Promise<DriverInstance>;
  cannotRun(e: unknown): UnknownReason | null;
  /**
   * The same driver built with CONFIG_REMOTEPROC_TEE=n, when its C is at hand: remoteproc_tee.h's static
   * inline stubs are then part of its own program, so a world of that config runs it with no TEE client
   * API beside it (absent: the world gives the driver the design's stubs, Design.teeStubs).
   */
  readonly withoutTee?: Stm32DriverImpl;
  /**
   * The core that runs from C with this driver, in its program (absent: the hand model's core). Its init
   * runs before the driver's.
   */
  readonly core?: CoreDriverImpl;
}

/**
 * An implementation of remoteproc_core.c (with remoteproc_virtio.c) other than the hand model's: the tree's,
 * interpreted in the same program as the tree's STM32 driver (src/interp/env/drivers.ts). Its init is the
 * core's initcalls (remoteproc_init, the rproc-virtio driver's registration), before the STM32 driver's
 * module init; the world's sysfs operations then call its functions instead of the hand model's.
 */
export interface CoreDriverImpl {
  readonly what: string;
  init(w: DriverWorld): Promise<CoreInstance>;
}

/** What the world reads of the registered rproc (the state monitor, the scenarios, the final state). */
export interface RprocView {
  readonly state: RprocState;
  readonly firmware: string;
  readonly recovery_disabled: boolean;
}

/** A core implementation's rproc operations on the rproc a device's driver registered (its drvdata). */
export interface CoreInstance {
  /** The rproc registered for `dev` (null: none), as the C's struct rproc says now. */
  rproc(dev: Device): RprocView | null;
  /** remoteproc_core.c: rproc_boot() */
  boot(dev: Device): Promise<number>;
  /** remoteproc_core.c: rproc_shutdown() */
  shutdown(dev: Device): Promise<number>;
  /** rproc->recovery_disabled = !enabled, then (enabled) remoteproc_core.c: rproc_trigger_recovery() */
  recovery(dev: Device, enabled: boolean): Promise<number>;
  /** remoteproc_core.c: rproc_set_firmware() */
  setFirmware(dev: Device, name: string): Promise<number>;
  /**
   * The core unloaded after every driver is unbound (remoteproc_exit: what its initcall made goes, as an
   * rmmod of a modular core does), so that the leak check sees only what the drivers and the core's rprocs
   * left behind.
   */
  exit(): Promise<void>;
}

export interface DriverInstance {
  /** The statement of the implementation's source that made a trace step, when it did. */
  siteOfStep(step: number): { file: string; line: number } | undefined;
  /**
   * The implementation's own state between two events, canonically (equal for equal states, whatever the
   * history that led there): what an explorer's state hash adds for a world that runs it.
   */
  stateDigest(): string;
}

/**
 * An implementation of remoteproc_tee.c other than the hand model's (src/interp/env/remoteproc_tee.ts runs
 * the posted C): the rest of the kernel stays the hand model and is its environment.
 */
export interface TeeDriverImpl {
  /** What runs, for reasons and reports (e.g. "the posted drivers/remoteproc/remoteproc_tee.c, interpreted"). */
  readonly what: string;
  /** rproc_tee_fw_mod_init in a world's kernel: registers the TEE bus driver; gives the client API. */
  init(w: DriverWorld): Promise<TeeDriverInstance>;
  /** What could not run, when `e` is the error a run of the implementation stopped with; else null. */
  cannotRun(e: unknown): UnknownReason | null;
}

export interface TeeDriverInstance {
  readonly api: RprocTeeApi;
  /** The statement of the implementation's source that made a trace step, when it did. */
  siteOfStep(step: number): { file: string; line: number } | undefined;
  /** The implementation's own state between two events, canonically (see DriverInstance). */
  stateDigest(): string;
}

/** The images a design boots: signed for the TEE compatible, plain ELF otherwise. */
export interface ImageSet {
  good: Uint8Array;
  alternate: Uint8Array;
  noResourceTable: Uint8Array;
  tampered: Uint8Array | null;
  badSignature: Uint8Array | null;
}

/** The TEE client driver's modules, loaded once and only for designs that have one. */
let teeModulesPromise: Promise<{
  mod: typeof import("../semantics/remoteproc_tee.ts");
  client: typeof import("../semantics/tee_client.ts");
}> | null = null;
function teeModules() {
  teeModulesPromise ??= Promise.all([
    import("../semantics/remoteproc_tee.ts"),
    import("../semantics/tee_client.ts"),
  ]).then(([mod, client]) => ({ mod, client }));
  return teeModulesPromise;
}

/**
 * The remoteproc_sysfs.c store function a driven step of the world's sysfs writes stands for ("start", "stop",
 * "recovery enabled", "firmware rproc-m4-fw"), or null: the world calls what the store calls, so a series that
 * changes the store is not what these writes run (scenarios/run.ts unknownReasons).
 */
export function sysfsStoreOf(driven: string): SysfsStore | null {
  if (driven === "start" || driven === "stop") return "state_store";
  if (driven === "recovery enabled" || driven === "recovery disabled") return "recovery_store";
  if (driven.startsWith("firmware ") && !driven.startsWith("firmware kick ")) return "firmware_store";
  return null;
}

/** The store functions sysfsStoreOf names: a cell's sysfs write is their step. */
export const SYSFS_STORES = ["state_store", "recovery_store", "firmware_store"] as const;
export type SysfsStore = (typeof SYSFS_STORES)[number];

/** WebCrypto's key class, where the runtime has one (keys are shared by forks). */
const CRYPTO_KEY: (abstract new (...args: never[]) => object) | undefined = globalThis.CryptoKey;

export class World {
  readonly k: Kernel;
  readonly core: DriverCore;
  readonly monitors: Monitors;
  readonly firmware = new Map<string, Uint8Array>();
  readonly rprocDev: Device;
  teeDev: Device | null = null;
  /** First non-zero return of a driven operation. */
  errno = 0;
  private tee: RprocTeeApi | null = null;
  /** The TEE driver instance when the world runs an implementation other than the hand model's. */
  teeInstance: TeeDriverInstance | null = null;
  /** The STM32 driver instance when the world runs an implementation other than the hand model's. */
  stm32Instance: DriverInstance | null = null;
  /** The core instance when the world runs the C core (the STM32 implementation's); null: the hand model's. */
  coreInstance: CoreInstance | null = null;
  /** Whether markInputsImmutable ran. */
  private inputsMarked = false;

  private constructor(
    readonly facts: DesignFacts,
    readonly platform: Platform,
    readonly dt: DtNode,
    readonly images: ImageSet,
    readonly usesTee: boolean,
    /** The ELF a boot stage loads before Linux (attach-running). */
    readonly bootStageElf: Uint8Array,
    readonly teeImpl: TeeDriverImpl | null = null,
    readonly stm32Impl: Stm32DriverImpl | null = null,
    /** CONFIG_REMOTEPROC_TEE: false when the kernel is built without the TEE client driver. */
    readonly teeBuilt = true,
  ) {
    this.k = new Kernel(facts);
    this.k.attachPlatform(platform);
    this.core = new DriverCore(this.k);
    this.monitors = new Monitors(this.k, platform);
    this.rprocDev = new Device(`${dt.name}@${dt.unitAddress.toString(16)}`, "platform", dt);
  }

  /** Builds the world of a design: platform, DT of the design's compatible, images, /lib/firmware. */
  static async create(facts: DesignFacts, opts: WorldOptions): Promise<World> {
    const fx = opts.fixtures;
    const platform = await createPlatform(opts.platform, { keys: [fx.keys.rsa] });
    const teeCompat = facts.stm32.teeCompatible;
    const teeBuilt = opts.config?.REMOTEPROC_TEE ?? true;
    // Without CONFIG_REMOTEPROC_TEE the TEE compatible cannot probe: the reference DT is the plain one.
    const usesTee = facts.tee !== null && teeCompat !== null && teeBuilt;
    const compatible = usesTee ? (teeCompat as string) : STM32_M4_COMPATIBLE;
    const procIdProperty = usesTee ? facts.stm32.procIdProperty : null;
    const reference = referenceDt(
      compatible,
      platform.regions.filter((r) => !r.secure),
      { autoBoot: opts.autoBoot === true, procId: platform.procId, procIdProperty },
    );
    const dt =
      opts.dt === "binding"
        ? bindingDt(
            reference,
            facts.stm32.bindingForbidsForTee,
            facts.stm32.bindingRequiresForTee,
            platform.procId,
          )
        : reference;
    const images: ImageSet = usesTee
      ? opts.platform === "stm32mp2-m33"
        ? {
            good: fx["stm32mp2-m33"].multi,
            alternate: fx["stm32mp2-m33"].ecdsa,
            noResourceTable: fx.stm32mp15.noResourceTable,
            tampered: null,
            badSignature: null,
          }
        : { ...fx.stm32mp15 }
      : { ...fx.elf, tampered: null, badSignature: null };
    const bootStageElf = opts.platform === "stm32mp2-m33" ? fx.elf.zephyr : fx.elf.good;
    const w = new World(
      facts,
      platform,
      dt,
      images,
      usesTee,
      bootStageElf,
      opts.tee ?? null,
      opts.stm32 ?? null,
      teeBuilt,
    );
    w.firmware.set(DEFAULT_FIRMWARE, images.good);
    w.firmware.set(ALTERNATE_FIRMWARE, images.alternate);
    return w;
  }

  /**
   * What the world reads of the registered rproc (null when the STM32 driver is not bound): the hand model's
   * rproc, or the C core's struct rproc.
   */
  get rprocView(): RprocView | null {
    if (this.coreInstance === null) return this.rproc;
    this.k.touch(`dev ${this.rprocDev.name}`, false);
    return this.rprocDev.driver === null ? null : this.coreInstance.rproc(this.rprocDev);
  }

  /**
   * The hand model's registered rproc, or null when the STM32 driver is not bound. A world that runs the C
   * core has none: asking for it is a bug (read rprocView).
   */
  get rproc(): Rproc | null {
    if (this.coreInstance !== null)
      throw new Error("this world runs the C core: its rproc is the C's struct rproc (World.rprocView)");
    this.k.touch(`dev ${this.rprocDev.name}`, false);
    return this.rprocDev.driver === null ? null : ((this.rprocDev.drvdata as Rproc | null) ?? null);
  }

  /** Runs one driven operation: records it, flushes queued work, checks the state. */
  async drive(op: string, body: () => Promise<number>): Promise<number> {
    this.k.driven(op, "begin");
    const ret = await body();
    await this.k.flushWork();
    this.k.driven(op, "end", ret);
    if (ret !== 0 && this.errno === 0) this.errno = ret;
    // With kernel threads another thread may be half-way through a boot: the state is compared at the end.
    if (this.k.threads === null) this.monitors.checkState(this.rprocView?.state ?? null, op);
    return ret;
  }

  /** The TEE devices the world's OP-TEE offers (one: the emulated OP-TEE; none without a TEE design). */
  private teedevList: TeeDevice[] = [];

  private store = { get: rebuildable([this.firmware] as const, (fw) => (name: string) => fw.get(name)) };

  /**
   * What a fork of this world shares with it: the immutable inputs (design facts, the images of
   * /lib/firmware and the boot stage, verification keys). Everything else is copied.
   */
  isShared(x: object): boolean {
    return (
      x === this.images.good ||
      x === this.images.alternate ||
      x === this.images.noResourceTable ||
      x === this.images.tampered ||
      x === this.images.badSignature ||
      x === this.bootStageElf ||
      x === this.facts ||
      (CRYPTO_KEY !== undefined && x instanceof CRYPTO_KEY)
    );
  }

  /**
   * Declares the device tree and the images immutable (forks share them), once, on the first fork: a world
   * that is never forked (a matrix cell) does not pay for the walk.
   */
  markInputsImmutable(): void {
    if (this.inputsMarked) return;
    markImmutable([this.dt, this.images, this.bootStageElf]);
    this.inputsMarked = true;
  }

  /** Binds the drivers: the TEE bus driver and device first (when the design has one), then stm32-rproc. */
  async bindDrivers(): Promise<number> {
    if (this.usesTee) {
      const { mod, client } = await teeModules();
      const teedevs = [{ name: "optee", implId: client.TEE_IMPL_ID_OPTEE, ta: this.platform.ta }];
      this.teedevList = teedevs;
      if (this.teeImpl !== null) {
        this.teeInstance = await this.teeImpl.init({
          k: this.k,
          core: this.core,
          teedevs,
          platform: this.platform,
          store: this.store,
        });
        this.tee = this.teeInstance.api;
      } else {
        this.tee = {
          ...mod.REMOTEPROC_TEE_FUNCTIONS,
          rproc_tee_register: mod.rproc_tee_register,
          rproc_tee_unregister: mod.rproc_tee_unregister,
        };
        await mod.rproc_tee_fw_mod_init(this.k, this.core, teedevs);
      }
      this.teeDev = new Device(mod.RPROC_TEE_BUS_DEVICE, "tee");
      await this.drive("bind remoteproc_tee", () => this.core.device_add(this.teeDev as Device));
    } else if (!this.teeBuilt && this.facts.tee !== null && this.teeImpl !== null) {
      // CONFIG_REMOTEPROC_TEE=n: no TEE client driver is built, and the STM32 driver, compiled against
      // remoteproc_tee.h, calls the header's stubs (what they do is the posted header's, interpreted).
      this.teeInstance = await this.teeImpl.init({
        k: this.k,
        core: this.core,
        teedevs: [],
        platform: this.platform,
        store: this.store,
      });
      this.tee = this.teeInstance.api;
    }
    // What the C core and the C STM32 driver run in (the TEE client API of the hand model when its C is not here).
    const drivers: DriverWorld = {
      k: this.k,
      core: this.core,
      teedevs: this.teedevList,
      platform: this.platform,
      store: this.store,
      tee: this.teeInstance === null ? this.tee : null,
    };
    const coreImpl = this.stm32Impl?.core;
    // The C core's initcalls (subsys_initcall, the rproc-virtio driver) run before any driver registers.
    if (coreImpl !== undefined) this.coreInstance = await coreImpl.init(drivers);
    if (this.stm32Impl !== null) {
      // The driver's module init registers it (module_platform_driver): the C's probe runs at device_add.
      this.stm32Instance = await this.stm32Impl.init(drivers);
    } else {
      const drv = stm32RprocDriver(this.k, { platform: this.platform, store: this.store, tee: this.tee });
      await this.core.driver_register(drv);
    }
    return this.drive("bind stm32-rproc", () => this.core.device_add(this.rprocDev));
  }

  /** sysfs state "start" → rproc_boot (the C core's, when the world runs it); sysfsStoreOf names it */
  start(): Promise<number> {
    return this.drive("start", () =>
      this.withCore(
        (c) => c.boot(this.rprocDev),
        (r) => rproc_boot(this.k, r, this.store),
      ),
    );
  }

  /** sysfs state "stop" → rproc_shutdown */
  stop(): Promise<number> {
    return this.drive("stop", () =>
      this.withCore(
        (c) => c.shutdown(this.rprocDev),
        (r) => rproc_shutdown(this.k, r),
      ),
    );
  }

  /** sysfs recovery "enabled" (clears the flag, triggers recovery) or "disabled" */
  recovery(enabled: boolean): Promise<number> {
    return this.drive(`recovery ${enabled ? "enabled" : "disabled"}`, () =>
      this.withCore(
        async (c) => {
          await c.recovery(this.rprocDev, enabled);
          return 0;
        },
        async (r) => {
          r.recovery_disabled = !enabled;
          if (enabled) await rproc_trigger_recovery(this.k, r, this.store);
          return 0;
        },
      ),
    );
  }

  /** sysfs firmware → rproc_set_firmware */
  setFirmware(name: string): Promise<number> {
    return this.drive(`firmware ${name}`, () =>
      this.withCore(
        (c) => c.setFirmware(this.rprocDev, name),
        (r) => rproc_set_firmware(this.k, r, name),
      ),
    );
  }

  /** Replaces a file in /lib/firmware (not a kernel operation). */
  replaceFirmwareFile(name: string, bytes: Uint8Array): Promise<number> {
    return this.drive(`replace /lib/firmware/${name}`, async () => {
      this.firmware.set(name, bytes);
      return 0;
    });
  }

  /** The firmware crashes: the platform's watchdog interrupt reaches stm32_rproc_wdg. */
  crash(): Promise<number> {
    return this.drive("watchdog crash", async () => {
      this.platform.copro.crash("watchdog");
      return 0;
    });
  }

  /** The firmware rings a doorbell on a vq channel (mailbox rx → stm32_rproc_mb_vq_work). */
  firmwareKick(channel: "vq0" | "vq1"): Promise<number> {
    return this.drive(`firmware kick ${channel}`, async () => {
      this.platform.copro.firmwareKick(channel);
      return 0;
    });
  }

  /** Unbinds a device's driver through the driver core (sysfs unbind). */
  unbind(dev: Device | null, what: string): Promise<number> {
    return this.drive(`unbind ${what}`, async () => {
      if (dev !== null) await this.core.device_release_driver(dev);
      return 0;
    });
  }

  /** Unbinds every driver still bound (STM32 first, then the TEE bus driver), then checks for leaks. */
  async teardown(): Promise<void> {
    this.k.note("core", "teardown", "begin", "unbind the drivers still bound");
    for (const dev of [this.rprocDev, this.teeDev]) {
      if (dev?.driver) await this.core.device_release_driver(dev);
    }
    await this.k.flushWork();
    if (this.coreInstance !== null) {
      await this.coreInstance.exit();
      await this.k.flushWork();
    }
    this.k.leakCheck();
  }

  /** The C core's operation when the world runs it, else the hand model's on its rproc (none: -ENODEV). */
  private async withCore(
    c: (core: CoreInstance) => Promise<number>,
    hand: (r: Rproc) => Promise<number>,
  ): Promise<number> {
    if (this.coreInstance !== null) return this.rprocView === null ? -ENODEV : c(this.coreInstance);
    const r = this.rproc;
    return r === null ? -ENODEV : hand(r);
  }
}
