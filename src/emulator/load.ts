/**
 * One LOAD_FW on a fresh platform, as `rproc-review image load` reports it: the TA result, the segments
 * written (also those before a failure; a segment zeroed by a failed hash check is left out) and the
 * resource table the TA reports on success.
 */
import type { Platform } from "./api.ts";
import type { KeyMaterial } from "./keys.ts";
import { createPlatform, type PlatformName } from "./platform.ts";
import { TA_CMD, TEE_RESULT, teeResultName } from "./tee.ts";

export interface LoadReport {
  result: string;
  code: number;
  loaded: Array<{ da: number; pa: number; size: number }>;
  rscTable: { pa: number; size: number } | null;
  reason: string;
}

/** Opens a session, registers the image as shared memory and sends LOAD_FW (then GET_RSC_TABLE). */
export async function loadOn(platform: Platform, image: Uint8Array): Promise<LoadReport> {
  const loaded: LoadReport["loaded"] = [];
  const stop = platform.onEvent((e) => {
    if (
      e.layer === "platform" &&
      e.fn === "pta" &&
      e.cmd === "LOAD_SEGMENT_SHA256" &&
      e.result === TEE_RESULT.SUCCESS
    ) {
      loaded.push({ da: e.da ?? 0, pa: e.pa ?? 0, size: e.size ?? 0 });
    }
  });
  const id = { type: "value-in", a: platform.procId, b: 0 } as const;
  const { ta } = platform;
  try {
    const open = await ta.openSession(platform.procId);
    if (open.result !== TEE_RESULT.SUCCESS) {
      return {
        result: teeResultName(open.result),
        code: open.result,
        loaded,
        rscTable: null,
        reason: "open session",
      };
    }
    const shm = ta.registerShm(image);
    const load = await ta.invoke(open.session, TA_CMD.LOAD_FW, [id, { type: "memref-in", shm }]);
    ta.freeShm(shm);
    let rscTable: LoadReport["rscTable"] = null;
    if (load.result === TEE_RESULT.SUCCESS) {
      const out = { type: "value-out", a: 0, b: 0 } as const;
      const rsc = await ta.invoke(open.session, TA_CMD.GET_RSC_TABLE, [id, out, out]);
      const [, pa, size] = rsc.params;
      if (pa?.type === "value-out" && size?.type === "value-out") rscTable = { pa: pa.a, size: size.a };
    }
    await ta.closeSession(open.session);
    return { result: teeResultName(load.result), code: load.result, loaded, rscTable, reason: load.detail };
  } finally {
    stop();
  }
}

export async function loadOnce(
  image: Uint8Array,
  platform: PlatformName,
  keys: KeyMaterial[],
): Promise<LoadReport> {
  return loadOn(await createPlatform(platform, { keys }), image);
}
