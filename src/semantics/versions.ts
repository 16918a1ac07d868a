/**
 * The built-in designs: mainline v6.15 and the hand-read facts of each posted version of the series.
 * These values are the *oracle*: written by reading the patches, every field citing patch and function, and
 * checked against what the mapper derives from the same mails. Behaviour never branches on these ids.
 */
import type { CoreFacts, DesignFacts, Stm32Facts, TeeFacts } from "./facts.ts";

export interface BuiltinVersion {
  id: string;
  title: string;
  facts: DesignFacts;
}

/** The kernel the hand model mirrors: the files it runs are this release's. */
export const MODEL_KERNEL = { name: "Linux v6.15", commit: "0ff41df1cb26" } as const;

/** Linux v6.15 (0ff41df1cb26): no TEE support; the baseline every version is a delta over. */
export const MAINLINE: DesignFacts = {
  core: {
    loadSegmentsOp: "load", // include/linux/remoteproc.h: struct rproc_ops::load
    loadSegmentsWhenMissing: "einval", // remoteproc_internal.h: rproc_load_segments returns -EINVAL without ops->load
    loadFwOp: false,
    loadFwCalls: [],
    releaseFwOp: false,
    releaseFwCalls: [],
    elfDefaultsUnless: ["load"], // remoteproc_core.c: rproc_alloc_ops returns early only when ops->load is set
    allocOpsRejectsBothLoaders: false,
    paToVa: false,
    shutdownClearsTableSz: true, // remoteproc_core.c: rproc_shutdown sets table_sz = 0 (efdde3d73ab2, in v6.15)
  },
  tee: null,
  stm32: {
    teeCompatible: null, // stm32_rproc.c: stm32_rproc_match lists only "st,stm32mp1-m4"
    teeOps: null,
    procIdProperty: null,
    procIdRequired: false,
    parseDtRequiresMcuReset: true, // stm32_rproc.c: stm32_rproc_parse_dt fails when the mcu reset cannot be had
    bindingForbidsForTee: [],
    bindingRequiresForTee: [],
    teeStopSteps: [],
    teeUnregisterOnRemove: "never",
  },
};

// ---------------------------------------------------------------------------------------------------------
// The series, v13..v16. Patch references: [vNN/i] = patch i of version NN (../shared/lkml/vNN/i.eml).
// Where a fact is the same code in several versions, the comment cites every patch it was read from, and
// the value is written once. v15's patches equal v14's except pru_rproc.c [v15/4] and a comment [v15/2].

/** remoteproc_tee.c behaviour that every version shares (the TA calls and their error handling). */
const TEE_CALLS_V13_V16 = {
  // [v13/2][v14/2][v16/2] rproc_tee_parse_fw(): get_loaded_rsc_table, ioremap or kmemdup failure -> goto
  // release_fw -> rproc_tee_release_fw()
  parseFwReleasesOnError: true,
  // [v13/2] rproc_tee_parse_fw(): no size check, ioremap_wc(pa, 0) -> IS_ERR_OR_NULL -> -ENOMEM;
  // [v16/2] same, the NULL test only: a TA answer of size 0 fails the map
  zeroSizeTable: "map-fails",
  invokeErrorResult: {
    // [v13/2][v16/2] rproc_tee_load_fw(): a negative ret is returned unchanged, a TA error becomes -EIO
    rproc_tee_load_fw: "propagate",
    // [v13/2][v16/2] rproc_tee_parse_fw(): returns load_fw's ret, or -EIO from get_loaded_rsc_table
    rproc_tee_parse_fw: "propagate",
    // [v13/2][v16/2] rproc_tee_get_loaded_rsc_table(): -EIO for ret < 0 too; find_loaded returns NULL
    rproc_tee_find_loaded_rsc_table: "propagate",
    // [v13/2][v16/2] rproc_tee_start(): -EIO only for a TA error; after a negative ret it falls through to 0
    rproc_tee_start: "swallow",
    // [v13/2][v16/2] rproc_tee_stop(): a negative ret is returned unchanged, a TA error becomes -EIO
    rproc_tee_stop: "propagate",
    // [v13/2][v16/2] rproc_tee_release_fw(): void; ret = -EIO for both failures, logged like a TA error
    rproc_tee_release_fw: "propagate",
  },
  // [v13/2][v16/2] rproc_tee_release_fw(): returns at once when the state is RPROC_DETACHED
  releaseSkipsDetached: true,
  // [v13/2] rproc_tee_release_fw(): state != OFFLINE -> -EBUSY, logged, no invoke; [v16/2] dev_err, return
  releaseOnlyWhenOffline: true,
  // [v13/2][v16/2] rproc_tee_get_loaded_rsc_table(): only param[1].u.value.a and param[2].u.value.a
  rscTableBits: "low32",
} as const satisfies Partial<TeeFacts>;

/** remoteproc_tee.c lifetime design of v13..v15: devm global context, no lock, entry in struct rproc. */
const TEE_LIFETIME_V13_V15 = {
  // [v13/2][v14/2] rproc_tee_load_fw()/get_loaded_rsc_table()/release_fw(): no test of the TEE device,
  // only a NULL test of rproc->rproc_tee_itf
  presenceChecks: [],
  // [v13/2][v14/2] rproc_tee_probe(): the global rproc_tee_ctx pointer gets devm_kzalloc memory of the
  // TEE device
  ctxStorage: "devm",
  // [v13/2][v14/2] no lock anywhere in remoteproc_tee.c
  ctxLock: "none",
  lockedCalls: {
    rproc_tee_probe: [],
    rproc_tee_remove: [],
    rproc_tee_register: [],
    rproc_tee_unregister: [],
  },
  // [v13/2][v14/2] rproc_tee_register(): the entry is devm_kzalloc'd on its dev argument, the STM32 device
  entryAlloc: "devm-rproc-dev",
  // [v13/2][v14/2] struct rproc gains rproc_tee_itf; every function reads rproc->rproc_tee_itf
  entryLookup: "rproc-field",
  // [v13/2][v14/2] rproc_tee_register(): no device_link_add
  deviceLink: false,
  // [v13/2][v14/2] rproc_tee_register(): try_module_get on its own module; unregister: module_put
  moduleGet: true,
  // [v13/2][v14/2] rproc_tee_remove(): list walk: tee_client_close_session() for every entry ...
  removeClosesSessions: true,
  // [v13/2][v14/2] rproc_tee_remove(): ... list_del() and kfree() of those entries (devm memory of others)
  removeFreesEntries: true,
} as const satisfies Partial<TeeFacts>;

/** The STM32 driver's TEE support, the same code in every version but for the loader member. */
const STM32_TEE_V13_V16 = {
  // [v13/7][v14/8][v16/6] stm32_rproc.c stm32_rproc_match gains the compatible st,stm32mp1-m4-tee
  teeCompatible: "st,stm32mp1-m4-tee",
  // [v13/7][v14/8][v16/6] stm32_rproc_probe(): reading the u32 st,proc-id fails -> probe fails
  procIdProperty: "st,proc-id",
  procIdRequired: true,
  // [v13/7][v14/8][v16/6] no hunk in stm32_rproc_parse_dt: the mcu reset stays mandatory
  parseDtRequiresMcuReset: true,
  // [v13/5][v14/6][v16/4] st,stm32-rproc.yaml, if compatible contains st,stm32mp1-m4-tee:
  // st,syscfg-holdboot, reset-names and resets are false ...
  bindingForbidsForTee: ["st,syscfg-holdboot", "reset-names", "resets"],
  // ... and st,proc-id is required
  bindingRequiresForTee: ["st,proc-id"],
  // [v13/7][v14/8][v16/6] stm32_rproc_tee_stop(): request_shutdown, rproc_tee_stop (return on error),
  // stm32_rproc_release [v13/6][v14/7][v16/5]
  teeStopSteps: ["stm32_rproc_request_shutdown", "rproc_tee_stop", "stm32_rproc_release"],
  // [v13/7][v14/8][v16/6] stm32_rproc_probe() error path and stm32_rproc_remove(): unconditional
  // rproc_tee_unregister(), for every STM32 rproc
  teeUnregisterOnRemove: "always",
} as const satisfies Partial<Stm32Facts>;

/** st_rproc_tee_ops with the firmware loader installed as the `loader` member. */
function stm32TeeOps(loader: "load" | "load_fw"): NonNullable<Stm32Facts["teeOps"]> {
  // [v13/7][v14/8][v16/6] stm32_rproc.c st_rproc_tee_ops
  return {
    prepare: "stm32_rproc_prepare",
    start: "rproc_tee_start",
    stop: "stm32_rproc_tee_stop",
    kick: "stm32_rproc_kick",
    // [v13/7][v16/6] member load = rproc_tee_load_fw; [v14/8] member load_fw = rproc_tee_load_fw
    [loader]: "rproc_tee_load_fw",
    parse_fw: "rproc_tee_parse_fw",
    find_loaded_rsc_table: "rproc_tee_find_loaded_rsc_table",
    release_fw: "rproc_tee_release_fw",
  };
}

const V13: DesignFacts = {
  core: {
    loadSegmentsOp: "load", // [v13] no rename: struct rproc_ops::load stays
    loadSegmentsWhenMissing: "einval", // [v13] remoteproc_internal.h rproc_load_segments() untouched
    loadFwOp: false, // [v13] no load_fw member
    loadFwCalls: [],
    releaseFwOp: true, // [v13/4] remoteproc.h: struct rproc_ops gains void (*release_fw)(struct rproc *)
    releaseFwCalls: [
      // [v13/4] remoteproc_core.c rproc_start(): reset_table_ptr label calls ops->release_fw
      "rproc_start:reset_table_ptr",
      // [v13/3][v13/4] rproc_fw_boot(): clean_up_resources -> rproc_release_fw(): op first, then kfree
      "rproc_fw_boot:clean_up_resources:before_table_free",
      // [v13/3][v13/4] rproc_shutdown(): after rproc_disable_iommu(), rproc_release_fw(): op, then kfree
      "rproc_shutdown:before_table_free",
      // [v13/3][v13/4] rproc_detach(): after rproc_disable_iommu(), rproc_release_fw(): op, then kfree
      "rproc_detach:before_table_free",
    ],
    elfDefaultsUnless: ["load"], // [v13] rproc_alloc_ops() untouched: returns early when ops->load is set
    allocOpsRejectsBothLoaders: false, // [v13] rproc_alloc_ops() untouched
    paToVa: true, // [v13/1] remoteproc_core.c: rproc_pa_to_va() added and exported
    // [v13/3] rproc_shutdown(): no diff touches table_sz; every version is modelled over
    // v6.15, which clears it (efdde3d73ab2)
    shutdownClearsTableSz: true,
  },
  tee: {
    ...TEE_CALLS_V13_V16,
    ...TEE_LIFETIME_V13_V15,
    // [v13/2] rproc_tee_parse_fw(): rproc_tee_load_fw() first, then get_loaded_rsc_table
    parseFwLoads: true,
  },
  stm32: { ...STM32_TEE_V13_V16, teeOps: stm32TeeOps("load") },
};

const V14_CORE: CoreFacts = {
  // [v14/4] remoteproc.h: struct rproc_ops::load renamed load_segments (all drivers; pru_rproc in [v15/4])
  loadSegmentsOp: "load_segments",
  // [v14/5] remoteproc_internal.h rproc_load_segments(): 0 instead of -EINVAL when the op is NULL
  loadSegmentsWhenMissing: "zero",
  loadFwOp: true, // [v14/3] remoteproc.h: int (*load_fw)(struct rproc *, const struct firmware *)
  loadFwCalls: [
    // [v14/3] rproc_boot_recovery(): rproc_load_fw() after the firmware request; on error it returns at
    // once, before release_firmware()
    { site: "rproc_boot_recovery:before_start", onError: "return-early" },
    // [v14/3] rproc_boot(): rproc_load_fw() before rproc_fw_boot(); on error it jumps to downref_rproc,
    // past release_firmware()
    { site: "rproc_boot:before_fw_boot", onError: "return-early" },
  ],
  releaseFwOp: true, // [v14/3] remoteproc.h: void (*release_fw)(struct rproc *)
  releaseFwCalls: [
    // [v14/3] rproc_fw_boot(): clean_up_resources, after kfree(cached_table) and table_ptr = NULL
    "rproc_fw_boot:clean_up_resources:after_table_free",
    // [v14/3] rproc_boot_recovery(): rproc_release_fw() when rproc_start() failed
    "rproc_boot_recovery:after_start_error",
    // [v14/3] rproc_boot(): rproc_release_fw() when rproc_fw_boot() failed
    "rproc_boot:after_fw_boot_error",
    // [v14/3] rproc_shutdown(): rproc_release_fw() after kfree(cached_table) and table_ptr = NULL
    "rproc_shutdown:after_table_free",
  ],
  // [v14/3] rproc_alloc_ops(): no ELF defaults when load or load_fw is set (load renamed by [v14/4])
  elfDefaultsUnless: ["load_segments", "load_fw"],
  // [v14/5] rproc_alloc_ops(): -EINVAL when both load_segments and load_fw are set
  allocOpsRejectsBothLoaders: true,
  paToVa: true, // [v14/1] remoteproc_core.c: rproc_pa_to_va(), same diff as [v13/1]
  // [v14/3] rproc_shutdown(): no diff touches table_sz; every version is modelled over
  // v6.15, which clears it (efdde3d73ab2)
  shutdownClearsTableSz: true,
};

const V14: DesignFacts = {
  core: V14_CORE,
  tee: {
    ...TEE_CALLS_V13_V16,
    ...TEE_LIFETIME_V13_V15,
    // [v14/2] rproc_tee_parse_fw(): the rproc_tee_load_fw() call is gone (the core's load_fw loads)
    parseFwLoads: false,
  },
  // [v14/8] st_rproc_tee_ops: member load_fw = rproc_tee_load_fw, no load member
  stm32: { ...STM32_TEE_V13_V16, teeOps: stm32TeeOps("load_fw") },
};

/** [v15/1..8]: the diffs of v14 but for pru_rproc.c [v15/4] and a comment [v15/2]: the same facts. */
const V15: DesignFacts = structuredClone(V14);

const V16: DesignFacts = {
  core: {
    loadSegmentsOp: "load", // [v16/0..6] no rename patch: struct rproc_ops::load stays
    loadSegmentsWhenMissing: "einval", // [v16] rproc_load_segments() untouched
    loadFwOp: false, // [v16/3] the changelog drops v14's load_fw op; remoteproc.h gains release_fw only
    loadFwCalls: [],
    releaseFwOp: true, // [v16/3] remoteproc.h: void (*release_fw)(struct rproc *)
    releaseFwCalls: [
      // [v16/3] remoteproc_core.c rproc_boot_recovery(): rproc_release_fw() when rproc_start() failed
      "rproc_boot_recovery:after_start_error",
      // [v16/3] rproc_boot(): rproc_release_fw() when rproc_fw_boot() failed
      "rproc_boot:after_fw_boot_error",
      // [v16/3] rproc_shutdown(): rproc_release_fw() after rproc_disable_iommu(), before kfree(cached_table)
      "rproc_shutdown:before_table_free",
    ],
    elfDefaultsUnless: ["load"], // [v16] rproc_alloc_ops() untouched
    allocOpsRejectsBothLoaders: false, // [v16] rproc_alloc_ops() untouched
    paToVa: true, // [v16/1] remoteproc_core.c: rproc_pa_to_va(), same diff as [v13/1]
    // [v16/3] rproc_shutdown(): no diff touches table_sz; every version is modelled over
    // v6.15, which clears it (efdde3d73ab2)
    shutdownClearsTableSz: true,
  },
  tee: {
    ...TEE_CALLS_V13_V16,
    // [v16/2] rproc_tee_parse_fw(): rproc_tee_load_fw() first, then get_loaded_rsc_table (as in v13)
    parseFwLoads: true,
    // [v16/2] a NULL test of rproc_tee_ctx.dev in rproc_tee_load_fw() (-ENODEV),
    // rproc_tee_get_loaded_rsc_table() (-ENODEV; the TA call behind find_loaded_rsc_table and
    // parse_fw's GET_RSC) and rproc_tee_release_fw() (silent return); not in start()/stop()
    presenceChecks: ["rproc_tee_load_fw", "rproc_tee_find_loaded_rsc_table", "rproc_tee_release_fw"],
    // [v16/2] rproc_tee_ctx is a static structure, no longer a pointer to devm memory
    ctxStorage: "static",
    // [v16/2] a static spinlock ctx_lock
    ctxLock: "spinlock",
    lockedCalls: {
      // [v16/2] rproc_tee_probe(): tee_client_open_context() before spin_lock; inside: the assignments
      rproc_tee_probe: ["INIT_LIST_HEAD"],
      // [v16/2] rproc_tee_remove(): tee_client_close_context() inside spin_lock(&ctx_lock)
      rproc_tee_remove: ["tee_client_close_context"],
      // [v16/2] rproc_tee_register(): locked before the EPROBE_DEFER test, unlocked at the common exit:
      // every call, error paths included, runs under the lock
      rproc_tee_register: [
        "kzalloc",
        "to_tee_client_device",
        "memset",
        "memcpy",
        "tee_client_open_session",
        "dev_err",
        "device_link_add",
        "list_add_tail",
        "tee_client_close_session",
        "kfree",
      ],
      // [v16/2] rproc_tee_unregister(): rproc_to_trproc() before the lock, list_del()/kfree() after it
      rproc_tee_unregister: ["tee_client_close_session", "dev_err"],
    },
    // [v16/2] rproc_tee_register(): the entry is kzalloc'd (GFP_KERNEL)
    entryAlloc: "kzalloc",
    // [v16/2] rproc_to_trproc(): list_for_each_entry over rproc_tee_ctx.sessions; rproc_tee_itf removed
    entryLookup: "list-walk",
    // [v16/2] rproc_tee_register(): device_link_add, consumer = dev (STM32), supplier = the TEE device,
    // DL_FLAG_AUTOREMOVE_CONSUMER
    deviceLink: true,
    // [v16/2] rproc_tee_register(): no try_module_get (Kconfig bool, IS_ENABLED)
    moduleGet: false,
    // [v16/2] rproc_tee_remove(): only tee_client_close_context() and clearing dev/tee_ctx
    removeClosesSessions: false,
    removeFreesEntries: false,
  },
  // [v16/6] st_rproc_tee_ops: member load = rproc_tee_load_fw as in v13; rproc_tee_unregister gains dev
  stm32: { ...STM32_TEE_V13_V16, teeOps: stm32TeeOps("load") },
};

/** [v16-resend/0..6]: the diffs of v16 byte for byte but for the blob index lines: the same facts. */
const V16_RESEND: DesignFacts = structuredClone(V16);

/** Registry of built-in designs, oldest first. */
export const BUILTIN_VERSIONS: BuiltinVersion[] = [
  { id: "mainline", title: "Linux v6.15 (no TEE)", facts: MAINLINE },
  {
    id: "v13",
    title: "v13 (2024-11-04): load in parse_fw, release_fw op, rproc_release_fw cleanup helper",
    facts: V13,
  },
  {
    id: "v14",
    title: "v14 (2024-11-26): load_fw op before rproc_fw_boot, load renamed load_segments",
    facts: V14,
  },
  { id: "v15", title: "v15 (2024-11-28): v14 plus the pru_rproc build fix", facts: V15 },
  {
    id: "v16",
    title: "v16 (2025-03-25): load in parse_fw, release_fw, spinlock + device link",
    facts: V16,
  },
  {
    id: "v16-resend",
    title: "v16 RESEND (2025-06-03): v16 rebased on v6.15, same code",
    facts: V16_RESEND,
  },
];

export function builtinVersion(id: string): BuiltinVersion | undefined {
  return BUILTIN_VERSIONS.find((v) => v.id === id);
}
