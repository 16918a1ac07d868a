/**
 * The posted remoteproc_tee.c (and the series' remoteproc_tee.h), run by the interpreter as a world's TEE
 * client driver, with the hand model as the rest of the kernel (src/interp/env/kernel.ts). What the C
 * registers drives it: its module_init (or module_*_driver) registers the TEE bus driver with the hand
 * model's driver core, which probes and removes it through the C's ops; the functions the file exports are
 * the client API the STM32 driver of the hand model calls. Arguments are passed by the C parameter types
 * (struct device *, struct rproc *, const struct firmware *, an integer), so a version whose signatures
 * differ runs too; a function the posted file does not define, or a parameter the caller has nothing for,
 * stops the cell as an unknown naming it.
 *
 * Workers-safe: the parser is a parameter (loadTeeDriver); a loaded program is plain data.
 */
import type { Parser } from "web-tree-sitter";
import { layerOfFile, siteText, type UnknownReason } from "../../scenarios/result.ts";
import type { TeeDriverImpl, TeeDriverInstance } from "../../scenarios/world.ts";
import type { Device } from "../../semantics/device.ts";
import type { FwObj, Ptr, Rproc } from "../../semantics/remoteproc_core.ts";
import type { RprocTeeApi } from "../../semantics/stm32_rproc.ts";
import type { FunctionDef, Program } from "../ast.ts";
import { instantiate, type KConfig, loadProgram } from "../index.ts";
import type { Machine } from "../interp.ts";
import type { LowerProblem, SourceFile } from "../lower.ts";
import type { Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal } from "../values.ts";
import type { Served } from "./cmem.ts";
import { ENV_HEADERS, ENV_RPROC_MEMBERS, withRprocMembers } from "./headers.ts";
import { CannotRunC, type EnvModule, KernelEnv, type KernelWorld } from "./kernel.ts";
import { KERNEL_UTIL } from "./kernel_util.ts";

/** The C of a TEE driver: its .c file and the headers of the series it includes (loaded first). */
export interface TeeDriverSource {
  readonly source: SourceFile;
  readonly headers?: readonly SourceFile[];
  /** The kernel config (default: CONFIG_REMOTEPROC_TEE=y). */
  readonly config?: KConfig;
  /** Members the series adds to struct rproc, as declared in its include/linux/remoteproc.h hunks. */
  readonly rprocMembers?: readonly string[];
}

export interface LoadedTeeDriver {
  readonly program: Program;
  /** The .c file's path (trace steps and findings name it). */
  readonly file: string;
  /** File-scope constructs that did not lower (each an unknown where it would be used). */
  readonly problems: readonly LowerProblem[];
}

/** Lowers the driver with the environment's headers; KBUILD_MODNAME is the file's base name, as kbuild sets it. */
export function loadTeeDriver(parser: Parser, src: TeeDriverSource): LoadedTeeDriver {
  const file = src.source.path;
  const mod = file.slice(file.lastIndexOf("/") + 1).replace(/\.c$/, "");
  const lower = (members: readonly string[]) =>
    loadProgram(parser, [...(src.headers ?? []), src.source], {
      envHeaders: withRprocMembers(ENV_HEADERS, members),
      config: src.config ?? { CONFIG_REMOTEPROC_TEE: "y" },
      defines: { KBUILD_MODNAME: JSON.stringify(mod) },
    });
  const members = src.rprocMembers ?? [];
  let lowered = lower(members);
  // A member of a type the environment lacks would leave struct rproc undefined: only the members that
  // declare are (a use of another is unknown at its line: struct rproc has no member ...).
  if (members.length > 0 && !definesRproc(lowered.program))
    lowered = lower(members.filter((m) => definesRproc(lower([m]).program)));
  return { program: lowered.program, file, problems: lowered.problems };
}

/** Each world's storage of the struct rproc members a series adds (SERIES_RPROC_MEMBERS). */
const seriesMembers = new WeakMap<Rproc, Map<string, Uint8Array>>();

/**
 * The members a series adds to struct rproc (withRprocMembers), without a tree: no hand-model code reads
 * them, so their bytes are the C's own, zero as the rproc was allocated. Every other member of the
 * environment's struct rproc is the twin's (kernel.ts).
 */
const SERIES_RPROC_MEMBERS: EnvModule = {
  fns: () => ({}),
  rprocMembers: (env, r) => {
    const t = env.machine.structOf("rproc");
    if (t === null) return {};
    const of = (): Map<string, Uint8Array> => {
      let m = seriesMembers.get(r);
      if (m === undefined) {
        m = new Map();
        seriesMembers.set(r, m);
      }
      return m;
    };
    const out: Record<string, Served> = {};
    for (const f of env.machine.structs.get(t).fields) {
      const name = f.name;
      if (name === null || ENV_RPROC_MEMBERS.includes(name)) continue;
      const size = env.machine.structs.sizeOf(f.type);
      out[name] = {
        get: () => of().get(name) ?? new Uint8Array(size),
        set: (b) => {
          of().set(name, b.slice());
        },
      };
    }
    return out;
  },
};

/** Whether the lowered program has a complete struct rproc. */
function definesRproc(program: Program): boolean {
  return program.structs.some((d) => d.tag === "rproc" && d.complete);
}

/**
 * The environment modules of a TEE driver run without a tree: the kernel's string and delay helpers, and the
 * members the series adds to struct rproc.
 */
const TEE_ONLY_MODULES: readonly EnvModule[] = [KERNEL_UTIL, SERIES_RPROC_MEMBERS];

/** The client API functions of remoteproc_tee.h, by C name. */
const API = [
  "rproc_tee_register",
  "rproc_tee_unregister",
  "rproc_tee_load_fw",
  "rproc_tee_parse_fw",
  "rproc_tee_find_loaded_rsc_table",
  "rproc_tee_start",
  "rproc_tee_stop",
  "rproc_tee_release_fw",
] as const;

/** What a hand-model caller passes: the C parameters take them by type. */
interface Actuals {
  dev?: Device;
  rproc?: Rproc;
  fw?: FwObj;
  int?: number;
}

export interface DriverHooks {
  /** Called with each world's machine once it is instantiated (benchmarks count its statements). */
  onMachine?(m: Machine): void;
}

/** The interpreter instance of a world: the environment and the machine the driver runs on. */
export interface WorldMachine {
  readonly env: KernelEnv;
  readonly m: Machine;
}

/** The world's instance, made by the caller (several drivers of one program share it: src/interp/env/drivers.ts). */
export type MachineFor = (w: KernelWorld) => WorldMachine;

/** The TEE driver implementation a world runs (WorldOptions.tee / RunOptions.tee). */
export function interpretedTeeDriver(
  loaded: LoadedTeeDriver,
  hooks: DriverHooks = {},
  machineFor?: MachineFor,
): TeeDriverImpl {
  return interpretedApi(loaded, `the posted ${loaded.file}, interpreted`, true, hooks, machineFor);
}

/**
 * The client API of a kernel built with CONFIG_REMOTEPROC_TEE=n: the static inline stubs of the posted
 * remoteproc_tee.h (loaded with that config: loadTeeStubs), interpreted. Nothing registers at module load (no
 * TEE driver is built); a function the header does not define under that config stops the cell as unknown
 * naming it.
 */
export function interpretedTeeStubs(loaded: LoadedTeeDriver, hooks: DriverHooks = {}): TeeDriverImpl {
  return interpretedApi(
    loaded,
    `the CONFIG_REMOTEPROC_TEE=n stubs of the posted ${loaded.file}, interpreted`,
    false,
    hooks,
  );
}

/** The series' headers alone, lowered with CONFIG_REMOTEPROC_TEE=n (`file`: the one that holds the stubs). */
export function loadTeeStubs(
  parser: Parser,
  headers: readonly SourceFile[],
  file: string,
  config: KConfig = {},
): LoadedTeeDriver {
  const { program, problems } = loadProgram(parser, headers, { envHeaders: ENV_HEADERS, config });
  return { program, file, problems };
}

function interpretedApi(
  loaded: LoadedTeeDriver,
  what: string,
  atModuleLoad: boolean,
  hooks: DriverHooks,
  machineFor?: MachineFor,
): TeeDriverImpl {
  const where = atModuleLoad ? loaded.file : `${loaded.file} with CONFIG_REMOTEPROC_TEE=n`;
  return {
    what,
    init: async (w) => {
      let env: KernelEnv;
      let m: Machine;
      if (machineFor !== undefined) ({ env, m } = machineFor(w));
      else {
        // The driver's own file is the TEE client layer whatever its name (a fixture, a renamed file).
        env = new KernelEnv(w, (f) => (f === loaded.file ? "tee" : layerOfFile(f)), TEE_ONLY_MODULES);
        m = instantiate(loaded.program, env);
        env.attach(m);
        hooks.onMachine?.(m);
      }
      const call = async (name: string, def: FunctionDef | undefined, a: Actuals): Promise<Value> => {
        if (def === undefined)
          throw new CannotRunC(`${name}() is not defined by ${where}`, { file: loaded.file, line: 0 }, false);
        const args = def.params.map((p, i) => {
          const t = p.t;
          const tag = t.k === "ptr" && t.to.k === "struct" ? t.to.tag : null;
          if (tag === "device" && a.dev !== undefined) return env.devicePtr(a.dev);
          if (tag === "rproc" && a.rproc !== undefined) return env.rprocPtr(a.rproc);
          if (tag === "firmware" && a.fw !== undefined) return env.firmwarePtr(a.fw);
          if (t.k === "int" && a.int !== undefined) return intVal(T.uint, BigInt(a.int));
          throw new CannotRunC(
            `${name}(): parameter ${i + 1} (${p.name ?? "unnamed"}) is of a type the hand model's caller has nothing to pass for`,
            { file: def.file, line: def.line },
            false,
          );
        });
        return env.run(name, { name }, args);
      };
      const guard = async (k: unknown, body: () => Promise<Value>): Promise<Value> => {
        if (k !== w.k)
          throw new Error(
            "the interpreted driver runs on the kernel it was loaded in (a forked world is not supported yet)",
          );
        return body();
      };
      // A global function, or the header's static inline one (the CONFIG_REMOTEPROC_TEE=n stubs).
      const fn = (name: (typeof API)[number]): FunctionDef | undefined =>
        loaded.program.functions[name] ?? loaded.program.functions[`${loaded.file}\u0000${name}`];
      const num = (v: Value): number => (v.k === "int" ? Number(v.v) : 0);
      const api: RprocTeeApi = {
        rproc_tee_register: async (k, dev, rproc, procId) =>
          num(
            await guard(k, () =>
              call("rproc_tee_register", fn("rproc_tee_register"), { dev, rproc, int: procId }),
            ),
          ),
        rproc_tee_unregister: async (k, dev, rproc) =>
          num(await guard(k, () => call("rproc_tee_unregister", fn("rproc_tee_unregister"), { dev, rproc }))),
        rproc_tee_load_fw: async (k, rproc, fw) =>
          num(await guard(k, () => call("rproc_tee_load_fw", fn("rproc_tee_load_fw"), { rproc, fw }))),
        rproc_tee_parse_fw: async (k, rproc, fw) =>
          num(await guard(k, () => call("rproc_tee_parse_fw", fn("rproc_tee_parse_fw"), { rproc, fw }))),
        rproc_tee_find_loaded_rsc_table: async (k, rproc, fw): Promise<Ptr | null> => {
          const v = await guard(k, () =>
            call("rproc_tee_find_loaded_rsc_table", fn("rproc_tee_find_loaded_rsc_table"), { rproc, fw }),
          );
          return env.handPtr(v, "rproc_tee_find_loaded_rsc_table()");
        },
        rproc_tee_start: async (k, rproc) =>
          num(await guard(k, () => call("rproc_tee_start", fn("rproc_tee_start"), { rproc }))),
        rproc_tee_stop: async (k, rproc) =>
          num(await guard(k, () => call("rproc_tee_stop", fn("rproc_tee_stop"), { rproc }))),
        rproc_tee_release_fw: async (k, rproc) => {
          await guard(k, () => call("rproc_tee_release_fw", fn("rproc_tee_release_fw"), { rproc }));
        },
      };
      if (atModuleLoad) await moduleInit(env, m, loaded.file);
      const inst: TeeDriverInstance = {
        api,
        siteOfStep: (step) => env.siteOfStep(step),
        stateDigest: () => env.stateDigest(),
      };
      return inst;
    },
    cannotRun: (e) => {
      if (!(e instanceof CannotRunC)) return null;
      const reason: UnknownReason = {
        what: e.what,
        files: [e.site.file],
        why: e.fault
          ? `the posted C faulted (the kernel would oops) at ${siteText(e.site)}: ${e.what}`
          : e.site.line === 0
            ? `${e.what}, which the hand model's STM32 driver calls: an API the series renamed or removed? (the series' own callers run from C on a kernel tree only)`
            : `the posted C stopped at ${siteText(e.site)}: ${e.what}`,
        at: { file: e.site.file, line: e.site.line },
      };
      return reason;
    },
  };
}

/** Runs what the module registers at load: its module_init function, or the driver of module_*_driver. */
export async function moduleInit(
  env: KernelEnv,
  m: ReturnType<typeof instantiate>,
  file: string,
): Promise<void> {
  const init = m.global("__interp_module_init", file);
  if (init !== undefined) {
    const fn = m.read({ k: "ptr", t: { k: "ptr", to: T.void }, addr: init.obj.base, obj: init.obj }, 8);
    const addr = new DataView(fn.buffer, fn.byteOffset).getBigUint64(0, true);
    const ret = await env.run(
      "module_init",
      { fn: { k: "ptr", t: { k: "ptr", to: T.void }, addr, obj: m.find(addr) } },
      [],
    );
    if (ret.k === "int" && ret.v !== 0n)
      throw new CannotRunC(`module_init returned ${ret.v}`, { file, line: 0 }, false);
    return;
  }
  const drivers = m.program.globals.filter(
    (g) => g.name.startsWith("__interp_module_driver_") && g.file === file,
  );
  const first = drivers[0];
  if (first === undefined)
    throw new CannotRunC(
      `${file} registers nothing at module load (no module_init, no module_*_driver)`,
      { file, line: 0 },
      false,
    );
  const register = first.name.slice("__interp_module_driver_".length);
  const g = m.global(first.name, file);
  if (g === undefined) throw new CannotRunC(`${first.name} is not allocated`, { file, line: 0 }, false);
  const b = m.read({ k: "ptr", t: { k: "ptr", to: T.void }, addr: g.obj.base, obj: g.obj }, 8);
  const addr = new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
  await env.run(register, { name: register }, [
    { k: "ptr", t: { k: "ptr", to: T.void }, addr, obj: m.find(addr) },
  ]);
}

/**
 * A TEE driver whose C could not be loaded (it does not parse or lower): every cell that reaches the TEE
 * driver stops as unknown naming why, never the hand model in its place.
 */
export function unloadableTeeDriver(file: string, why: string): TeeDriverImpl {
  const what = `${file} could not be loaded: ${why}`;
  return {
    what,
    init: async () => {
      throw new CannotRunC(what, { file, line: 0 }, false);
    },
    cannotRun: (e) =>
      e instanceof CannotRunC
        ? { what: e.what, files: [e.site.file], why: `the posted C did not load: ${e.what}`, at: e.site }
        : null,
  };
}
