/**
 * The OP-TEE remoteproc trusted application (optee-remoteproc.md §2-§3): one instance per platform that
 * survives the closing of every session, one context per processor id, and the acceptance algorithm of
 * LOAD_FW step by step, with the real TA's checks only (and its quirks: LOAD on LOADED is a silent
 * success, STOP goes back to OFF, segments written before a failure stay, GET_COREDUMP is not
 * implemented). Reading outside the client's buffer is what would fault a real TA: the instance panics
 * and the client sees TARGET_DEAD.
 */
import type { InvokeResult, OpenSessionResult, TaState, TeeParam, TrustedApplication } from "./api.ts";
import { concat, hex32, le32, r8, sha256, u16, u32 } from "./bytes.ts";
import { HASH_ENTRY_SIZE, HEADER_SIZE, IMAGE_MAGIC, IMAGE_VERSION, TLV } from "./image.ts";
import type { EventBus, Memory } from "./memory.ts";
import { type Pta, TEE_ALG_ECDSA_P256, TEE_ALG_RSASSA_PKCS1_V1_5_SHA256 } from "./pta.ts";
import { TEE_RESULT as R, TA_CMD, type TeeResult, taCommandName, teeResultName } from "./tee.ts";

const PT_LOAD = 1;
const EIO = -5;
const EINVAL = -22;
const SIGN_ALGOS: Record<number, number> = { 1: TEE_ALG_RSASSA_PKCS1_V1_5_SHA256, 2: TEE_ALG_ECDSA_P256 };

/** A read outside the client's buffer: a real TA would fault. */
class TaPanic extends Error {}

/**
 * Thrown to end a command with a result, and always caught in loadFw. Not an Error: nothing reads its stack,
 * and capturing one on every failed check costs more than the check.
 */
class Fail {
  constructor(
    readonly result: TeeResult,
    readonly reason: string,
  ) {}
}

/** Ends the command with `result` unless `cond` holds; `reason` names the step (optee-remoteproc.md §2). */
function check(cond: boolean, result: TeeResult, reason: string): void {
  if (!cond) throw new Fail(result, reason);
}

/** Bounds-checked view of the non-secure buffer. */
class NsBuffer {
  constructor(readonly b: Uint8Array) {}
  private range(off: number, len: number): void {
    if (off < 0 || len < 0 || off + len > this.b.length) {
      throw new TaPanic(`read of ${len} bytes at offset ${off} outside the ${this.b.length}-byte buffer`);
    }
  }
  u32(off: number): number {
    this.range(off, 4);
    return u32(this.b, off);
  }
  u16(off: number): number {
    this.range(off, 2);
    return u16(this.b, off);
  }
  u8(off: number): number {
    this.range(off, 1);
    return this.b[off] ?? 0;
  }
  bytes(off: number, len: number): Uint8Array {
    this.range(off, len);
    return this.b.subarray(off, off + len);
  }
}

/** The TA's TLV lookup over the secure copy (first match whose value fits; empty counts as absent). */
function getTlv(tlvs: Uint8Array, tlvLen: number, type: number): Uint8Array | null {
  for (let p = 0; p + 8 <= tlvLen; ) {
    const t = u32(tlvs, p);
    const len = u32(tlvs, p + 4);
    p += 8;
    if (p + len <= tlvLen && t === type) return len === 0 ? null : tlvs.subarray(p, p + len);
    p += r8(len);
  }
  return null;
}

interface Context {
  state: TaState;
  rscPa: number;
  rscSize: number;
}

interface LoadJob {
  procId: number;
  tlvs: Uint8Array;
  tlvLen: number;
  hashTable: Uint8Array;
  /** Images area in the client buffer. */
  imgOff: number;
  imgLen: number;
  buf: NsBuffer;
}

type Shape = TeeParam["type"];

function shapeOf(params: TeeParam[]): Shape[] {
  return [0, 1, 2, 3].map((i) => params[i]?.type ?? "none");
}

const sameShape = (got: Shape[], want: Shape[]): boolean => want.every((t, i) => got[i] === t);

export class RemoteprocTa implements TrustedApplication {
  private contexts = new Map<number, Context>();
  private nextSession = 1;
  private readonly shm = new Map<number, Uint8Array>();
  private nextShm = 1;
  private pending: { kind: "ta" | "transport"; result: number } | null = null;
  /** Bumped when the instance panics: sessions opened on an older instance are dead (TARGET_DEAD). */
  private instance = 1;
  /** Open sessions and the instance each was opened on. */
  private readonly sessions = new Map<number, number>();
  /** Why the current command ended as it did (the failing step of LOAD_FW). */
  private reason = "";

  constructor(
    private readonly pta: Pta,
    private readonly memory: Memory,
    private readonly bus: EventBus,
  ) {}

  /** Sessions open on the live instance (the TA's own reference count). */
  get sessionCount(): number {
    return [...this.sessions.values()].filter((i) => i === this.instance).length;
  }

  state(procId: number): TaState | null {
    return this.contexts.get(procId)?.state ?? null;
  }

  async openSession(procId: number): Promise<OpenSessionResult> {
    let result: TeeResult = R.SUCCESS;
    if (this.sessionCount === 0) result = this.pta.openSession(procId);
    let session = 0;
    if (result === R.SUCCESS) {
      session = this.nextSession++;
      this.sessions.set(session, this.instance);
    }
    this.bus.emit({
      layer: "ta",
      fn: "openSession",
      session,
      result,
      detail: `rproc_id ${procId}: ${teeResultName(result)}`,
    });
    return { ret: 0, result, session };
  }

  async closeSession(session: number): Promise<void> {
    const known = this.sessions.delete(session);
    this.bus.emit({
      layer: "ta",
      fn: "closeSession",
      session,
      result: known ? R.SUCCESS : R.BAD_PARAMETERS,
      detail: known ? `${this.sessionCount} session(s) left; TA state kept` : "unknown session",
    });
  }

  registerShm(data: Uint8Array): number {
    const id = this.nextShm++;
    this.shm.set(id, data);
    this.bus.emit({
      layer: "ta",
      fn: "registerShm",
      shm: id,
      size: data.length,
      detail: `shm ${id}: ${data.length} bytes`,
    });
    return id;
  }

  freeShm(id: number): void {
    const data = this.shm.get(id);
    this.shm.delete(id);
    this.bus.emit({
      layer: "ta",
      fn: "freeShm",
      shm: id,
      size: data?.length ?? 0,
      detail: data ? `shm ${id} freed` : `shm ${id} was not registered`,
    });
  }

  failNext(kind: "ta" | "transport", result?: number): void {
    this.pending = { kind, result: result ?? (kind === "ta" ? R.GENERIC : EIO) };
  }

  async invoke(session: number, cmd: number, params: TeeParam[]): Promise<InvokeResult> {
    const procId = params[0]?.type === "value-in" ? params[0].a >>> 0 : null;
    const out = params.map((p) => ({ ...p }));
    const finish = (ret: number, result: TeeResult, detail: string): InvokeResult => {
      this.bus.emit({
        layer: "ta",
        fn: "invoke",
        session,
        cmd,
        cmdName: taCommandName(cmd),
        procId,
        result,
        resultName: teeResultName(result),
        ret,
        detail,
      });
      return { ret, result, params: out, detail };
    };
    const injected = this.pending;
    this.pending = null;
    if (injected?.kind === "transport")
      return finish(injected.result, R.GENERIC, "injected transport failure");
    if (!this.sessions.has(session)) return finish(EINVAL, R.GENERIC, `session ${session} is not open`);
    if (this.sessions.get(session) !== this.instance)
      return finish(0, R.TARGET_DEAD, "the TA instance is dead");
    if (injected?.kind === "ta") return finish(0, injected.result, "injected TA error");
    const mem = this.resolveMemref(params[1]);
    if (mem === "freed")
      return finish(EINVAL, R.GENERIC, "memref names a shared memory that is not registered");
    this.reason = "";
    try {
      const result = await this.dispatch(cmd, params, out, mem);
      const why = this.reason ? ` (${this.reason})` : "";
      return finish(0, result, `${taCommandName(cmd)}: ${teeResultName(result)}${why}`);
    } catch (e) {
      if (!(e instanceof TaPanic)) throw e;
      this.contexts = new Map();
      this.instance++;
      this.bus.emit({ layer: "ta", fn: "panic", detail: `TA panic: ${e.message}` });
      return finish(0, R.TARGET_DEAD, `TA panic: ${e.message}`);
    }
  }

  private resolveMemref(p: TeeParam | undefined): { data: Uint8Array; offset: number } | null | "freed" {
    if (p?.type !== "memref-in") return null;
    const base = p.shm !== undefined ? this.shm.get(p.shm) : p.data;
    if (!base) return p.shm !== undefined ? "freed" : null;
    const offset = p.offset ?? 0;
    const size = p.size ?? base.length - offset;
    if (offset < 0 || size < 0 || offset + size > base.length) return "freed";
    return { data: base.subarray(offset, offset + size), offset };
  }

  private async dispatch(
    cmd: number,
    params: TeeParam[],
    out: TeeParam[],
    mem: { data: Uint8Array; offset: number } | null,
  ): Promise<TeeResult> {
    const shape = shapeOf(params);
    const procId = params[0]?.type === "value-in" ? params[0].a >>> 0 : 0;
    const ctx = this.contexts.get(procId);
    const onlyId = sameShape(shape, ["value-in", "none", "none", "none"]);
    switch (cmd) {
      case TA_CMD.LOAD_FW:
        if (!sameShape(shape, ["value-in", "memref-in", "none", "none"])) return R.BAD_PARAMETERS;
        return this.loadFw(procId, mem);
      case TA_CMD.START_FW:
        if (!onlyId || !ctx) return R.BAD_PARAMETERS;
        if (ctx.state === "OFF") return R.BAD_STATE;
        if (ctx.state === "STARTED") return R.SUCCESS;
        return this.transition(ctx, this.pta.start(procId), "STARTED");
      case TA_CMD.STOP_FW:
        if (!onlyId || !ctx) return R.BAD_PARAMETERS;
        if (ctx.state === "LOADED") return R.BAD_STATE;
        if (ctx.state === "OFF") return R.SUCCESS;
        return this.transition(ctx, this.pta.stop(procId), "OFF");
      case TA_CMD.GET_RSC_TABLE:
        if (!sameShape(shape, ["value-in", "value-out", "value-out", "none"]) || !ctx)
          return R.BAD_PARAMETERS;
        if (ctx.state === "OFF") return R.BAD_STATE;
        out[1] = { type: "value-out", a: ctx.rscPa >>> 0, b: 0 };
        out[2] = { type: "value-out", a: ctx.rscSize >>> 0, b: 0 };
        return R.SUCCESS;
      case TA_CMD.GET_COREDUMP:
        return R.NOT_IMPLEMENTED;
      case TA_CMD.RELEASE_FW: {
        if (!onlyId || !ctx) return R.BAD_PARAMETERS;
        if (ctx.state === "STARTED") return R.BAD_STATE;
        return this.transition(ctx, this.pta.release(procId), "OFF");
      }
      default:
        return R.BAD_PARAMETERS;
    }
  }

  private transition(ctx: Context, result: TeeResult, to: TaState): TeeResult {
    if (result === R.SUCCESS) ctx.state = to;
    return result;
  }

  private async loadFw(procId: number, mem: { data: Uint8Array; offset: number } | null): Promise<TeeResult> {
    let ctx = this.contexts.get(procId);
    if (!ctx) {
      ctx = { state: "OFF", rscPa: 0, rscSize: 0 };
      this.contexts.set(procId, ctx);
    }
    if (ctx.state === "LOADED") {
      this.reason = "P3: already LOADED, the image is not read";
      return R.SUCCESS;
    }
    if (ctx.state !== "OFF") return R.BAD_STATE;
    if (!mem || mem.data.length === 0) return R.BAD_PARAMETERS;
    try {
      const rsc = this.loadElf(ctx, this.verify(procId, mem));
      ctx.rscPa = rsc.pa;
      ctx.rscSize = rsc.size;
      this.memory.rscWindow = rsc.size > 0 ? { pa: rsc.pa, size: rsc.size } : null;
      ctx.state = "LOADED";
      return R.SUCCESS;
    } catch (e) {
      if (!(e instanceof Fail)) throw e;
      this.reason = e.reason;
      return e.result;
    }
  }

  /** V1-V5: capabilities, secure copy of header+TLVs+signature, header checks, signature (by the PTA). */
  private verify(procId: number, mem: { data: Uint8Array; offset: number }): LoadJob {
    const caps = this.pta.hwCapabilities(procId);
    check(caps === R.SUCCESS, caps, "V1: platform capabilities");
    const size = mem.data.length;
    check(mem.offset % 4 === 0, R.BAD_PARAMETERS, "V2: buffer not 4-byte aligned");
    // The header fields are read from the client buffer before any size check; too short a buffer
    // always ends in the size check below.
    check(size >= HEADER_SIZE, R.BAD_PARAMETERS, `V2: buffer of ${size} bytes is shorter than the header`);
    const buf = new NsBuffer(mem.data);
    const tlvLen = buf.u32(8);
    const signLen = buf.u32(12);
    const copyLen = HEADER_SIZE + r8(tlvLen) + r8(signLen);
    check(copyLen <= 0xffffffff, R.BAD_PARAMETERS, "V2: header+TLV+signature length overflows");
    check(
      size > copyLen && signLen !== 0 && tlvLen !== 0,
      R.BAD_PARAMETERS,
      `V2: size ${size} not above 20+R8(tlv_len)+R8(sign_len) = ${copyLen}, or tlv_len/sign_len 0`,
    );
    const secure = mem.data.slice(0, copyLen);
    check(u32(secure, 0) === IMAGE_MAGIC, R.BAD_PARAMETERS, "V3: bad magic");
    check(u32(secure, 4) === IMAGE_VERSION, R.BAD_PARAMETERS, "V3: header version is not 1");
    const imgLen = u32(secure, 16);
    const total = HEADER_SIZE + r8(signLen) + r8(imgLen) + r8(tlvLen);
    check(
      total <= 0xffffffff && total === size,
      R.BAD_PARAMETERS,
      `V3: size ${size} is not 20+R8(tlv)+R8(sign)+R8(img) = ${total}`,
    );
    const tlvs = secure.subarray(HEADER_SIZE, HEADER_SIZE + r8(tlvLen));
    const signType = getTlv(tlvs, tlvLen, TLV.SIGNTYPE);
    check(
      signType !== null && signType.length === 1,
      R.BAD_PARAMETERS,
      "V4: SIGNTYPE TLV missing or not 1 byte",
    );
    const algo = SIGN_ALGOS[signType?.[0] ?? 0];
    check(algo !== undefined, R.NOT_SUPPORTED, `V4: unknown SIGNTYPE ${signType?.[0]}`);
    const digest = sha256(secure.subarray(0, HEADER_SIZE + r8(tlvLen)));
    const info = getTlv(tlvs, tlvLen, TLV.PKEYINFO) ?? new Uint8Array(0);
    const keyInfo = concat([le32(algo ?? 0, info.length), info]);
    const sigOff = HEADER_SIZE + r8(tlvLen);
    const signature = secure.subarray(sigOff, sigOff + signLen);
    const verdict = this.pta.verifyDigest(procId, keyInfo, digest, signature);
    check(verdict === R.SUCCESS, verdict, "V4: the platform did not verify the signature");
    return { procId, tlvs, tlvLen, hashTable: new Uint8Array(0), imgOff: sigOff + r8(signLen), imgLen, buf };
  }

  /** L1-L7: ELF header of the first image, hash table, images one by one, resource table. */
  private loadElf(ctx: Context, job: LoadJob): { pa: number; size: number } {
    const { buf, imgOff, imgLen } = job;
    // L1: on the images area as a whole (so the first image only).
    check(imgOff % 4 === 0, R.BAD_PARAMETERS, "L1: images not 4-byte aligned");
    check(
      imgLen >= 52 && imgLen >= buf.u32(imgOff + 32) + 40,
      R.BAD_FORMAT,
      "L1: img_len below the ELF header or e_shoff + 40",
    );
    check(buf.u32(imgOff) === 0x464c457f, R.BAD_FORMAT, "L1: no ELF magic");
    check(
      buf.u8(imgOff + 6) === 1 && buf.u8(imgOff + 4) === 1,
      R.BAD_FORMAT,
      "L1: EI_VERSION not 1 or EI_CLASS not ELFCLASS32",
    );
    check(
      buf.u16(imgOff + 42) === 32 && buf.u16(imgOff + 46) === 40,
      R.BAD_FORMAT,
      "L1: e_phentsize/e_shentsize",
    );
    check(buf.u16(imgOff + 44) !== 0, R.BAD_FORMAT, "L1: e_phnum is 0");
    // L2
    const table = getTlv(job.tlvs, job.tlvLen, TLV.HASHTABLE);
    check(table !== null, R.NO_DATA, "L2: HASHTABLE TLV missing or empty");
    check(
      (table?.length ?? 0) % HASH_ENTRY_SIZE === 0,
      R.BAD_PARAMETERS,
      "L2: HASHTABLE length not a multiple of 64",
    );
    job.hashTable = (table ?? new Uint8Array(0)).slice();
    // L3
    const num = getTlv(job.tlvs, job.tlvLen, TLV.NUM_IMG);
    check(num !== null, R.NO_DATA, "L3: NUM_IMG TLV missing");
    check(num?.length === 1, R.BAD_FORMAT, "L3: NUM_IMG length is not 1");
    const numImg = num?.[0] ?? 0;
    check(numImg !== 0, R.NO_DATA, "L3: NUM_IMG is 0");
    ctx.rscPa = 0;
    ctx.rscSize = 0;
    let rsc = { pa: 0, size: 0 };
    let offset = 0;
    for (let i = 0; i < numImg; i++) {
      const types = getTlv(job.tlvs, job.tlvLen, TLV.IMGTYPE);
      check(types !== null, R.NO_DATA, "L4: IMGTYPE TLV missing");
      check(types?.length === numImg, R.BAD_PARAMETERS, "L4: IMGTYPE length differs from NUM_IMG");
      check(types?.[i] === 1, R.BAD_FORMAT, `L4: image ${i + 1} type is not ELF`);
      const sizes = getTlv(job.tlvs, job.tlvLen, TLV.IMGSIZE);
      check(sizes !== null, R.NO_DATA, "L4: IMGSIZE TLV missing");
      check(sizes?.length === 4 * numImg, R.BAD_PARAMETERS, "L4: IMGSIZE length differs from 4 x NUM_IMG");
      const imgSize = sizes ? u32(sizes, 4 * i) : 0;
      const base = imgOff + offset;
      this.loadImage(job, base, imgSize);
      const found = this.findRscTable(job, base, imgSize);
      if (found) {
        check(rsc.pa === 0 && rsc.size === 0, R.BAD_FORMAT, `L6: image ${i + 1} has a second resource table`);
        rsc = found;
      }
      offset += imgSize;
    }
    return rsc;
  }

  private loadImage(job: LoadJob, base: number, size: number): void {
    const { buf } = job;
    check(size > 0 && base + size <= 0xffffffff, R.BAD_PARAMETERS, "L4: empty or wrapping image range");
    const phoff = buf.u32(base + 28);
    const phnum = buf.u16(base + 44);
    check(
      phoff % 4 === 0 && phoff < size,
      R.BAD_FORMAT,
      `L4: e_phoff ${phoff} unaligned or outside the image`,
    );
    for (let i = 0; i < phnum; i++) {
      const ph = phoff + i * 32;
      check(ph + 32 <= size, R.BAD_FORMAT, `L4: program header ${i} outside the image`);
      if (buf.u32(base + ph) !== PT_LOAD) continue;
      const pOffset = buf.u32(base + ph + 4);
      const da = buf.u32(base + ph + 12);
      const filesz = buf.u32(base + ph + 16);
      const memsz = buf.u32(base + ph + 20);
      check(pOffset + filesz <= size, R.BAD_FORMAT, `L4: segment ${i} bytes outside the image`);
      this.loadSegment(job, base + pOffset, da, filesz, memsz);
    }
  }

  private loadSegment(job: LoadJob, src: number, da: number, filesz: number, memsz: number): void {
    const t = job.hashTable;
    let entry = -1;
    for (let e = 0; e + HASH_ENTRY_SIZE <= t.length; e += HASH_ENTRY_SIZE) {
      if (u32(t, e + 12) === da) {
        entry = e;
        break;
      }
    }
    check(entry >= 0, R.NO_DATA, `L5: no hash-table entry for da ${hex32(da)}`);
    check(
      u32(t, entry) === PT_LOAD,
      R.BAD_PARAMETERS,
      `L5: hash-table entry for da ${hex32(da)} is not PT_LOAD`,
    );
    check(
      u32(t, entry + 16) === filesz && u32(t, entry + 20) === memsz,
      R.BAD_PARAMETERS,
      `L5: filesz/memsz of da ${hex32(da)} differ from the signed table`,
    );
    check(
      src >= job.imgOff && src + filesz <= job.imgOff + job.imgLen,
      R.BAD_PARAMETERS,
      `L5: segment of da ${hex32(da)} outside the images area`,
    );
    const hash = t.subarray(entry + 32, entry + 64);
    if (filesz > 0) {
      const res = this.pta.loadSegmentSha256(job.procId, job.buf.bytes(src, filesz), da, hash);
      check(res === R.SUCCESS, res, `L5: segment load at da ${hex32(da)}`);
    }
    if (memsz > filesz) {
      const res = this.pta.setMemory(job.procId, (da + filesz) >>> 0, memsz - filesz, 0);
      check(res === R.SUCCESS, res, `L5: clearing .bss after da ${hex32(da)}`);
    }
  }

  /** L6: the `.resource_table` section of one image, or null when it has none. */
  private findRscTable(job: LoadJob, base: number, size: number): { pa: number; size: number } | null {
    const { buf } = job;
    const shoff = buf.u32(base + 32);
    const shnum = buf.u16(base + 48);
    const shstrndx = buf.u16(base + 50);
    check(
      shoff % 4 === 0 && shoff + shnum * 40 <= size,
      R.BAD_FORMAT,
      "L6: section headers unaligned or outside the image",
    );
    check(shstrndx < shnum, R.BAD_FORMAT, "L6: e_shstrndx not below e_shnum");
    const strOff = buf.u32(base + shoff + shstrndx * 40 + 16);
    const strSize = buf.u32(base + shoff + shstrndx * 40 + 20);
    check(
      strOff < size && strOff + strSize <= size,
      R.BAD_FORMAT,
      "L6: section name table outside the image",
    );
    const want = ".resource_table\0";
    for (let i = 0; i < shnum; i++) {
      const sh = base + shoff + i * 40;
      const name = buf.u32(sh);
      check(name < strSize, R.BAD_FORMAT, `L6: sh_name of section ${i} beyond the name table`);
      const left = strSize - name;
      let match = left >= want.length;
      for (let k = 0; match && k < want.length; k++)
        match = buf.u8(base + strOff + name + k) === want.charCodeAt(k);
      if (!match) continue;
      const addr = buf.u32(sh + 12);
      const off = buf.u32(sh + 16);
      const len = buf.u32(sh + 20);
      if (len === 0) return null;
      check(off + len <= size, R.BAD_FORMAT, "L6: resource table outside the image");
      check(len >= 16, R.BAD_FORMAT, "L6: resource table smaller than its header");
      check((base + off) % 4 === 0, R.CORRUPT_OBJECT, "L6: resource table not 4-byte aligned");
      check(buf.u32(base + off) === 1, R.BAD_FORMAT, "L6: resource table version is not 1");
      check(
        buf.u32(base + off + 8) === 0 && buf.u32(base + off + 12) === 0,
        R.BAD_FORMAT,
        "L6: resource table reserved words not 0",
      );
      check(
        16 + 4 * buf.u32(base + off + 4) <= len,
        R.BAD_FORMAT,
        "L6: resource table offsets run past its size",
      );
      const t = this.pta.daToPa(job.procId, addr, len);
      check(
        t.result === R.SUCCESS,
        R.ACCESS_DENIED,
        `L6: resource table da ${hex32(addr)} outside every region`,
      );
      return { pa: t.pa, size: len };
    }
    return null;
  }
}
