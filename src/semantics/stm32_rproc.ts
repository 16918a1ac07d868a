/**
 * The STM32 remoteproc platform driver (drivers/remoteproc/stm32_rproc.c) over the emulator's platform:
 * "st,stm32mp1-m4" with st_rproc_ops, and, when the design has one (stm32.teeCompatible), the TEE compatible
 * whose ops table is built from stm32.teeOps by C function name. Syscons, resets and mailboxes act on the
 * emulated coprocessor; memory-region carveouts are ioremaps of its memory.
 */

import type { Platform } from "../emulator/api.ts";
import { M4_STATE } from "../emulator/api.ts";
import { InputError } from "../errors.ts";
import { rebuildable } from "../fork.ts";
import type { Device, Driver } from "./device.ts";
import {
  compatibleOf,
  type DtNode,
  of_parse_phandles,
  of_property_read_bool,
  of_property_read_strings,
  of_property_read_u32,
} from "./devicetree.ts";
import { type RprocOpName, TeeFn } from "./facts.ts";
import { EINVAL, ENOENT, ENOMEM, type Kernel } from "./kernel.ts";
import {
  devm_rproc_alloc,
  type FirmwareStore,
  type IoMem,
  type Ptr,
  type Rproc,
  type RprocMemEntry,
  type RprocOps,
  rproc_add,
  rproc_add_carveout,
  rproc_del,
  rproc_mem_entry_init,
  rproc_report_crash,
  rproc_resource_cleanup,
  rproc_shutdown,
} from "./remoteproc_core.ts";
import {
  rproc_elf_find_loaded_rsc_table,
  rproc_elf_get_boot_addr,
  rproc_elf_load_rsc_table,
  rproc_elf_load_segments,
  rproc_elf_sanity_check,
} from "./remoteproc_elf_loader.ts";
import { rproc_vq_interrupt } from "./remoteproc_virtio.ts";

export const STM32_M4_COMPATIBLE = "st,stm32mp1-m4";
const RSC_TBL_SIZE = 1024;

/** The TEE client driver functions the STM32 driver calls (src/semantics/remoteproc_tee.ts). */
export interface RprocTeeApi {
  rproc_tee_register(k: Kernel, dev: Device, rproc: Rproc, procId: number): Promise<number>;
  rproc_tee_unregister(k: Kernel, dev: Device, rproc: Rproc): Promise<number>;
  rproc_tee_load_fw(k: Kernel, rproc: Rproc, fw: import("./remoteproc_core.ts").FwObj): Promise<number>;
  rproc_tee_parse_fw(k: Kernel, rproc: Rproc, fw: import("./remoteproc_core.ts").FwObj): Promise<number>;
  rproc_tee_find_loaded_rsc_table(
    k: Kernel,
    rproc: Rproc,
    fw: import("./remoteproc_core.ts").FwObj,
  ): Promise<Ptr | null>;
  rproc_tee_start(k: Kernel, rproc: Rproc): Promise<number>;
  rproc_tee_stop(k: Kernel, rproc: Rproc): Promise<number>;
  rproc_tee_release_fw(k: Kernel, rproc: Rproc): Promise<void>;
}

interface Mailbox {
  name: "vq0" | "vq1" | "shutdown" | "detach";
  vq_id: number;
  chan: boolean;
}

/** struct stm32_rproc (driver data, rproc->priv). */
export interface Stm32Rproc {
  platform: Platform;
  np: DtNode;
  wdg_irq: boolean;
  rst: boolean;
  hold_boot_rst: boolean;
  holdboot_syscon: boolean;
  pdds: boolean;
  m4_state: boolean;
  rsctbl: boolean;
  mb: Mailbox[];
  rsc_va: Ptr | null;
  tee: boolean;
  /** /lib/firmware as the crash handler's recovery reads it (not a C field: the model's request_firmware). */
  store: FirmwareStore;
}

/** Everything the driver reaches outside the kernel model: the hardware and /lib/firmware. */
export interface Stm32Env {
  platform: Platform;
  store: FirmwareStore;
  /** The TEE client driver, when the design has one (loaded only then). */
  tee: RprocTeeApi | null;
}

const ddataOf = (r: Rproc): Stm32Rproc => r.priv as Stm32Rproc;

/** Non-secure ioremap access to the platform's memory. */
function ioOf(p: Platform): IoMem {
  return {
    read: rebuildable([p] as const, (p) => (pa: number, len: number) => {
      const r = p.nsRead(pa, len);
      return r.ok ? r.data : null;
    }),
    write: rebuildable([p] as const, (p) => (pa: number, bytes: Uint8Array) => p.nsWrite(pa, bytes).ok),
  };
}

/** dma-ranges translation (stm32_rproc_pa_to_da / stm32_rproc_da_to_pa). */
function translate(np: DtNode, addr: number, from: "pa" | "da"): number | null {
  for (const r of np.parentDmaRanges) {
    const base = from === "pa" ? r.pa : r.da;
    if (addr >= base && addr < base + r.size) return addr - base + (from === "pa" ? r.da : r.pa);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** models stm32_rproc.c: stm32_rproc_set_hold_boot() */
function stm32_rproc_set_hold_boot(k: Kernel, r: Rproc, hold: boolean): Promise<number> {
  return k.call(
    "stm32",
    "stm32_rproc_set_hold_boot",
    () => {
      const d = ddataOf(r);
      if (!d.hold_boot_rst && !d.holdboot_syscon) return -EINVAL;
      d.platform.copro.setHoldBoot(hold);
      return 0;
    },
    { detail: hold ? "HOLD_BOOT" : "RELEASE_BOOT" },
  );
}

/** models stm32_rproc.c: stm32_rproc_request_shutdown() — "detach" on the shutdown channel unless OFFLINE/CRASHED */
/** The model's stop steps that never fail (void in the C): a stop function may call them unchecked. */
export const STEPS_WITHOUT_ERROR: readonly string[] = ["stm32_rproc_request_shutdown"];

/** models stm32_rproc.c: stm32_rproc_request_shutdown() — asks the firmware to shut down (void) */
function stm32_rproc_request_shutdown(k: Kernel, r: Rproc): Promise<number> {
  return k.call("stm32", "stm32_rproc_request_shutdown", () => {
    const d = ddataOf(r);
    if (r.state === "offline" || r.state === "crashed") return 0;
    const mb = d.mb.find((m) => m.name === "shutdown");
    if (mb?.chan) {
      const res = d.platform.copro.mailboxSend("shutdown", "detach");
      if (res.outcome === "timeout")
        k.note("stm32", "stm32_rproc_request_shutdown", "log", "warning: remote FW shutdown without ack");
    }
    return 0;
  });
}

/** models stm32_rproc.c: stm32_rproc_release() — PDDS = 1 and M4 state OFF through the syscons */
function stm32_rproc_release(k: Kernel, r: Rproc): Promise<number> {
  return k.call("stm32", "stm32_rproc_release", () => {
    const d = ddataOf(r);
    if (d.pdds) d.platform.copro.setPdds(true);
    if (d.m4_state) d.platform.copro.writeM4State(M4_STATE.OFF);
    return 0;
  });
}

/** models stm32_rproc.c: stm32_rproc_mem_alloc() — ioremap_wc of the reserved region */
function stm32_rproc_mem_alloc(k: Kernel, _r: Rproc, mem: RprocMemEntry): Promise<number> {
  return k.call(
    "stm32",
    "stm32_rproc_mem_alloc",
    () => {
      k.mightSleep("ioremap_wc", "stm32_rproc_mem_alloc");
      // The allocation is the C function's that maps (as every other site names it), not the API's.
      mem.backing = k.alloc("mapping", `ioremap ${mem.name}`, mem.dma, "stm32_rproc_mem_alloc");
      mem.va = { kind: "io", pa: mem.dma };
      mem.is_iomem = true;
      return 0;
    },
    { detail: mem.name },
  );
}

/** models stm32_rproc.c: stm32_rproc_mem_release() — iounmap */
async function stm32_rproc_mem_release(k: Kernel, _r: Rproc, mem: RprocMemEntry): Promise<number> {
  if (mem.backing !== null) k.free(mem.backing, "stm32_rproc_mem_release");
  mem.backing = null;
  mem.va = null;
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Ops

/** models stm32_rproc.c: stm32_rproc_prepare() — one carveout per memory-region */
function stm32_rproc_prepare(k: Kernel, r: Rproc): Promise<number> {
  return k.call("stm32", "stm32_rproc_prepare", () => {
    const at = "stm32_rproc_prepare";
    const np = ddataOf(r).np;
    let index = 0;
    for (const ph of of_parse_phandles(np, "memory-region")) {
      const rmem = np.reservedMemory.get(ph.label);
      if (rmem === undefined) {
        k.note("stm32", at, "log", "unable to acquire memory-region");
        return -EINVAL;
      }
      const da = translate(np, rmem.base, "pa");
      if (da === null) {
        k.note("stm32", at, "log", `memory region not valid ${rmem.label}`);
        return -EINVAL;
      }
      let mem: RprocMemEntry;
      if (rmem.label !== "vdev0buffer") {
        mem = rproc_mem_entry_init(
          k,
          rmem.label,
          rmem.base,
          rmem.size,
          da,
          stm32_rproc_mem_alloc,
          stm32_rproc_mem_release,
          at,
        );
      } else {
        // rproc_of_resm_mem_entry_init: da = the region base, untranslated; no alloc, no release
        mem = rproc_mem_entry_init(k, rmem.label, 0, rmem.size, rmem.base, null, null, at);
        mem.of_resm_idx = index;
      }
      rproc_add_carveout(r, mem);
      index++;
    }
    return 0;
  });
}

/** models stm32_rproc.c: stm32_rproc_parse_fw() — a firmware without a table only warns */
function stm32_rproc_parse_fw(
  k: Kernel,
  r: Rproc,
  fw: import("./remoteproc_core.ts").FwObj,
): Promise<number> {
  return k.call(
    "stm32",
    "stm32_rproc_parse_fw",
    async () => {
      if (await rproc_elf_load_rsc_table(k, r, fw)) {
        k.note("stm32", "stm32_rproc_parse_fw", "log", "warning: no resource table found for this firmware");
      }
      return 0;
    },
    { ignores: ["rproc_elf_load_rsc_table"] },
  );
}

/** models stm32_rproc.c: stm32_rproc_start() */
function stm32_rproc_start(k: Kernel, r: Rproc): Promise<number> {
  return k.call("stm32", "stm32_rproc_start", async () => {
    const d = ddataOf(r);
    if (d.pdds) d.platform.copro.setPdds(false);
    const ret = await stm32_rproc_set_hold_boot(k, r, false);
    if (ret) return ret;
    return stm32_rproc_set_hold_boot(k, r, true);
  });
}

/** models stm32_rproc.c: stm32_rproc_stop() */
function stm32_rproc_stop(k: Kernel, r: Rproc): Promise<number> {
  return k.call("stm32", "stm32_rproc_stop", async () => {
    const d = ddataOf(r);
    await stm32_rproc_request_shutdown(k, r);
    const ret = await stm32_rproc_set_hold_boot(k, r, true);
    if (ret) return ret;
    if (d.rst) d.platform.copro.assertReset();
    return stm32_rproc_release(k, r);
  });
}

/** models stm32_rproc.c: stm32_rproc_attach() */
function stm32_rproc_attach(k: Kernel, r: Rproc): Promise<number> {
  return k.call("stm32", "stm32_rproc_attach", () => stm32_rproc_set_hold_boot(k, r, true));
}

/** models stm32_rproc.c: stm32_rproc_detach() */
function stm32_rproc_detach(k: Kernel, r: Rproc): Promise<number> {
  return k.call("stm32", "stm32_rproc_detach", () => {
    const d = ddataOf(r);
    if (d.mb.find((m) => m.name === "detach")?.chan) {
      const res = d.platform.copro.mailboxSend("detach", "stop");
      if (res.outcome === "timeout")
        k.note("stm32", "stm32_rproc_detach", "log", "warning: remote FW detach without ack");
    }
    return stm32_rproc_set_hold_boot(k, r, false);
  });
}

/** models stm32_rproc.c: stm32_rproc_kick() */
async function stm32_rproc_kick(k: Kernel, r: Rproc, vqid: number): Promise<void> {
  await k.call(
    "stm32",
    "stm32_rproc_kick",
    () => {
      if (k.WARN_ON(vqid >= 2, "stm32_rproc_kick", `vqid ${vqid} out of range`)) return undefined;
      const mb = ddataOf(r).mb.find((m) => m.vq_id === vqid);
      if (mb?.chan) ddataOf(r).platform.copro.mailboxSend(mb.name, "kick");
      return undefined;
    },
    { detail: `vq${vqid}` },
  );
}

/** models stm32_rproc.c: stm32_rproc_get_loaded_rsc_table() — RSC_TBL_SIZE whatever the real size */
async function stm32_rproc_get_loaded_rsc_table(
  k: Kernel,
  r: Rproc,
): Promise<{ table: Ptr; size: number } | null | number> {
  let out: { table: Ptr; size: number } | null | number = null;
  await k.call("stm32", "stm32_rproc_get_loaded_rsc_table", () => {
    const d = ddataOf(r);
    if (d.rsc_va === null) {
      if (!d.rsctbl) {
        out = -EINVAL;
        return -EINVAL;
      }
      const da = d.platform.copro.readRscTableReg();
      if (da === 0) {
        out = -ENOENT;
        return -ENOENT;
      }
      const pa = translate(d.np, da, "da");
      if (pa === null) {
        out = -EINVAL;
        return -EINVAL;
      }
      k.mightSleep("devm_ioremap_wc", "stm32_rproc_get_loaded_rsc_table");
      k.alloc("mapping", "rsc_va", pa, "stm32_rproc_get_loaded_rsc_table", r.dev);
      d.rsc_va = { kind: "io", pa };
    }
    out = { table: d.rsc_va, size: RSC_TBL_SIZE };
    return 0;
  });
  return out;
}

/** The TEE stop op: the steps of stm32.teeStopSteps, in order; the first error is returned. */
function stm32_rproc_tee_stop(env: Stm32Env): (k: Kernel, r: Rproc) => Promise<number> {
  return rebuildable(
    [env] as const,
    (env) => (k: Kernel, r: Rproc) =>
      k.call("stm32", "stm32_rproc_tee_stop", async () => {
        for (const name of k.facts.stm32.teeStopSteps) {
          const step = resolveFn(env, name) as (k: Kernel, r: Rproc) => Promise<number>;
          const ret = await step(k, r);
          if (ret) return ret;
        }
        return 0;
      }),
  );
}

/** The functions of this file and the ELF loader an ops table of the design may name. */
const OP_FUNCTIONS: Record<string, unknown> = {
  stm32_rproc_prepare,
  stm32_rproc_start,
  stm32_rproc_stop,
  stm32_rproc_attach,
  stm32_rproc_detach,
  stm32_rproc_kick,
  stm32_rproc_parse_fw,
  stm32_rproc_get_loaded_rsc_table,
  stm32_rproc_request_shutdown,
  stm32_rproc_release,
  rproc_elf_load_segments,
  rproc_elf_load_rsc_table,
  rproc_elf_find_loaded_rsc_table,
  rproc_elf_sanity_check,
  rproc_elf_get_boot_addr,
};

/** The TEE driver's functions an ops table may name (those of RprocTeeApi that talk to the TA). */
const TEE_OP_FUNCTIONS: readonly (keyof RprocTeeApi)[] = TeeFn.options;

/**
 * Every C function name stm32.teeOps may give the model: this file's and the ELF loader's, the TEE driver's,
 * and stm32_rproc_tee_stop (run as the steps of stm32.teeStopSteps; a stop op of another name whose body the
 * mapper read as those steps runs so too).
 */
export const MODELLED_OP_FUNCTIONS: readonly string[] = [
  ...Object.keys(OP_FUNCTIONS),
  ...TEE_OP_FUNCTIONS,
  "stm32_rproc_tee_stop",
];

/** The name -> function table the TEE ops table is built from (stm32.teeOps values are C function names). */
function functionTable(env: Stm32Env): Record<string, unknown> {
  const table: Record<string, unknown> = {
    ...OP_FUNCTIONS,
    stm32_rproc_tee_stop: stm32_rproc_tee_stop(env),
  };
  if (env.tee !== null) {
    for (const [name, fn] of Object.entries(env.tee)) table[name] = fn;
  }
  return table;
}

const functionTables = new WeakMap<Stm32Env, Record<string, unknown>>();

function resolveFn(env: Stm32Env, name: string): unknown {
  let table = functionTables.get(env);
  if (table === undefined) {
    table = functionTable(env);
    functionTables.set(env, table);
  }
  const fn = table[name];
  if (typeof fn !== "function") {
    throw new InputError(`no modelled C function named "${name}"`, { subject: "stm32.teeOps" });
  }
  return fn;
}

/** st_rproc_ops (the segment loader under the design's op name). */
function st_rproc_ops(k: Kernel): RprocOps {
  return {
    prepare: stm32_rproc_prepare,
    start: stm32_rproc_start,
    stop: stm32_rproc_stop,
    attach: stm32_rproc_attach,
    detach: stm32_rproc_detach,
    kick: stm32_rproc_kick,
    [k.facts.core.loadSegmentsOp]: rproc_elf_load_segments,
    parse_fw: stm32_rproc_parse_fw,
    find_loaded_rsc_table: rproc_elf_find_loaded_rsc_table,
    get_loaded_rsc_table: stm32_rproc_get_loaded_rsc_table,
    sanity_check: rproc_elf_sanity_check,
    get_boot_addr: rproc_elf_get_boot_addr,
  };
}

/** st_rproc_tee_ops, built from stm32.teeOps. */
function st_rproc_tee_ops(k: Kernel, env: Stm32Env): RprocOps {
  const ops: Record<string, unknown> = {};
  for (const [op, name] of Object.entries(k.facts.stm32.teeOps ?? {}) as [RprocOpName, string][]) {
    // A stop function the series names otherwise is the steps the mapper read from its body.
    const steps =
      op === "stop" && !MODELLED_OP_FUNCTIONS.includes(name) && k.facts.stm32.teeStopSteps.length > 0;
    ops[op] = steps ? resolveFn(env, "stm32_rproc_tee_stop") : resolveFn(env, name);
  }
  return ops as RprocOps;
}

// ---------------------------------------------------------------------------------------------------------
// Probe / remove

/** models stm32_rproc.c: stm32_rproc_parse_dt() */
function stm32_rproc_parse_dt(k: Kernel, dev: Device, r: Rproc, d: Stm32Rproc): Promise<number> {
  return k.call("stm32", "stm32_rproc_parse_dt", () => {
    const at = "stm32_rproc_parse_dt";
    const np = d.np;
    if (of_property_read_u32(np, "interrupts") !== null) {
      k.mightSleep("devm_request_irq", at);
      d.wdg_irq = true;
      const irq = { enabled: true };
      d.platform.copro.onWatchdog(
        rebuildable([irq, k, dev, d] as const, (irq, k, dev, d) => () => {
          if (irq.enabled) stm32_rproc_wdg(k, dev, d);
        }),
      );
      k.devm_add_action(
        dev,
        "devm_free_irq",
        rebuildable([irq] as const, (irq) => () => {
          irq.enabled = false;
        }),
      );
    }
    const resetNames = of_property_read_strings(np, "reset-names");
    const resets = of_parse_phandles(np, "resets");
    d.rst = resets.length > 0;
    if (!d.rst && k.facts.stm32.parseDtRequiresMcuReset) {
      k.note("stm32", at, "log", "failed to get mcu_reset");
      return -ENOENT;
    }
    d.hold_boot_rst = resetNames.includes("hold_boot");
    d.holdboot_syscon = of_property_read_bool(np, "st,syscfg-holdboot");
    if (!d.hold_boot_rst && !of_property_read_bool(np, "st,syscfg-tz") && !d.holdboot_syscon) {
      k.note("stm32", at, "log", "failed to get hold boot");
      return -EINVAL;
    }
    d.pdds = of_property_read_bool(np, "st,syscfg-pdds");
    r.auto_boot = of_property_read_bool(np, "st,auto-boot");
    d.m4_state = of_property_read_bool(np, "st,syscfg-m4-state");
    if (!d.m4_state) {
      k.note("stm32", at, "log", "m4 state not supported");
      return 0;
    }
    d.rsctbl = of_property_read_bool(np, "st,syscfg-rsc-tbl");
    return 0;
  });
}

/** models stm32_rproc.c: stm32_rproc_wdg() — the watchdog interrupt */
function stm32_rproc_wdg(k: Kernel, dev: Device, d: Stm32Rproc): void {
  k.note("stm32", "stm32_rproc_wdg", "irq", "watchdog interrupt");
  rproc_report_crash(k, (dev.drvdata as Rproc | null) ?? null, "watchdog", d.store);
}

/** models stm32_rproc.c: stm32_rproc_request_mbox() — the vq channels get stm32_rproc_mb_callback */
function stm32_rproc_request_mbox(k: Kernel, r: Rproc, d: Stm32Rproc): Promise<number> {
  return k.call("stm32", "stm32_rproc_request_mbox", () => {
    const names = of_property_read_strings(d.np, "mbox-names");
    const template: Mailbox[] = [
      { name: "vq0", vq_id: 0, chan: false },
      { name: "vq1", vq_id: 1, chan: false },
      { name: "shutdown", vq_id: -1, chan: false },
      { name: "detach", vq_id: -1, chan: false },
    ];
    for (const mb of template) {
      mb.chan = names.includes(mb.name);
      if (!mb.chan) k.note("stm32", "stm32_rproc_request_mbox", "log", `warning: cannot get ${mb.name} mbox`);
    }
    d.mb = template;
    d.platform.copro.onMailbox(
      rebuildable([k, r, d] as const, (k, r, d) => (channel: string) => {
        const mb = d.mb.find((m) => m.name === channel && m.chan && m.vq_id >= 0);
        if (mb !== undefined) stm32_rproc_mb_callback(k, r, mb);
      }),
    );
    return 0;
  });
}

/** models stm32_rproc.c: stm32_rproc_free_mbox() — the channels stop delivering */
function stm32_rproc_free_mbox(k: Kernel, d: Stm32Rproc): void {
  k.note("stm32", "stm32_rproc_free_mbox", "log", "mailbox channels freed");
  for (const mb of d.mb) mb.chan = false;
}

/** models stm32_rproc.c: stm32_rproc_mb_callback() — mailbox (atomic) context: queues the vq work */
function stm32_rproc_mb_callback(k: Kernel, r: Rproc, mb: Mailbox): void {
  k.note("stm32", "stm32_rproc_mb_callback", "irq", `${mb.name} doorbell`);
  k.queue_work(mb, "stm32_rproc_mb_vq_work", () => stm32_rproc_mb_vq_work(k, r, mb.vq_id));
}

/** models stm32_rproc.c: stm32_rproc_mb_vq_work() — takes rproc->lock, then rproc_vq_interrupt */
async function stm32_rproc_mb_vq_work(k: Kernel, r: Rproc, vqId: number): Promise<void> {
  await k.call("stm32", "stm32_rproc_mb_vq_work", async () => {
    const at = "stm32_rproc_mb_vq_work";
    await k.lockWait(r.lock, "mutex_lock");
    r.lock.mutex_lock(at);
    if (r.state === "running" || r.state === "attached") await rproc_vq_interrupt(k, r, vqId);
    r.lock.unlock(at);
    return undefined;
  });
}

/** The rproc_tee_unregister call of remove and the probe error path, per stm32.teeUnregisterOnRemove. */
async function teeUnregister(k: Kernel, env: Stm32Env, dev: Device, r: Rproc, isTee: boolean): Promise<void> {
  const when = k.facts.stm32.teeUnregisterOnRemove;
  if (env.tee === null || when === "never" || (when === "tee-only" && !isTee)) return;
  await env.tee.rproc_tee_unregister(k, dev, r);
}

/** models stm32_rproc.c: stm32_rproc_probe() */
async function stm32_rproc_probe(k: Kernel, dev: Device, env: Stm32Env): Promise<number> {
  const np = dev.of_node as DtNode;
  const at = "stm32_rproc_probe";
  const isTee = compatibleOf(np) === k.facts.stm32.teeCompatible;
  let procId = 0;
  if (isTee) {
    const prop = k.facts.stm32.procIdProperty;
    const v = prop === null ? null : of_property_read_u32(np, prop);
    if (v === null && k.facts.stm32.procIdRequired) {
      k.note("stm32", at, "log", `failed to get ${prop ?? "proc id"}`);
      return -EINVAL;
    }
    procId = v ?? 0;
  }
  const ops = isTee ? st_rproc_tee_ops(k, env) : st_rproc_ops(k);
  const r = devm_rproc_alloc(k, dev, np.name, ops, null, ioOf(env.platform));
  if (r === null) return -ENOMEM;
  const d: Stm32Rproc = {
    platform: env.platform,
    np,
    wdg_irq: false,
    rst: false,
    hold_boot_rst: false,
    holdboot_syscon: false,
    pdds: false,
    m4_state: false,
    rsctbl: false,
    mb: [],
    rsc_va: null,
    tee: isTee,
    store: env.store,
  };
  r.priv = d;
  if (isTee) {
    const ret = await (env.tee as RprocTeeApi).rproc_tee_register(k, dev, r, procId);
    if (ret) {
      k.note("stm32", at, "log", "signed firmware not supported by TEE");
      return ret;
    }
  }
  let ret = await stm32_rproc_parse_dt(k, dev, r, d);
  if (!ret && np.parentDmaRanges.length === 0) ret = -EINVAL;
  if (ret) {
    await teeUnregister(k, env, dev, r, isTee);
    return ret;
  }
  if (d.m4_state && env.platform.copro.readM4State() === M4_STATE.CRUN) {
    r.state = "detached";
    k.stateChange("core", "stm32_rproc_get_m4_status", r.name, "offline", "detached");
  }
  k.touch(`dev ${dev.name}`, true);
  dev.drvdata = r;
  await stm32_rproc_request_mbox(k, r, d);
  ret = await rproc_add(k, r, env.store);
  if (ret) {
    stm32_rproc_free_mbox(k, d);
    await rproc_resource_cleanup(k, r);
    await teeUnregister(k, env, dev, r, isTee);
    return ret;
  }
  return 0;
}

/** models stm32_rproc.c: stm32_rproc_remove() */
async function stm32_rproc_remove(k: Kernel, dev: Device, env: Stm32Env): Promise<void> {
  const r = dev.drvdata as Rproc;
  if (r.power.read() > 0) await rproc_shutdown(k, r);
  await rproc_del(k, r);
  await teeUnregister(k, env, dev, r, ddataOf(r).tee);
  stm32_rproc_free_mbox(k, ddataOf(r));
}

/** The platform driver "stm32-rproc" of one kernel: both compatibles when the design has the TEE one. */
export function stm32RprocDriver(k: Kernel, env: Stm32Env): Driver {
  return {
    name: "stm32-rproc",
    bus: "platform",
    match: rebuildable([k] as const, (k) => (dev: Device) => {
      const c = dev.of_node === null ? "" : compatibleOf(dev.of_node);
      return c === STM32_M4_COMPATIBLE || (c !== "" && c === k.facts.stm32.teeCompatible);
    }),
    probe: rebuildable(
      [env] as const,
      (env) => (kk: Kernel, dev: Device) =>
        kk.call("stm32", "stm32_rproc_probe", () => stm32_rproc_probe(kk, dev, env)),
    ),
    remove: rebuildable([env] as const, (env) => async (kk: Kernel, dev: Device) => {
      await kk.call("stm32", "stm32_rproc_remove", async () => {
        await stm32_rproc_remove(kk, dev, env);
        return undefined;
      });
    }),
  };
}
