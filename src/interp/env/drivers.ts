/**
 * The drivers of a kernel tree run from C together: the tree's stm32_rproc.c (with the series applied) and
 * the posted remoteproc_tee.c, in one program with the tree's remoteproc headers and the environment's
 * headers for everything else (headers.ts ENV_HEADERS_FOR_TREE). One interpreter instance per world serves
 * both: the STM32 driver calls the TEE driver's functions as C calls C, and everything else (the remoteproc
 * core, the driver core, the device tree, the platform's syscons, resets, mailboxes and interrupts) is the
 * hand model through the environment's modules (src/interp/env/*.ts). The remoteproc core of the hand model
 * calls the driver's ops through the table the C registers.
 *
 * Workers-safe: the parser is a parameter (loadTreeDrivers); a loaded program is plain data.
 */
import type { Parser } from "web-tree-sitter";
import { createPlatform, loadFixtures } from "../../emulator/api.ts";
import { layerOfFile } from "../../scenarios/result.ts";
import type {
  CoreDriverImpl,
  CoreInstance,
  RprocView,
  Stm32DriverImpl,
  TeeDriverImpl,
} from "../../scenarios/world.ts";
import { type Device, DriverCore } from "../../semantics/device.ts";
import { Kernel } from "../../semantics/kernel.ts";
import type { RprocState } from "../../semantics/remoteproc_core.ts";
import type { RprocTeeApi } from "../../semantics/stm32_rproc.ts";
import type { Program } from "../ast.ts";
import { BUILTINS } from "../builtins.ts";
import { type NeededName, neededNames } from "../calls.ts";
import { instantiate, type KConfig, loadProgram, type Machine } from "../index.ts";
import type { LowerProblem, SourceFile } from "../lower.ts";
import type { Value } from "../memory.ts";
import { T } from "../types.ts";
import { CDriverData, DEVICE_CORE, sysfsActive } from "./device_core.ts";
import { FIRMWARE_LOADER } from "./firmware_loader.ts";
import { ENV_HEADERS_FOR_CORE, ENV_HEADERS_FOR_TREE } from "./headers.ts";
import { IDR } from "./idr.ts";
import { IRQ } from "./irq.ts";
import { CannotRunC, type EnvModule, KernelEnv, type KernelWorld } from "./kernel.ts";
import { KERNEL_UTIL } from "./kernel_util.ts";
import { MAILBOX } from "./mailbox.ts";
import { OF } from "./of.ts";
import { PLATFORM } from "./platform.ts";
import { REGMAP } from "./regmap.ts";
import { REMOTEPROC_CORE } from "./remoteproc_core.ts";
import { REMOTEPROC_FILES } from "./remoteproc_files.ts";
import { type DriverHooks, interpretedTeeDriver, moduleInit, type WorldMachine } from "./remoteproc_tee.ts";
import { teeModelModule } from "./remoteproc_tee_model.ts";
import { RESET } from "./reset.ts";
import { VIRTIO } from "./virtio.ts";
import { WORKQUEUE } from "./workqueue.ts";

/** The environment modules a tree's drivers run over (one per kernel C file they stand for). */
export const TREE_MODULES: readonly EnvModule[] = [
  OF,
  PLATFORM,
  IRQ,
  REGMAP,
  RESET,
  MAILBOX,
  WORKQUEUE,
  KERNEL_UTIL,
  REMOTEPROC_CORE,
];

/**
 * The environment modules when the tree's remoteproc core runs from C too: the drivers' without the bridge
 * to the hand model's core (remoteproc_core.ts), with the core's own kernel APIs and the core's files that are
 * not modelled (remoteproc_files.ts), and the platform device, virtio core and virtio ring the core's
 * virtio transport (the tree's remoteproc_virtio.c) runs over (virtio.ts).
 */
export const CORE_MODULES: readonly EnvModule[] = [
  ...TREE_MODULES.filter((m) => m !== REMOTEPROC_CORE),
  DEVICE_CORE,
  IDR,
  FIRMWARE_LOADER,
  REMOTEPROC_FILES,
  VIRTIO,
];

/** The config a tree's drivers are built with: the series' TEE support, an ARM SoC's SMC calling convention. */
export const TREE_CONFIG: KConfig = { CONFIG_REMOTEPROC_TEE: "y", CONFIG_HAVE_ARM_SMCCC: "y" };

/**
 * The same build with CONFIG_REMOTEPROC_TEE=n (the config scenarios): remoteproc_tee.h then gives the STM32
 * driver its static inline stubs, which become functions of the driver's own program.
 */
export const TREE_CONFIG_WITHOUT_TEE: KConfig = { CONFIG_HAVE_ARM_SMCCC: "y" };

/** Whether a config builds the TEE client driver (CONFIG_REMOTEPROC_TEE=y or =m). */
const teeBuilt = (config: KConfig): boolean =>
  config.CONFIG_REMOTEPROC_TEE === "y" || config.CONFIG_REMOTEPROC_TEE === "m";

export interface TreeDriverSources {
  /** The tree's headers the drivers include, in load order (include/linux/remoteproc.h first). */
  readonly headers: readonly SourceFile[];
  /** The TEE client driver (the posted remoteproc_tee.c), when it runs from C. */
  readonly tee: SourceFile | null;
  /** The STM32 driver (the tree's stm32_rproc.c with the series applied), when it runs from C. */
  readonly stm32: SourceFile | null;
  /** The core's ELF helpers (the tree's remoteproc_elf_loader.c), when they run from C. */
  readonly elf?: SourceFile | null;
  /**
   * The core itself (the tree's remoteproc_core.c with the series applied), loaded with the environment's
   * headers of its own APIs (headers_core.ts), when it is to run from C.
   */
  readonly core?: SourceFile | null;
  /**
   * The core's virtio transport (the tree's remoteproc_virtio.c: the rproc-virtio platform driver and the
   * virtio device of a vdev resource), loaded with the core when it runs from C.
   */
  readonly virtio?: SourceFile | null;
  readonly config?: KConfig;
}

export interface LoadedTreeDrivers {
  readonly program: Program;
  readonly tee: string | null;
  readonly stm32: string | null;
  readonly elf: string | null;
  readonly core: string | null;
  readonly virtio: string | null;
  readonly problems: readonly LowerProblem[];
  /** The config the program was lowered with. */
  readonly config: KConfig;
}

/**
 * Lowers the drivers into one program. KBUILD_MODNAME is each .c file's base name, as kbuild sets it: it is
 * redefined at the end of the file before (so no line of a posted file moves).
 */
export function loadTreeDrivers(parser: Parser, src: TreeDriverSources): LoadedTreeDrivers {
  const sources = [src.core ?? null, src.virtio ?? null, src.elf ?? null, src.tee, src.stm32].filter(
    (f): f is SourceFile => f !== null,
  );
  if (sources.length === 0) throw new Error("loadTreeDrivers: no driver to load");
  const mod = (f: SourceFile) => f.path.slice(f.path.lastIndexOf("/") + 1).replace(/\.c$/, "");
  const files: SourceFile[] = [...src.headers];
  sources.forEach((f, i) => {
    const next = sources[i + 1];
    files.push(
      next === undefined
        ? f
        : { path: f.path, text: `${f.text}\n#undef KBUILD_MODNAME\n#define KBUILD_MODNAME "${mod(next)}"\n` },
    );
  });
  const first = sources[0] as SourceFile;
  const config = src.config ?? TREE_CONFIG;
  const { program, problems } = loadProgram(parser, files, {
    envHeaders: src.core == null ? ENV_HEADERS_FOR_TREE : ENV_HEADERS_FOR_CORE,
    config,
    defines: { KBUILD_MODNAME: JSON.stringify(mod(first)) },
  });
  return {
    program,
    tee: src.tee?.path ?? null,
    stm32: src.stm32?.path ?? null,
    elf: src.elf?.path ?? null,
    core: src.core?.path ?? null,
    virtio: src.virtio?.path ?? null,
    problems,
    config,
  };
}

/** The implementations a world runs for the loaded drivers (both share one interpreter instance per world). */
export function interpretedTreeDrivers(
  loaded: LoadedTreeDrivers,
  hooks: DriverHooks = {},
): { tee?: TeeDriverImpl; stm32?: Stm32DriverImpl } {
  const instances = new WeakMap<Kernel, WorldMachine>();
  const machineFor = (w: KernelWorld, tee: RprocTeeApi | null = null): WorldMachine => {
    let inst = instances.get(w.k);
    if (inst === undefined) {
      // Without the posted TEE driver in the program, its API is the world's hand-model TEE client driver;
      // with CONFIG_REMOTEPROC_TEE=n there is none: the header's stubs in the program are the API.
      // With the core in the program, the environment is the core's (no bridge to the hand model's core).
      const base = loaded.core !== null ? CORE_MODULES : TREE_MODULES;
      const modules =
        loaded.tee !== null
          ? base
          : [
              ...base,
              teeModelModule(
                tee,
                teeBuilt(loaded.config)
                  ? undefined
                  : "the kernel is built with CONFIG_REMOTEPROC_TEE=n (no TEE client driver) and remoteproc_tee.h gives no stub of it",
              ),
            ];
      const env = new KernelEnv(
        w,
        (f) =>
          f === loaded.tee
            ? "tee"
            : f === loaded.stm32
              ? "stm32"
              : f === loaded.elf
                ? "core"
                : layerOfFile(f),
        modules,
      );
      const m = instantiate(loaded.program, env);
      env.attach(m);
      hooks.onMachine?.(m);
      inst = { env, m };
      instances.set(w.k, inst);
    }
    return inst;
  };
  const out: { tee?: TeeDriverImpl; stm32?: Stm32DriverImpl } = {};
  const coreFile = loaded.core;
  const virtioFile = loaded.virtio;
  const core: CoreDriverImpl | undefined =
    coreFile === null
      ? undefined
      : {
          what: `${[coreFile, virtioFile].filter((f) => f !== null).join(" and ")} of the kernel tree, interpreted`,
          init: async (w) => {
            const { env, m } = machineFor(w, w.tee ?? null);
            await coreInit(env, m, coreFile);
            // remoteproc_virtio.c's builtin_platform_driver: a device initcall, after the core's.
            if (virtioFile !== null) await moduleInit(env, m, virtioFile);
            return cCore(env, () => coreExit(env, m, coreFile));
          },
        };
  if (loaded.tee !== null)
    out.tee = interpretedTeeDriver(
      { program: loaded.program, file: loaded.tee, problems: loaded.problems },
      hooks,
      machineFor,
    );
  const stm32 = loaded.stm32;
  if (stm32 !== null) {
    const tee = out.tee;
    out.stm32 = {
      ...(core === undefined ? {} : { core }),
      what: teeBuilt(loaded.config)
        ? `${stm32} of the kernel tree, interpreted`
        : `${stm32} of the kernel tree with CONFIG_REMOTEPROC_TEE=n (remoteproc_tee.h's stubs inlined), interpreted`,
      init: async (w) => {
        const { env, m } = machineFor(w, w.tee ?? null);
        await moduleInit(env, m, stm32);
        return { siteOfStep: (step) => env.siteOfStep(step), stateDigest: () => env.stateDigest() };
      },
      cannotRun: (e) => {
        if (!(e instanceof CannotRunC)) return null;
        if (tee !== undefined) return tee.cannotRun(e);
        return {
          what: e.what,
          files: [e.site.file],
          why: e.fault
            ? `the C faulted (the kernel would oops) at ${e.site.file}:${e.site.line}: ${e.what}`
            : `the C stopped at ${e.site.file}:${e.site.line}: ${e.what}`,
          at: { file: e.site.file, line: e.site.line },
        };
      },
    };
  }
  return out;
}

/**
 * The world's rproc operations on the C core: the struct rproc the STM32 driver keeps as its device's driver
 * data, the core's exported functions called on it (what sysfs's state, recovery and firmware files call).
 */
function cCore(env: KernelEnv, exit: () => Promise<void>): CoreInstance {
  const rprocOf = (dev: Device): (Value & { k: "ptr" }) | null => {
    const d = dev.drvdata;
    return d instanceof CDriverData ? env.addrPtr(d.addr) : null;
  };
  const call = async (fn: string, p: Value & { k: "ptr" }, args: readonly Value[] = []): Promise<number> => {
    const v = await env.run(fn, { name: fn }, [p, ...args]);
    return v.k === "int" ? Number(BigInt.asIntN(32, v.v)) : 0;
  };
  /**
   * A write of one of the rproc's sysfs files (state, recovery, firmware): on its class device rproc->dev,
   * under kernfs's active reference (rproc_del's device_del waits for it); -ENODEV once the files are gone.
   */
  const sysfs = async (dev: Device, op: (p: Value & { k: "ptr" }) => Promise<number>): Promise<number> => {
    const p = rprocOf(dev);
    if (p === null) return -ENODEV;
    const end = sysfsActive(env, p.addr + BigInt(env.c.member("rproc", "dev").off));
    if (end === null) return -ENODEV;
    try {
      return await op(p);
    } finally {
      end();
    }
  };
  const stateName = (v: bigint): RprocState => {
    const name = rprocStates(env.machine.program).get(v);
    if (name === undefined)
      throw new CannotRunC(`rproc->state is ${v}, which is no rproc state`, { file: "?", line: 0 }, true);
    return name;
  };
  return {
    rproc: (dev): RprocView | null => {
      const p = rprocOf(dev);
      if (p === null) return null;
      const c = env.c;
      return {
        state: stateName(c.getInt(p, "rproc", "state")),
        firmware: env.machine.cstring(c.getPtr(p, "rproc", "firmware")),
        recovery_disabled: c.getInt(p, "rproc", "recovery_disabled") !== 0n,
      };
    },
    boot: (dev) => sysfs(dev, (p) => call("rproc_boot", p)),
    shutdown: (dev) => sysfs(dev, (p) => call("rproc_shutdown", p)),
    recovery: (dev, enabled) =>
      sysfs(dev, (p) => {
        env.c.setInt(p, "rproc", "recovery_disabled", enabled ? 0n : 1n);
        return enabled ? call("rproc_trigger_recovery", p) : Promise.resolve(0);
      }),
    setFirmware: (dev, name) => sysfs(dev, (p) => call("rproc_set_firmware", p, [env.stringPtr(name)])),
    exit,
  };
}

const ENODEV = 19;

/** Per program: the rproc states by the value of their enumerator (RPROC_OFFLINE …), the first of a value. */
const STATES = new WeakMap<Program, ReadonlyMap<bigint, RprocState>>();

/** The program's rproc states by value, read once (a state was a walk of every enumerator of the program). */
function rprocStates(program: Program): ReadonlyMap<bigint, RprocState> {
  let states = STATES.get(program);
  if (states === undefined) {
    const m = new Map<bigint, RprocState>();
    for (const [n, e] of Object.entries(program.enums))
      if (n.startsWith("RPROC_") && n !== "RPROC_LAST" && !m.has(e.v))
        m.set(e.v, n.slice("RPROC_".length).toLowerCase() as RprocState);
    states = m;
    STATES.set(program, states);
  }
  return states;
}

/**
 * The core's initcall (remoteproc_init, subsys_initcall): the class, the debugfs root, the panic notifier and
 * the recovery workqueue, before any driver registers an rproc.
 */
export function coreInit(env: KernelEnv, m: Machine, file: string): Promise<void> {
  return initcall(env, m, file, "__interp_subsys_initcall", "subsys_initcall");
}

/** The core's module exit (remoteproc_exit): what its initcall made is released, as unloading it would. */
export function coreExit(env: KernelEnv, m: Machine, file: string): Promise<void> {
  return initcall(env, m, file, "__interp_module_exit", "module_exit");
}

async function initcall(
  env: KernelEnv,
  m: Machine,
  file: string,
  global: string,
  what: string,
): Promise<void> {
  const init = m.global(global, file);
  if (init === undefined) throw new CannotRunC(`${file} has no ${what}`, { file, line: 0 }, false);
  const b = m.read({ k: "ptr", t: { k: "ptr", to: T.void }, addr: init.obj.base, obj: init.obj }, 8);
  const addr = new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
  const ret = await env.run(
    what,
    { fn: { k: "ptr", t: { k: "ptr", to: T.void }, addr, obj: m.find(addr) } },
    [],
  );
  if (ret.k === "int" && ret.v !== 0n)
    throw new CannotRunC(`the core's ${what} returned ${ret.v}`, { file, line: 0 }, false);
}

/**
 * What the core's files call that the core's environment lacks, on paths no STM32 world reaches, by name (a
 * cell that reaches one anyway stops unknown naming it and its line).
 */
export const CORE_UNREACHED: Readonly<Record<string, string>> = Object.fromEntries([
  ...[
    "iommu_domain_alloc",
    "iommu_set_fault_handler",
    "iommu_attach_device",
    "iommu_domain_free",
    "iommu_detach_device",
    "iommu_map",
    "iommu_unmap",
  ].map((n) => [n, "the IOMMU (rproc->has_iommu: no STM32 coprocessor is behind one)"]),
  ...[
    "is_vmalloc_addr",
    "page_to_phys",
    "vmalloc_to_page",
    "offset_in_page",
    "virt_addr_valid",
    "virt_to_phys",
  ].map((n) => [
    n,
    "rproc_va_to_pa (a carveout the firmware's resource table names, or a vdev buffer mapped before its device: the images here have neither)",
  ]),
  ["of_property_read_string_index", "rproc_of_parse_firmware (the STM32 driver does not call it)"],
  ...["EI_OSABI", "ELFOSABI_NONE", "strcpy"].map((n) => [
    n,
    "remoteproc_elf_helpers.h's ELF coredump writer (no device coredump: rproc->dump_conf is never set)",
  ]),
]);

/**
 * What the loaded core, its virtio transport and the tree's headers call that the core's environment
 * (CORE_MODULES) does not provide, with the file and line of the first use; what CORE_UNREACHED lists is
 * left out when `reached` is false.
 */
export async function coreNeeds(loaded: LoadedTreeDrivers, reached = false): Promise<NeededName[]> {
  const k = new Kernel();
  const platform = await createPlatform("stm32mp15", { keys: [(await loadFixtures()).keys.rsa] });
  const env = new KernelEnv({ k, core: new DriverCore(k), platform, teedevs: [] }, layerOfFile, CORE_MODULES);
  const files = [
    ...loaded.program.headerFiles.filter((f) => !f.startsWith("<")),
    ...[loaded.core, loaded.virtio].filter((f): f is string => f !== null),
  ];
  return files
    .flatMap((f) => neededNames(loaded.program, f, BUILTINS, (n) => env.fn(n) !== undefined))
    .filter((n) => reached || !Object.hasOwn(CORE_UNREACHED, n.name));
}
