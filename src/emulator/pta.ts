/**
 * The platform pseudo-TA the remoteproc TA calls (optee-remoteproc.md §4): capabilities, signature
 * verification against the built-in key(s), segment load with a SHA-256 check of the destination,
 * memory fill, da->pa translation, start/stop through the coprocessor, and release (wipe).
 * One global OFF/ON state for the platform, as the STM32 PTA keeps.
 */
import { bytesEqual, hex32, sha256, u32 } from "./bytes.ts";
import type { Core } from "./copro.ts";
import { type KeyMaterial, verifyDigest } from "./keys.ts";
import type { EventBus, Memory } from "./memory.ts";
import { TEE_RESULT as R, type TeeResult, teeResultName } from "./tee.ts";

export const TEE_ALG_RSASSA_PKCS1_V1_5_SHA256 = 0x70004830;
export const TEE_ALG_ECDSA_P256 = 0x70003042;

export interface PtaConfig {
  procId: number;
  keys: KeyMaterial[];
  /** Signature algorithms the platform verifies. */
  algorithms: number[];
}

export class Pta {
  private on = false;

  constructor(
    private readonly cfg: PtaConfig,
    private readonly memory: Memory,
    private readonly core: Core,
    private readonly bus: EventBus,
  ) {}

  private done(
    cmd: string,
    result: TeeResult,
    detail: string,
    where?: { da: number; pa: number; size: number },
  ): TeeResult {
    this.bus.emit({
      layer: "platform",
      fn: "pta",
      cmd,
      result,
      resultName: teeResultName(result),
      detail,
      ...where,
    });
    return result;
  }

  knows(procId: number): boolean {
    return procId === this.cfg.procId;
  }

  openSession(procId: number): TeeResult {
    return this.done("OPEN_SESSION", this.knows(procId) ? R.SUCCESS : R.NOT_SUPPORTED, `rproc_id ${procId}`);
  }

  hwCapabilities(procId: number): TeeResult {
    return this.done(
      "HW_CAPABILITIES",
      this.knows(procId) ? R.SUCCESS : R.NOT_SUPPORTED,
      "format ELF, protection hash table",
    );
  }

  /** keyInfo is the key-info structure (u32 algo, u32 info_size, info). */
  verifyDigest(procId: number, keyInfo: Uint8Array, digest: Uint8Array, signature: Uint8Array): TeeResult {
    const cmd = "VERIFY_DIGEST";
    if (!this.knows(procId)) return this.done(cmd, R.NOT_SUPPORTED, `unknown rproc_id ${procId}`);
    if (this.on) return this.done(cmd, R.BAD_STATE, "a processor is running");
    if (keyInfo.length < 8 || u32(keyInfo, 4) + 8 !== keyInfo.length) {
      return this.done(cmd, R.BAD_PARAMETERS, "inconsistent key-info size");
    }
    const algo = u32(keyInfo, 0);
    if (!this.cfg.algorithms.includes(algo))
      return this.done(cmd, R.NOT_SUPPORTED, `algorithm ${hex32(algo)} not supported`);
    const kind = algo === TEE_ALG_ECDSA_P256 ? "ecc" : "rsa";
    const ok = this.cfg.keys.some((k) => k.kind === kind && verifyDigest(k, digest, signature));
    return this.done(
      cmd,
      ok ? R.SUCCESS : R.SIGNATURE_INVALID,
      ok ? "signature verified" : "signature does not verify",
    );
  }

  daToPa(procId: number, da: number, size: number): { result: TeeResult; pa: number } {
    const pa = this.knows(procId) ? this.memory.daToPa(da, size) : null;
    const result = pa === null ? R.ACCESS_DENIED : R.SUCCESS;
    this.done(
      "FIRMWARE_DA_TO_PA",
      result,
      `da ${hex32(da)} size ${size} -> ${pa === null ? "no region" : hex32(pa)}`,
    );
    return { result, pa: pa ?? 0 };
  }

  private translate(
    cmd: string,
    procId: number,
    da: number,
    size: number,
  ): { result: TeeResult; pa: number } {
    if (this.on) return { result: this.done(cmd, R.BAD_STATE, "a processor is running"), pa: 0 };
    const pa = this.knows(procId) ? this.memory.daToPa(da, size) : null;
    if (pa === null)
      return {
        result: this.done(cmd, R.ACCESS_DENIED, `da ${hex32(da)} + ${size} is not inside one region`),
        pa: 0,
      };
    return { result: R.SUCCESS, pa };
  }

  loadSegmentSha256(procId: number, src: Uint8Array, da: number, hash: Uint8Array): TeeResult {
    const cmd = "LOAD_SEGMENT_SHA256";
    if (hash.length !== 32) return this.done(cmd, R.BAD_PARAMETERS, "hash is not 32 bytes");
    const t = this.translate(cmd, procId, da, src.length);
    if (t.result !== R.SUCCESS) return t.result;
    this.memory.secureWrite(t.pa, src, "tee");
    const where = { da, pa: t.pa, size: src.length };
    if (!bytesEqual(sha256(this.memory.peek(t.pa, src.length)), hash)) {
      this.memory.secureWrite(t.pa, { fill: 0, size: src.length }, "tee");
      return this.done(cmd, R.SECURITY, `hash mismatch at da ${hex32(da)}: destination zeroed`, where);
    }
    return this.done(cmd, R.SUCCESS, `${src.length} bytes at da ${hex32(da)} (pa ${hex32(t.pa)})`, where);
  }

  setMemory(procId: number, da: number, size: number, value: number): TeeResult {
    const cmd = "SET_MEMORY";
    const t = this.translate(cmd, procId, da, size);
    if (t.result !== R.SUCCESS) return t.result;
    // The STM32 PTA computes the fill byte with a logical AND: any non-zero value fills with 1.
    this.memory.secureWrite(t.pa, { fill: value !== 0 ? 1 : 0, size }, "tee");
    return this.done(cmd, R.SUCCESS, `${size} bytes at da ${hex32(da)} set to ${value !== 0 ? 1 : 0}`, {
      da,
      pa: t.pa,
      size,
    });
  }

  start(procId: number): TeeResult {
    const cmd = "FIRMWARE_START";
    if (!this.knows(procId)) return this.done(cmd, R.NOT_SUPPORTED, `unknown rproc_id ${procId}`);
    if (this.on) return this.done(cmd, R.BAD_STATE, "already on");
    this.core.setHoldBoot(false);
    this.core.setHoldBoot(true);
    this.on = true;
    return this.done(cmd, R.SUCCESS, "hold boot released then asserted again");
  }

  stop(procId: number): TeeResult {
    const cmd = "FIRMWARE_STOP";
    if (!this.knows(procId)) return this.done(cmd, R.NOT_SUPPORTED, `unknown rproc_id ${procId}`);
    if (!this.on) return this.done(cmd, R.BAD_STATE, "not on");
    this.core.setHoldBoot(true);
    this.core.assertReset();
    this.on = false;
    return this.done(cmd, R.SUCCESS, "hold boot asserted, MCU reset");
  }

  release(procId: number): TeeResult {
    const cmd = "RELEASE";
    if (!this.knows(procId)) return this.done(cmd, R.NOT_SUPPORTED, `unknown rproc_id ${procId}`);
    if (this.on) return this.done(cmd, R.BAD_STATE, "a processor is running");
    this.memory.wipeAll();
    return this.done(cmd, R.SUCCESS, "every region zeroed");
  }
}
