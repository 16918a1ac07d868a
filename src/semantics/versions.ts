/**
 * The built-in designs: mainline v6.15 and the hand-read facts of each posted version of the series.
 * These values are the *oracle*: written by reading the patches, every field citing patch and function, and
 * checked against what the mapper derives from the same mails. Behaviour never branches on these ids.
 */
import type { DesignFacts } from "./facts.ts";

export interface BuiltinVersion {
  id: string;
  title: string;
  facts: DesignFacts;
}

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

/** Registry of built-in designs, oldest first. The series versions are added below mainline. */
export const BUILTIN_VERSIONS: BuiltinVersion[] = [
  { id: "mainline", title: "Linux v6.15 (no TEE)", facts: MAINLINE },
];

export function builtinVersion(id: string): BuiltinVersion | undefined {
  return BUILTIN_VERSIONS.find((v) => v.id === id);
}
