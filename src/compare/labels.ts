/**
 * Human words for each design fact: how a changelog or a reviewer would name it. The changelog check matches
 * a note against these (and against function, op and file names from the evidence). Lower case; a label of
 * several words matches as a phrase.
 */
import type { FactPath } from "../semantics/facts.ts";

export const FACT_LABELS: Readonly<Record<FactPath, readonly string[]>> = {
  "core.loadSegmentsOp": ["load_segments", "load()", "rproc_load_segments", "rename load"],
  "core.loadSegmentsWhenMissing": ["load_segments", "rproc_load_segments"],
  "core.loadFwOp": ["load_fw", "rproc_load_fw"],
  "core.loadFwCalls": ["load_fw", "rproc_load_fw"],
  "core.releaseFwOp": ["release_fw", "rproc_release_fw"],
  "core.releaseFwCalls": ["release_fw", "rproc_release_fw"],
  "core.elfDefaultsUnless": ["rproc_alloc_ops", "elf defaults", "elf loader"],
  "core.allocOpsRejectsBothLoaders": ["rproc_alloc_ops", "exclusive"],
  "core.paToVa": ["rproc_pa_to_va", "pa_to_va"],
  "core.shutdownClearsTableSz": ["table_sz", "rproc_shutdown"],
  tee: ["remoteproc_tee", "remoteproc tee", "tee driver"],
  "tee.parseFwLoads": ["rproc_tee_parse_fw", "parse_fw", "load and authenticate", "firmware loading"],
  "tee.parseFwReleasesOnError": ["rproc_tee_parse_fw", "parse_fw"],
  "tee.zeroSizeTable": ["resource table", "rsc_table", "table size"],
  "tee.invokeErrorResult": ["tee_client_invoke_func", "invoke error", "error code"],
  "tee.releaseSkipsDetached": ["rproc_tee_release_fw", "detached"],
  "tee.releaseOnlyWhenOffline": ["rproc_tee_release_fw", "unexpected rproc state"],
  "tee.presenceChecks": ["unbind", "bind/unbind", "tee device"],
  "tee.ctxStorage": ["rproc_tee_ctx", "static context", "static variable"],
  "tee.ctxLock": ["spinlock", "ctx_lock", "mutex"],
  "tee.lockedCalls": ["spinlock", "ctx_lock", "mutex"],
  "tee.entryAlloc": ["rproc_tee_itf", "kzalloc", "devm_kzalloc"],
  "tee.entryLookup": ["rproc_tee_itf", "rproc_to_trproc"],
  "tee.deviceLink": ["dev_link", "devlink", "device link", "device_link_add", "device_link"],
  "tee.moduleGet": ["try_module_get", "module_get", "module_put"],
  "tee.removeClosesSessions": ["rproc_tee_remove", "unbind", "bind/unbind"],
  "tee.removeFreesEntries": ["rproc_tee_remove", "unbind", "bind/unbind"],
  "tee.rscTableBits": ["get_rsc_table", "64-bit", "64 bit"],
  "stm32.teeCompatible": ["st,stm32mp1-m4-tee", "compatible"],
  "stm32.teeOps": ["st_rproc_tee_ops", "rproc_ops"],
  "stm32.procIdProperty": ["st,proc-id", "proc-id"],
  "stm32.procIdRequired": ["st,proc-id", "proc-id"],
  "stm32.parseDtRequiresMcuReset": ["mcu_reset", "mcu reset", "stm32_rproc_parse_dt"],
  "stm32.bindingForbidsForTee": ["dt-bindings", "binding"],
  "stm32.bindingRequiresForTee": ["dt-bindings", "binding"],
  "stm32.teeStopSteps": ["stm32_rproc_tee_stop", "tee stop"],
  "stm32.teeUnregisterOnRemove": ["rproc_tee_unregister", "stm32_rproc_remove"],
};
