/**
 * DesignFacts: every variation point in which mainline (v6.15) and the versions of the remoteproc TEE series
 * differ. This is the contract between three parts of rproc-review:
 *  - the model (src/semantics) executes behaviour *only* through these facts, never through a version name;
 *  - the mapper (src/semantics/map) derives each fact from a series' diff, with evidence;
 *  - the hand-read oracle values (src/semantics/versions.ts) hold the facts of the built-in versions.
 *
 * A fact is addressed by its dotted path (e.g. "core.releaseFwCalls"); FACT_PATHS lists every leaf. Evidence,
 * variant files ({"base":"v16","set":{"<path>":value}}) and "unknown" markings all use these paths.
 */
import { z } from "zod";

/** Places in remoteproc_core.c where the core reaches ops->release_fw (directly or through a wrapper). */
export const ReleaseFwSite = z.enum([
  /** rproc_boot: right after rproc_fw_boot() returned an error, before release_firmware(). */
  "rproc_boot:after_fw_boot_error",
  /** rproc_boot_recovery: right after rproc_start() returned an error, before release_firmware(). */
  "rproc_boot_recovery:after_start_error",
  /** rproc_fw_boot, clean_up_resources label: before kfree(cached_table). */
  "rproc_fw_boot:clean_up_resources:before_table_free",
  /** rproc_fw_boot, clean_up_resources label: after kfree(cached_table) and table_ptr = NULL. */
  "rproc_fw_boot:clean_up_resources:after_table_free",
  /** rproc_start, reset_table_ptr error label. */
  "rproc_start:reset_table_ptr",
  /** rproc_shutdown: after rproc_disable_iommu(), before kfree(cached_table). */
  "rproc_shutdown:before_table_free",
  /** rproc_shutdown: after kfree(cached_table) and table_ptr = NULL. */
  "rproc_shutdown:after_table_free",
  /** rproc_detach: before kfree(cached_table). */
  "rproc_detach:before_table_free",
  /** rproc_detach: after kfree(cached_table). */
  "rproc_detach:after_table_free",
]);
export type ReleaseFwSite = z.infer<typeof ReleaseFwSite>;

/** Places where the core calls ops->load_fw (through rproc_load_fw()). */
export const LoadFwSite = z.enum([
  /** rproc_boot: after request_firmware(), before rproc_fw_boot(). */
  "rproc_boot:before_fw_boot",
  /** rproc_boot_recovery: after request_firmware(), before rproc_start(). */
  "rproc_boot_recovery:before_start",
]);
export type LoadFwSite = z.infer<typeof LoadFwSite>;

export const LoadFwCall = z
  .object({
    site: LoadFwSite,
    /**
     * What the caller does when load_fw fails: "unwind" releases the firmware buffer (release_firmware) and
     * unwinds as the surrounding function does on its other errors; "return-early" leaves the function at once
     * (goto downref_rproc / return ret), skipping release_firmware().
     */
    onError: z.enum(["unwind", "return-early"]),
  })
  .strict();
export type LoadFwCall = z.infer<typeof LoadFwCall>;

/** rproc_ops members (include/linux/remoteproc.h), with the series' additions. */
export const RprocOpName = z.enum([
  "prepare",
  "unprepare",
  "start",
  "stop",
  "attach",
  "detach",
  "kick",
  "da_to_va",
  "parse_fw",
  "handle_rsc",
  "find_loaded_rsc_table",
  "get_loaded_rsc_table",
  "load",
  "load_segments",
  "sanity_check",
  "get_boot_addr",
  "panic",
  "coredump",
  "load_fw",
  "release_fw",
]);
export type RprocOpName = z.infer<typeof RprocOpName>;

/** Functions of remoteproc_tee.c that talk to the TA. */
export const TeeFn = z.enum([
  "rproc_tee_load_fw",
  "rproc_tee_parse_fw",
  "rproc_tee_find_loaded_rsc_table",
  "rproc_tee_start",
  "rproc_tee_stop",
  "rproc_tee_release_fw",
]);
export type TeeFn = z.infer<typeof TeeFn>;

/** Functions of remoteproc_tee.c that take the driver-global context lock. */
export const TeeLockFn = z.enum([
  "rproc_tee_probe",
  "rproc_tee_remove",
  "rproc_tee_register",
  "rproc_tee_unregister",
]);
export type TeeLockFn = z.infer<typeof TeeLockFn>;

const CoreFacts = z
  .object({
    /** Name of the rproc_ops member that loads ELF segments: "load" (v6.15) or "load_segments" (renamed). */
    loadSegmentsOp: z.enum(["load", "load_segments"]),
    /** What rproc_load_segments() returns when the op is NULL: -EINVAL (v6.15) or 0. */
    loadSegmentsWhenMissing: z.enum(["einval", "zero"]),
    /** rproc_ops has a load_fw member. */
    loadFwOp: z.boolean(),
    /** Every call of rproc_load_fw() in the core, in the order they appear. */
    loadFwCalls: z.array(LoadFwCall),
    /** rproc_ops has a release_fw member. */
    releaseFwOp: z.boolean(),
    /** Every place the core reaches ops->release_fw. Empty when the op does not exist. */
    releaseFwCalls: z.array(ReleaseFwSite),
    /** rproc_alloc_ops installs the ELF defaults unless one of these ops is set by the driver. */
    elfDefaultsUnless: z.array(z.enum(["load", "load_segments", "load_fw"])),
    /** rproc_alloc_ops fails with -EINVAL when both a segment loader and load_fw are set. */
    allocOpsRejectsBothLoaders: z.boolean(),
    /** The core exports rproc_pa_to_va() (walks the carveouts by physical address). */
    paToVa: z.boolean(),
    /** rproc_shutdown sets table_sz = 0 after freeing the cached table (true in v6.15). */
    shutdownClearsTableSz: z.boolean(),
  })
  .strict();

const TeeFacts = z
  .object({
    /** rproc_tee_parse_fw invokes LOAD_FW (authenticate + load) before GET_RSC_TABLE. */
    parseFwLoads: z.boolean(),
    /** rproc_tee_parse_fw calls rproc_tee_release_fw when it fails after the load. */
    parseFwReleasesOnError: z.boolean(),
    /**
     * What rproc_tee_parse_fw does when the TA reports a table of size 0: "map-fails" (no size check: the
     * ioremap of size 0 returns NULL, -ENOMEM), or "no-table" (checked: boot without a table).
     */
    zeroSizeTable: z.enum(["map-fails", "no-table"]),
    /**
     * Per TEE function: how a failed tee_client_invoke_func() (ret < 0) is reported. "propagate": an error
     * is returned; "swallow": the function returns 0. (A TA error, arg.ret != 0, is -EIO in all versions.)
     */
    invokeErrorResult: z.record(TeeFn, z.enum(["propagate", "swallow"])),
    /** rproc_tee_release_fw: does nothing when the rproc is DETACHED. */
    releaseSkipsDetached: z.boolean(),
    /** rproc_tee_release_fw: sends RELEASE_FW only when the rproc is OFFLINE (logs otherwise). */
    releaseOnlyWhenOffline: z.boolean(),
    /** TEE functions that first check that the TEE device is still bound (-ENODEV or silent return). */
    presenceChecks: z.array(TeeFn),
    /** Storage of the driver-global context: devm on the TEE device, or a static variable. */
    ctxStorage: z.enum(["devm", "static"]),
    /** Lock protecting the global context. */
    ctxLock: z.enum(["none", "spinlock", "mutex"]),
    /** Per locking function: the calls made while the context lock is held (empty when there is no lock). */
    lockedCalls: z.record(TeeLockFn, z.array(z.string())),
    /** Per-rproc entry: devm-allocated on the rproc's device, or kzalloc'd by the TEE driver. */
    entryAlloc: z.enum(["devm-rproc-dev", "kzalloc"]),
    /** How a TEE function finds the per-rproc entry: a field of struct rproc, or a walk of the list. */
    entryLookup: z.enum(["rproc-field", "list-walk"]),
    /** rproc_tee_register adds a device link consumer=rproc device, supplier=TEE device (AUTOREMOVE_CONSUMER). */
    deviceLink: z.boolean(),
    /** rproc_tee_register takes a module reference (try_module_get). */
    moduleGet: z.boolean(),
    /** What the TEE bus driver's remove does to its clients. */
    removeClosesSessions: z.boolean(),
    removeFreesEntries: z.boolean(),
    /** GET_RSC_TABLE: which halves of the 64-bit address and size outputs are read. */
    rscTableBits: z.enum(["low32", "full64"]),
  })
  .strict();

const Stm32Facts = z
  .object({
    /** The compatible string bound to the TEE ops, or null when the driver has no TEE support. */
    teeCompatible: z.string().nullable(),
    /**
     * The TEE ops table (rproc_ops member -> C function), or null. Partial: members a driver leaves unset
     * are absent (zod 4 records over an enum are exhaustive, hence partialRecord).
     */
    teeOps: z.partialRecord(RprocOpName, z.string()).nullable(),
    /** DT property holding the TA processor id, and whether probe fails without it. */
    procIdProperty: z.string().nullable(),
    procIdRequired: z.boolean(),
    /** stm32_rproc_parse_dt treats a missing MCU reset as fatal (for every compatible). */
    parseDtRequiresMcuReset: z.boolean(),
    /** DT properties the binding forbids for the TEE compatible. */
    bindingForbidsForTee: z.array(z.string()),
    /** DT properties the binding requires for the TEE compatible. */
    bindingRequiresForTee: z.array(z.string()),
    /** The steps of the TEE stop op, in order (C function names). */
    teeStopSteps: z.array(z.string()),
    /** stm32_rproc_remove / the probe error path call rproc_tee_unregister: for every rproc, or TEE ones only. */
    teeUnregisterOnRemove: z.enum(["always", "tee-only", "never"]),
  })
  .strict();

export const DesignFactsSchema = z
  .object({
    core: CoreFacts,
    /** null when the design has no remoteproc_tee.c (mainline). */
    tee: TeeFacts.nullable(),
    stm32: Stm32Facts,
  })
  .strict();

export type DesignFacts = z.infer<typeof DesignFactsSchema>;
export type CoreFacts = z.infer<typeof CoreFacts>;
export type TeeFacts = z.infer<typeof TeeFacts>;
export type Stm32Facts = z.infer<typeof Stm32Facts>;

/** A leaf fact by dotted path. "tee" as a whole is a leaf too: whether the design has a TEE driver at all. */
export type FactPath =
  | `core.${keyof CoreFacts}`
  | "tee"
  | `tee.${keyof TeeFacts}`
  | `stm32.${keyof Stm32Facts}`;

export const FACT_PATHS: readonly FactPath[] = [
  ...(Object.keys(CoreFacts.shape) as (keyof CoreFacts)[]).map((k): FactPath => `core.${k}`),
  "tee",
  ...(Object.keys(TeeFacts.shape) as (keyof TeeFacts)[]).map((k): FactPath => `tee.${k}`),
  ...(Object.keys(Stm32Facts.shape) as (keyof Stm32Facts)[]).map((k): FactPath => `stm32.${k}`),
];

const FACT_PATH_SET: ReadonlySet<string> = new Set(FACT_PATHS);

/** The fact paths of each group by member name ("ctxLock" in tee: "tee.ctxLock"), for trackFactReads. */
const GROUP_PATHS: Record<"core" | "tee" | "stm32", ReadonlyMap<string, FactPath>> = {
  core: groupPaths("core"),
  tee: groupPaths("tee"),
  stm32: groupPaths("stm32"),
};
function groupPaths(name: string): Map<string, FactPath> {
  return new Map(
    FACT_PATHS.filter((p) => p.startsWith(`${name}.`)).map((p) => [p.slice(name.length + 1), p] as const),
  );
}

export function isFactPath(path: string): path is FactPath {
  return FACT_PATH_SET.has(path);
}

/** Reads one leaf fact; a tee.* fact of a design without a TEE driver is undefined. */
export function getFact(facts: DesignFacts, path: FactPath): unknown {
  if (path === "tee") return facts.tee !== null;
  const [group, key] = path.split(".") as [keyof DesignFacts, string];
  const obj = facts[group] as Record<string, unknown> | null;
  return obj === null ? undefined : obj[key];
}

/**
 * Applies a variant: {"base": <id>, "set": {"<path>": value}}. Every path must be a fact and the result must
 * validate; otherwise a UsageError-worthy message is returned in `errors` (the caller picks the error class).
 * Setting "tee" to false removes the TEE driver; tee.* paths need a design with one.
 */
export function applyFactChanges(
  base: DesignFacts,
  set: Readonly<Record<string, unknown>>,
): { facts: DesignFacts; errors: string[] } {
  const errors: string[] = [];
  const next = structuredClone(base) as DesignFacts;
  for (const [path, value] of Object.entries(set)) {
    if (!isFactPath(path)) {
      errors.push(`unknown fact "${path}" (known: ${FACT_PATHS.join(", ")})`);
      continue;
    }
    if (path === "tee") {
      if (value === false) next.tee = null;
      else if (value !== true || next.tee === null)
        errors.push(`"tee" can only be set to false on a design with a TEE driver`);
      continue;
    }
    const [group, key] = path.split(".") as [keyof DesignFacts, string];
    const obj = next[group] as Record<string, unknown> | null;
    if (obj === null) {
      errors.push(`"${path}" cannot be set: the base design has no TEE driver`);
      continue;
    }
    obj[key] = value;
  }
  const parsed = DesignFactsSchema.safeParse(next);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) errors.push(`${issue.path.join(".")}: ${issue.message}`);
  }
  return { facts: parsed.success ? parsed.data : next, errors };
}

/**
 * Why a design would not build, or null. remoteproc_tee.c's find_loaded_rsc_table calls the core's
 * rproc_pa_to_va, so a TEE driver over a core without it does not link (a variant asking for it is refused; a
 * mapped series that relies on a prerequisite adding it runs no cell, and the cells say why).
 */
export function linkProblem(facts: DesignFacts): string | null {
  if (facts.tee !== null && !facts.core.paToVa)
    return "the design would not link: the TEE driver calls rproc_pa_to_va, which its core lacks (core.paToVa)";
  return null;
}

/**
 * Wraps facts so that every leaf read is recorded. The model reads facts only through such a wrapper during a
 * scenario, so a result can say which facts it depended on (and is "unknown" when one of them is).
 */
export function trackFactReads(facts: DesignFacts): { facts: DesignFacts; reads: Set<FactPath> } {
  const reads = new Set<FactPath>();
  // one proxy per group, made once: the model reads facts on hot paths (each read finds its path by the
  // member's name, without building the path's string)
  const group = <T extends object>(name: "core" | "tee" | "stm32", obj: T): T => {
    const paths = GROUP_PATHS[name];
    return new Proxy(obj, {
      get(target, prop, receiver) {
        if (typeof prop === "string") {
          const path = paths.get(prop);
          if (path !== undefined) reads.add(path);
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
  };
  const groups = {
    core: group("core", facts.core),
    tee: facts.tee === null ? null : group("tee", facts.tee),
    stm32: group("stm32", facts.stm32),
  };
  const root = new Proxy(facts, {
    get(target, prop, receiver) {
      if (prop === "tee") {
        reads.add("tee");
        return groups.tee;
      }
      if (prop === "core" || prop === "stm32") return groups[prop];
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { facts: root, reads };
}
