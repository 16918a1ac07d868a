/**
 * The scenarios of the matrix (ids and meanings are a contract). Each binds the drivers with the reference
 * device tree of the design's compatible (unless it is about probe), drives sysfs-like operations, and ends
 * with a teardown that unbinds the drivers still bound. A scenario is n/a only when the design lacks the
 * mechanism it exercises.
 */
import type { PlatformName } from "../emulator/api.ts";
import type { DesignFacts } from "../semantics/facts.ts";
import { ALTERNATE_FIRMWARE, DEFAULT_FIRMWARE, type KernelConfig, type World } from "./world.ts";

export interface Scenario {
  id: string;
  title: string;
  platform?: PlatformName;
  dt?: "reference" | "binding";
  /**
   * The kernel config the scenario's kernel is built with, when not the default (CONFIG_REMOTEPROC_TEE=y);
   * its id ends with the option, e.g. `@REMOTEPROC_TEE=n`.
   */
  config?: KernelConfig;
  /** Why the scenario does not apply to a design, or null when it does (reads facts through the tracker). */
  notApplicable(facts: DesignFacts): string | null;
  /** Runs before the drivers are bound (e.g. a boot stage starts the coprocessor). */
  beforeProbe?(w: World): void;
  run(w: World): Promise<void>;
}

/**
 * n/a without a TEE driver and a TEE compatible in the STM32 driver. The reason says what this design lacks
 * (the facts it read), not which version it is.
 */
function needsTee(why: string): (facts: DesignFacts) => string | null {
  return (facts) => {
    if (facts.tee === null) return `the design has no TEE loader (fact tee: none): ${why}`;
    if (facts.stm32.teeCompatible === null)
      return `the STM32 driver of the design has no TEE compatible (fact stm32.teeCompatible: none): ${why}`;
    return null;
  };
}
const always = (): string | null => null;

async function boot(w: World): Promise<void> {
  await w.bindDrivers();
  await w.start();
}

export const SCENARIOS: readonly Scenario[] = [
  { id: "boot", title: "start", notApplicable: always, run: boot },
  {
    id: "boot-bad-signature",
    title: "start with an image whose signature does not verify",
    notApplicable: needsTee("no image signature is verified"),
    async run(w) {
      await w.bindDrivers();
      if (w.images.badSignature) await w.replaceFirmwareFile(DEFAULT_FIRMWARE, w.images.badSignature);
      await w.start();
    },
  },
  {
    id: "boot-no-resource-table",
    title: "start a valid image without a resource table",
    notApplicable: always,
    async run(w) {
      await w.bindDrivers();
      await w.replaceFirmwareFile(DEFAULT_FIRMWARE, w.images.noResourceTable);
      await w.start();
    },
  },
  {
    id: "shutdown",
    title: "start, stop",
    notApplicable: always,
    async run(w) {
      await boot(w);
      await w.stop();
    },
  },
  {
    id: "restart",
    title: "start, stop, start",
    notApplicable: always,
    async run(w) {
      await boot(w);
      await w.stop();
      await w.start();
    },
  },
  {
    id: "firmware-change",
    title: "start, stop, switch to another valid image, start",
    notApplicable: always,
    async run(w) {
      await boot(w);
      await w.stop();
      await w.setFirmware(ALTERNATE_FIRMWARE);
      await w.start();
    },
  },
  {
    id: "crash-recovery",
    title: "start, watchdog crash, recovery enabled",
    notApplicable: always,
    async run(w) {
      await boot(w);
      await w.crash();
    },
  },
  {
    id: "crash-recovery-bad-image",
    title: "start, replace the firmware file by a tampered image, crash",
    notApplicable: needsTee("no image is authenticated, so recovery cannot refuse a tampered one"),
    async run(w) {
      await boot(w);
      if (w.images.tampered) await w.replaceFirmwareFile(DEFAULT_FIRMWARE, w.images.tampered);
      await w.crash();
    },
  },
  {
    id: "crash-recovery-disabled",
    title: "recovery disabled, start, crash, stop",
    notApplicable: always,
    async run(w) {
      await w.bindDrivers();
      await w.recovery(false);
      await w.start();
      await w.crash();
      await w.stop();
    },
  },
  {
    id: "tee-start-fails",
    title: "the TEE invoke of START itself fails (transport, not the TA)",
    notApplicable: needsTee("no TEE invoke exists"),
    async run(w) {
      await w.bindDrivers();
      w.k.subscribe((e) => {
        if (e.type === "call" && e.fn === "rproc_tee_start") w.platform.ta.failNext("transport");
      });
      await w.start();
    },
  },
  {
    id: "tee-unbind-while-running",
    title: "start, unbind the TEE driver, then stop if the rproc still exists",
    notApplicable: needsTee("no TEE driver to unbind"),
    async run(w) {
      await boot(w);
      await w.unbind(w.teeDev, "remoteproc_tee");
      if (w.rprocView !== null) await w.stop();
    },
  },
  {
    id: "rproc-unbind-while-running",
    title: "start, unbind the STM32 driver",
    notApplicable: always,
    async run(w) {
      await boot(w);
      await w.unbind(w.rprocDev, "stm32-rproc");
    },
  },
  {
    id: "double-start",
    title: "start, start again, stop: the refcount keeps it running",
    notApplicable: always,
    async run(w) {
      await boot(w);
      await w.start();
      await w.stop();
    },
  },
  {
    id: "attach-running",
    title: "the coprocessor runs at probe: attach, then stop",
    notApplicable: always,
    beforeProbe(w) {
      w.platform.bootStageLoad(w.bootStageElf);
    },
    async run(w) {
      await boot(w);
      await w.stop();
    },
  },
  {
    id: "multi-firmware",
    title: "the TEE compatible bound to the M33 of stm32mp2: signed TF-M + Zephyr image, start, stop",
    platform: "stm32mp2-m33",
    notApplicable: needsTee("no TEE compatible to bind to the M33"),
    async run(w) {
      await boot(w);
      await w.stop();
    },
  },
  {
    id: "probe-binding-dt",
    title: "the device tree exactly as the binding requires, then start",
    dt: "binding",
    notApplicable: needsTee("the TEE compatible's binding does not exist"),
    run: boot,
  },
  {
    id: "rproc-remove@REMOTEPROC_TEE=n",
    title:
      "on a kernel with CONFIG_REMOTEPROC_TEE=n (the posted remoteproc_tee.h's stubs): start the non-TEE STM32 rproc, unbind it",
    config: { REMOTEPROC_TEE: false },
    notApplicable: (facts) =>
      facts.tee === null
        ? "the design has no TEE loader (fact tee: none): no remoteproc_tee.h, so CONFIG_REMOTEPROC_TEE changes nothing"
        : null,
    async run(w) {
      await boot(w);
      await w.unbind(w.rprocDev, "stm32-rproc");
    },
  },
];

export function scenarioById(id: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.id === id);
}
