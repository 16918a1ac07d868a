/**
 * drivers/remoteproc/remoteproc_tee.c of the series: the TEE bus client driver through which a remoteproc
 * platform driver delegates loading (with authentication), start, stop and release of its firmware to the
 * OP-TEE remoteproc TA. One function per C function; behaviour comes from the design facts (k.facts.tee)
 * only, never from a version name. Lifetimes are modelled, not judged here: a devm-owned global context that
 * outlives its device, an entry freed twice, sleeping under the context lock all become kernel events that
 * the monitors turn into findings.
 *
 * The module's static state (the global context, its lock, the module refcount) lives per Kernel: one
 * scenario run is one boot of the machine. rproc->rproc_tee_itf is rproc.ext.rproc_tee_itf.
 *
 * A design without a TEE driver (facts.tee === null) is CONFIG_REMOTEPROC_TEE=n: every function is the
 * header's stub, which WARNs (register returns -ENODEV).
 */

import type { TeeParam } from "../emulator/api.ts";
import { TA_CMD, taCommandName } from "../emulator/api.ts";
import { staticFn } from "../fork.ts";
import { type Device, DL_FLAG_AUTOREMOVE_CONSUMER, type Driver, type DriverCore } from "./device.ts";
import type { TeeFacts, TeeFn, TeeLockFn } from "./facts.ts";
import {
  EINVAL,
  EIO,
  ENODEV,
  ENOMEM,
  EPROBE_DEFER,
  type Kernel,
  type KObj,
  type LockBase,
  Mutex,
  SpinLock,
} from "./kernel.ts";
import { type FwObj, type Ptr, type Rproc, rproc_pa_to_va } from "./remoteproc_core.ts";
import {
  type InvokeArg,
  type OpenSessionArg,
  TEE_IMPL_ID_OPTEE,
  TEE_IOCTL_LOGIN_REE_KERNEL,
  type TeeContext,
  type TeeDevice,
  tee_client_close_context,
  tee_client_close_session,
  tee_client_invoke_func,
  tee_client_open_context,
  tee_client_open_session,
  tee_shm_free,
  tee_shm_register_kernel_buf,
} from "./tee_client.ts";

/** UUID of the remoteproc TA (rproc_tee_id_table). */
export const RPROC_TEE_TA_UUID = "80a4c275-0a47-4905-8285-1486a9771a08";
/** Name of the TEE bus device OP-TEE enumerates for the TA (drivers/tee/optee/device.c: optee-ta-<uuid>). */
export const RPROC_TEE_BUS_DEVICE = `optee-ta-${RPROC_TEE_TA_UUID}`;

/** struct rproc_tee: the per-rproc entry (session and processor id). */
export interface RprocTeeEntry {
  rproc: Rproc;
  parent: Device;
  rproc_id: number;
  session_id: number;
}
export type Trproc = KObj<RprocTeeEntry>;

/** struct rproc_tee_context: the driver-global context. */
export interface RprocTeeContext {
  sessions: Trproc[];
  tee_ctx: TeeContext | null;
  dev: Device | null;
}

/** The module's static data for one kernel. */
interface ModuleState {
  readonly core: DriverCore;
  readonly teedevs: readonly TeeDevice[];
  /** tee.ctxStorage "static": the global context structure itself. */
  readonly staticCtx: RprocTeeContext;
  /** tee.ctxStorage "devm": the global context pointer, to devm memory of the TEE device. */
  ctxPtr: KObj<RprocTeeContext> | null;
  /** `ctx_lock`, per tee.ctxLock. */
  readonly lock: LockBase | null;
  /** THIS_MODULE's refcount (try_module_get / module_put). */
  refcount: number;
}

/** The module's static data in a kernel (its globals: a fork of the kernel copies them). */
const MODULE = "remoteproc_tee";
const moduleOf = (k: Kernel): ModuleState | undefined => k.modules.get(MODULE) as ModuleState | undefined;

const ITF = "rproc_tee_itf";

function teeFacts(k: Kernel): TeeFacts | null {
  return k.facts.tee;
}

/** The header's CONFIG_REMOTEPROC_TEE=n stubs: every one WARNs but register's (which returns -ENODEV). */
function stub(k: Kernel, fn: string): void {
  if (fn === "rproc_tee_register") return;
  k.WARN_ON(true, fn, `${fn}: CONFIG_REMOTEPROC_TEE is not set (header stub)`);
}

/** The global context as a C access reads it: the static structure, or through the devm pointer. */
function ctxOf(k: Kernel, m: ModuleState, tee: TeeFacts, at: string): RprocTeeContext | null {
  if (tee.ctxStorage === "static") return m.staticCtx;
  if (m.ctxPtr === null) return null;
  k.use(m.ctxPtr, at, "rproc_tee_ctx");
  return m.ctxPtr.data;
}

/** The per-rproc entry: rproc->rproc_tee_itf, or rproc_to_trproc()'s walk of the session list. */
function lookupEntry(k: Kernel, m: ModuleState, tee: TeeFacts, rproc: Rproc, at: string): Trproc | null {
  if (tee.entryLookup === "rproc-field") {
    const entry = (rproc.ext[ITF] as Trproc | null | undefined) ?? null;
    if (entry !== null) k.use(entry, at, "rproc->rproc_tee_itf");
    return entry;
  }
  const ctx = ctxOf(k, m, tee, "rproc_to_trproc");
  for (const entry of ctx?.sessions ?? []) {
    k.use(entry, "rproc_to_trproc", "list walk");
    if (entry.data.rproc === rproc) return entry;
  }
  return null;
}

/** True when `fn` tests that the TEE device is bound (tee.presenceChecks) and it is not. */
function teeDeviceGone(k: Kernel, m: ModuleState, tee: TeeFacts, fn: TeeFn): boolean {
  if (!tee.presenceChecks.includes(fn)) return false;
  const ctx = ctxOf(k, m, tee, fn);
  return ctx === null || ctx.dev === null;
}

/**
 * The critical sections of a locking function: before each named call the lock is taken when
 * tee.lockedCalls[fn] lists the call, and released when it does not; end() releases it.
 */
class Critical {
  private readonly calls: readonly string[];
  constructor(
    private readonly m: ModuleState,
    tee: TeeFacts,
    private readonly fn: TeeLockFn,
  ) {
    this.calls = tee.lockedCalls[fn];
  }
  before(call: string): void {
    const lock = this.m.lock;
    if (lock === null) return;
    const inside = this.calls.includes(call);
    if (inside && !lock.held) {
      if (lock instanceof SpinLock) lock.spin_lock(this.fn);
      else if (lock instanceof Mutex) lock.mutex_lock(this.fn);
    } else if (!inside && lock.held) {
      lock.unlock(this.fn);
    }
  }
  end(): void {
    if (this.m.lock?.held) this.m.lock.unlock(this.fn);
  }
}

/** rproc_tee_prepare_args + tee_client_invoke_func: param[0] = proc id, then `extra`. */
async function invoke(
  k: Kernel,
  m: ModuleState,
  tee: TeeFacts,
  fn: string,
  trproc: Trproc,
  cmd: number,
  extra: TeeParam[],
): Promise<{ ret: number; taRet: number; params: TeeParam[] }> {
  const ctx = ctxOf(k, m, tee, fn);
  k.use(trproc, fn, "trproc->session_id");
  const params: TeeParam[] = [{ type: "value-in", a: trproc.data.rproc_id, b: 0 }, ...extra];
  const arg: InvokeArg = { func: cmd, session: trproc.data.session_id, ret: 0 };
  const ret = await k.call(
    "tee",
    "tee_client_invoke_func",
    () => tee_client_invoke_func(k, ctx?.tee_ctx ?? null, arg, params, fn),
    { detail: taCommandName(cmd) },
  );
  if (ret < 0 || arg.ret !== 0) {
    if (ret >= 0) k.reportFailure(`TA ${taCommandName(cmd)}`, arg.ret);
    k.note(
      "tee",
      fn,
      "log",
      `${taCommandName(cmd)}: TA result 0x${(arg.ret >>> 0).toString(16)}, call returned ${ret}`,
    );
  }
  return { ret, taRet: arg.ret, params };
}

/**
 * What `fn` returns for a failed invoke: a transport failure (ret < 0) per tee.invokeErrorResult (0 when
 * swallowed; else ret itself, or -EIO where the C function maps every failure to -EIO); a TA error is -EIO.
 */
function invokeStatus(
  tee: TeeFacts,
  fn: TeeFn,
  r: { ret: number; taRet: number },
  transport: "ret" | "eio",
): number {
  if (r.ret < 0) return tee.invokeErrorResult[fn] === "swallow" ? 0 : transport === "ret" ? r.ret : -EIO;
  return r.taRet !== 0 ? -EIO : 0;
}

/** Runs a TEE function: the stub without a TEE driver, else `body` with the module state. */
function teeCall<T extends number | undefined>(
  k: Kernel,
  fn: string,
  stubRet: T,
  body: (m: ModuleState, tee: TeeFacts) => Promise<T>,
  ignores: readonly string[] = [],
): Promise<T> {
  return k.call(
    "tee",
    fn,
    async () => {
      const tee = teeFacts(k);
      if (tee === null) {
        stub(k, fn);
        return stubRet;
      }
      const m = moduleOf(k);
      if (m === undefined) {
        k.note("tee", fn, "log", "remoteproc_tee is not initialised in this kernel");
        return (typeof stubRet === "number" ? -ENODEV : undefined) as T;
      }
      return body(m, tee);
    },
    { ignores },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Client API (remoteproc_tee.h)

/** models remoteproc_tee.c: rproc_tee_release_fw() — RELEASE_FW, only for an OFFLINE rproc; void */
export function rproc_tee_release_fw(k: Kernel, rproc: Rproc): Promise<void> {
  const fn = "rproc_tee_release_fw";
  return teeCall(
    k,
    fn,
    undefined,
    async (m, tee) => {
      if (teeDeviceGone(k, m, tee, fn)) return undefined;
      const trproc = lookupEntry(k, m, tee, rproc, fn);
      if (trproc === null) return undefined;
      if (tee.releaseSkipsDetached && rproc.state === "detached") return undefined;
      if (tee.releaseOnlyWhenOffline && rproc.state !== "offline") {
        k.note("tee", fn, "log", `rproc is ${rproc.state}, not offline: no RELEASE_FW`);
        return undefined;
      }
      const r = await invoke(k, m, tee, fn, trproc, TA_CMD.RELEASE_FW, []);
      if (invokeStatus(tee, fn, r, "eio") !== 0) k.note("tee", fn, "log", "RELEASE_FW failed, only logged");
      return undefined;
    },
    // void in C: a failed RELEASE_FW can only be logged
    ["tee_client_invoke_func", "TA RELEASE_FW"],
  );
}

/** models remoteproc_tee.c: rproc_tee_load_fw() — registers fw->data as shm and invokes LOAD_FW */
export function rproc_tee_load_fw(k: Kernel, rproc: Rproc, fw: FwObj): Promise<number> {
  const fn = "rproc_tee_load_fw";
  return teeCall(k, fn, 0, async (m, tee) => {
    if (teeDeviceGone(k, m, tee, fn)) return -ENODEV;
    const trproc = lookupEntry(k, m, tee, rproc, fn);
    if (trproc === null) return -EINVAL;
    const ctx = ctxOf(k, m, tee, fn);
    k.use(fw, fn, "fw->data");
    const shm = tee_shm_register_kernel_buf(k, ctx?.tee_ctx ?? null, fw.data.data, fn);
    if (typeof shm === "number") return shm;
    const r = await invoke(k, m, tee, fn, trproc, TA_CMD.LOAD_FW, [
      { type: "memref-in", shm: shm.data.id, offset: 0, size: fw.data.data.length },
    ]);
    tee_shm_free(k, shm, fn);
    return invokeStatus(tee, fn, r, "ret");
  });
}

/** models remoteproc_tee.c: rproc_tee_get_loaded_rsc_table() (static) — GET_RSC_TABLE: pa and size */
async function rproc_tee_get_loaded_rsc_table(
  k: Kernel,
  m: ModuleState,
  tee: TeeFacts,
  rproc: Rproc,
  caller: TeeFn,
): Promise<{ ret: number; pa: number; size: number }> {
  let pa = 0;
  let size = 0;
  const fn = "rproc_tee_get_loaded_rsc_table";
  const ret = await k.call("tee", fn, async () => {
    // the TEE-device check of this helper is listed under its public caller, find_loaded_rsc_table
    if (teeDeviceGone(k, m, tee, "rproc_tee_find_loaded_rsc_table")) return -ENODEV;
    const trproc = lookupEntry(k, m, tee, rproc, fn);
    if (trproc === null) return -EINVAL;
    const r = await invoke(k, m, tee, fn, trproc, TA_CMD.GET_RSC_TABLE, [
      { type: "value-out", a: 0, b: 0 },
      { type: "value-out", a: 0, b: 0 },
    ]);
    const status = invokeStatus(tee, caller, r, "eio");
    if (r.ret < 0 || r.taRet !== 0) return status;
    const word = (p: TeeParam | undefined): number => {
      if (p === undefined || p.type === "none" || p.type === "memref-in") return 0;
      return tee.rscTableBits === "low32" ? p.a >>> 0 : (p.a >>> 0) + (p.b >>> 0) * 2 ** 32;
    };
    size = word(r.params[2]);
    pa = size !== 0 ? word(r.params[1]) : 0;
    return 0;
  });
  return { ret, pa, size };
}

/**
 * models remoteproc_tee.c: rproc_tee_parse_fw() — (LOAD_FW when tee.parseFwLoads), GET_RSC_TABLE, map the
 * table and keep a kmemdup'd copy as rproc->cached_table; RELEASE_FW on a failure after the load.
 */
export function rproc_tee_parse_fw(k: Kernel, rproc: Rproc, fw: FwObj): Promise<number> {
  const fn = "rproc_tee_parse_fw";
  return teeCall(k, fn, 0, async (m, tee) => {
    if (teeDeviceGone(k, m, tee, fn)) return -ENODEV;
    if (tee.parseFwLoads) {
      const ret = await rproc_tee_load_fw(k, rproc, fw);
      if (ret) return ret;
    }
    const ret = await mapTable(k, m, tee, rproc);
    if (ret && tee.parseFwReleasesOnError) await rproc_tee_release_fw(k, rproc);
    return ret;
  });
}

/** The part of rproc_tee_parse_fw between the load and the release_fw label. */
async function mapTable(k: Kernel, m: ModuleState, tee: TeeFacts, rproc: Rproc): Promise<number> {
  const fn = "rproc_tee_parse_fw";
  const got = await rproc_tee_get_loaded_rsc_table(k, m, tee, rproc, fn);
  if (got.ret) return got.ret;
  if (got.size === 0 && tee.zeroSizeTable === "no-table") {
    k.note("tee", fn, "log", "size 0: no resource table");
    return 0;
  }
  // ioremap_wc(pa, size): a zero-sized or unreachable range gives NULL
  const bytes = got.size === 0 ? null : rproc.io.read(got.pa, got.size);
  if (bytes === null) {
    k.note(
      "tee",
      fn,
      "log",
      `ioremap of the table at 0x${got.pa.toString(16)}, size 0x${got.size.toString(16)}: NULL`,
    );
    return -ENOMEM;
  }
  const cached = k.kmemdup("cached_table", rproc.name, bytes, fn);
  rproc.cached_table = cached;
  rproc.table_ptr = { kind: "mem", obj: cached, off: 0 };
  rproc.table_sz = got.size;
  return 0;
}

/**
 * models remoteproc_tee.c: rproc_tee_find_loaded_rsc_table() — GET_RSC_TABLE again, sets table_sz, and
 * translates the pa with rproc_pa_to_va over the allocated carveouts; NULL when absent.
 */
export async function rproc_tee_find_loaded_rsc_table(
  k: Kernel,
  rproc: Rproc,
  _fw: FwObj,
): Promise<Ptr | null> {
  const fn = "rproc_tee_find_loaded_rsc_table";
  let found: Ptr | null = null;
  await teeCall(
    k,
    fn,
    undefined,
    async (m, tee) => {
      const got = await rproc_tee_get_loaded_rsc_table(k, m, tee, rproc, fn);
      if (got.ret) return undefined;
      rproc.table_sz = got.size;
      if (got.size === 0) return undefined;
      found = rproc_pa_to_va(k, rproc, got.pa, got.size)?.ptr ?? null;
      return undefined;
    },
    // returns NULL (no loaded table) whatever the reason: the core then keeps table_ptr on the cache
    ["rproc_tee_get_loaded_rsc_table"],
  );
  return found;
}

/** models remoteproc_tee.c: rproc_tee_start() — START_FW */
export function rproc_tee_start(k: Kernel, rproc: Rproc): Promise<number> {
  return startStop(k, rproc, "rproc_tee_start", TA_CMD.START_FW);
}

/** models remoteproc_tee.c: rproc_tee_stop() — STOP_FW */
export function rproc_tee_stop(k: Kernel, rproc: Rproc): Promise<number> {
  return startStop(k, rproc, "rproc_tee_stop", TA_CMD.STOP_FW);
}

function startStop(
  k: Kernel,
  rproc: Rproc,
  fn: "rproc_tee_start" | "rproc_tee_stop",
  cmd: number,
): Promise<number> {
  return teeCall(k, fn, 0, async (m, tee) => {
    if (teeDeviceGone(k, m, tee, fn)) return -ENODEV;
    const trproc = lookupEntry(k, m, tee, rproc, fn);
    if (trproc === null) return -EINVAL;
    return invokeStatus(tee, fn, await invoke(k, m, tee, fn, trproc, cmd, []), "ret");
  });
}

/**
 * models remoteproc_tee.c: rproc_tee_register() — -EPROBE_DEFER until the TEE device probed; opens the
 * rproc's session (login REE_KERNEL, value = proc id); per facts: module ref, entry allocation, device link.
 */
export function rproc_tee_register(k: Kernel, dev: Device, rproc: Rproc, procId: number): Promise<number> {
  const fn = "rproc_tee_register";
  return teeCall(k, fn, -ENODEV, async (m, tee) => {
    const cs = new Critical(m, tee, fn);
    cs.before("rproc_tee_ctx");
    const ret = await register(k, m, tee, cs, dev, rproc, procId);
    cs.end();
    return ret;
  });
}

async function register(
  k: Kernel,
  m: ModuleState,
  tee: TeeFacts,
  cs: Critical,
  dev: Device,
  rproc: Rproc,
  procId: number,
): Promise<number> {
  const fn = "rproc_tee_register";
  const ctx = ctxOf(k, m, tee, fn);
  if (ctx === null || ctx.dev === null) return -EPROBE_DEFER;
  const teeDev = ctx.dev;
  if (tee.moduleGet) {
    m.refcount += 1;
    k.note("tee", "try_module_get", "state", `remoteproc_tee refcount ${m.refcount}`);
  }
  cs.before("kzalloc");
  k.mightSleep(tee.entryAlloc === "kzalloc" ? "kzalloc" : "devm_kzalloc", fn);
  const entry = k.alloc<RprocTeeEntry>(
    "trproc",
    `rproc_tee ${rproc.name}`,
    { rproc, parent: dev, rproc_id: procId, session_id: -1 },
    fn,
    tee.entryAlloc === "devm-rproc-dev" ? dev : null,
  );
  cs.before("tee_client_open_session");
  const arg: OpenSessionArg = {
    uuid: RPROC_TEE_TA_UUID,
    clnt_login: TEE_IOCTL_LOGIN_REE_KERNEL,
    ret: 0,
    session: 0,
  };
  const sret = await k.call("tee", "tee_client_open_session", () =>
    tee_client_open_session(k, ctx.tee_ctx, arg, [{ type: "value-in", a: procId, b: 0 }], fn),
  );
  if (sret < 0 || arg.ret !== 0) {
    cs.before("dev_err");
    k.note("tee", fn, "log", `no session: TA result 0x${(arg.ret >>> 0).toString(16)}`);
    if (tee.entryAlloc === "kzalloc") {
      cs.before("kfree");
      k.kfree(entry, fn);
    }
    modulePut(k, m, tee);
    return -EINVAL;
  }
  entry.data.session_id = arg.session;
  if (tee.deviceLink) {
    cs.before("device_link_add");
    m.core.device_link_add(dev, teeDev, DL_FLAG_AUTOREMOVE_CONSUMER, fn);
  }
  if (tee.entryLookup === "rproc-field") rproc.ext[ITF] = entry;
  cs.before("list_add_tail");
  ctx.sessions.push(entry);
  return 0;
}

function modulePut(k: Kernel, m: ModuleState, tee: TeeFacts): void {
  if (!tee.moduleGet) return;
  m.refcount -= 1;
  k.note("tee", "module_put", "state", `remoteproc_tee refcount ${m.refcount}`);
}

/** models remoteproc_tee.c: rproc_tee_unregister() — closes the rproc's session and drops its entry */
export function rproc_tee_unregister(k: Kernel, _dev: Device, rproc: Rproc): Promise<number> {
  const fn = "rproc_tee_unregister";
  return teeCall(k, fn, 0, async (m, tee) => {
    const cs = new Critical(m, tee, fn);
    cs.before("rproc_to_trproc");
    const trproc = lookupEntry(k, m, tee, rproc, fn);
    if (trproc === null) {
      cs.end();
      // rproc->rproc_tee_itf NULL: -ENODEV; rproc_to_trproc() found nothing: -EINVAL
      return tee.entryLookup === "rproc-field" ? -ENODEV : -EINVAL;
    }
    const ctx = ctxOf(k, m, tee, fn);
    cs.before("tee_client_close_session");
    const ret = await k.call("tee", "tee_client_close_session", () =>
      tee_client_close_session(k, ctx?.tee_ctx ?? null, trproc.data.session_id, fn),
    );
    if (ret < 0) {
      cs.before("dev_err");
      k.note("tee", fn, "log", `closing the session failed: ${ret}`);
    }
    cs.before("list_del");
    k.use(trproc, fn, "list_del");
    if (ctx !== null) ctx.sessions = ctx.sessions.filter((e) => e !== trproc);
    if (tee.entryLookup === "rproc-field") rproc.ext[ITF] = null;
    if (tee.entryAlloc === "kzalloc") {
      cs.before("kfree");
      k.kfree(trproc, fn);
    }
    cs.end();
    modulePut(k, m, tee);
    return ret;
  });
}

// ---------------------------------------------------------------------------------------------------------
// The TEE bus driver

/** models remoteproc_tee.c: rproc_tee_ctx_match() — OP-TEE only */
function rproc_tee_ctx_match(ver: { impl_id: number }): boolean {
  return ver.impl_id === TEE_IMPL_ID_OPTEE;
}

/** models remoteproc_tee.c: rproc_tee_probe() — opens the TEE context and publishes the global context */
export function rproc_tee_probe(k: Kernel, dev: Device): Promise<number> {
  const fn = "rproc_tee_probe";
  return teeCall(k, fn, 0, async (m, tee) => {
    const teeCtx = tee_client_open_context(k, m.teedevs, rproc_tee_ctx_match, fn);
    if (typeof teeCtx === "number") return teeCtx;
    if (tee.ctxStorage === "devm") {
      k.mightSleep("devm_kzalloc", fn);
      m.ctxPtr = k.alloc<RprocTeeContext>(
        "mem",
        "rproc_tee_ctx",
        { sessions: [], tee_ctx: teeCtx, dev },
        fn,
        dev,
      );
      return 0;
    }
    const cs = new Critical(m, tee, fn);
    cs.before("INIT_LIST_HEAD");
    m.staticCtx.dev = dev;
    m.staticCtx.tee_ctx = teeCtx;
    m.staticCtx.sessions = [];
    cs.end();
    return 0;
  });
}

/**
 * models remoteproc_tee.c: rproc_tee_remove() — per facts closes the clients' sessions and kfree's their
 * entries; closes the TEE context; a static context is cleared (a devm one is freed by the driver core after
 * remove, and the global pointer keeps its address).
 */
export function rproc_tee_remove(k: Kernel, _dev: Device): Promise<undefined> {
  const fn = "rproc_tee_remove";
  return teeCall(k, fn, undefined, async (m, tee) => {
    const ctx = ctxOf(k, m, tee, fn);
    if (ctx === null) return undefined;
    const cs = new Critical(m, tee, fn);
    if (tee.removeClosesSessions || tee.removeFreesEntries) {
      for (const entry of [...ctx.sessions]) {
        if (tee.removeClosesSessions) {
          cs.before("tee_client_close_session");
          k.use(entry, fn, "entry->session_id");
          await k.call("tee", "tee_client_close_session", () =>
            tee_client_close_session(k, ctx.tee_ctx, entry.data.session_id, fn),
          );
        }
        cs.before("list_del");
        ctx.sessions = ctx.sessions.filter((e) => e !== entry);
        if (tee.removeFreesEntries) {
          cs.before("kfree");
          k.kfree(entry, fn);
        }
      }
    }
    cs.before("tee_client_close_context");
    await k.call("tee", "tee_client_close_context", async () => {
      await tee_client_close_context(k, ctx.tee_ctx, fn);
      return undefined;
    });
    if (tee.ctxStorage === "static") {
      ctx.dev = null;
      ctx.tee_ctx = null;
    }
    cs.end();
    return undefined;
  });
}

/** rproc_tee_fw_driver: the tee_client_driver matching the TA's UUID on the TEE bus. */
export const rproc_tee_fw_driver: Driver = {
  name: "remoteproc_tee",
  bus: "tee",
  match: staticFn((dev: Device) => dev.name === RPROC_TEE_BUS_DEVICE),
  probe: rproc_tee_probe,
  remove: staticFn(async (k: Kernel, dev: Device) => {
    await rproc_tee_remove(k, dev);
  }),
};

/**
 * models remoteproc_tee.c: rproc_tee_fw_mod_init() — sets up the module's static data for this kernel
 * (`teedevs`: the TEE device drivers, i.e. OP-TEE) and registers the driver on the TEE bus. Nothing to do
 * in a design without a TEE driver.
 */
export async function rproc_tee_fw_mod_init(
  k: Kernel,
  core: DriverCore,
  teedevs: readonly TeeDevice[],
): Promise<number> {
  const tee = teeFacts(k);
  if (tee === null) return 0;
  const lock =
    tee.ctxLock === "spinlock"
      ? new SpinLock(k, "ctx_lock")
      : tee.ctxLock === "mutex"
        ? new Mutex(k, "ctx_lock")
        : null;
  k.modules.set(MODULE, {
    core,
    teedevs,
    staticCtx: { sessions: [], tee_ctx: null, dev: null },
    ctxPtr: null,
    lock,
    refcount: 0,
  });
  return core.driver_register(rproc_tee_fw_driver);
}

/** The module's refcount (try_module_get), for tests and reports. */
export function rproc_tee_module_refcount(k: Kernel): number {
  return moduleOf(k)?.refcount ?? 0;
}

/** The exported functions by C name, for ops tables built from facts.stm32.teeOps. */
export const REMOTEPROC_TEE_FUNCTIONS = {
  rproc_tee_load_fw,
  rproc_tee_parse_fw,
  rproc_tee_find_loaded_rsc_table,
  rproc_tee_start,
  rproc_tee_stop,
  rproc_tee_release_fw,
} as const;
export type RemoteprocTeeFunction = keyof typeof REMOTEPROC_TEE_FUNCTIONS;
