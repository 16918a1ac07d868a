/**
 * The Linux TEE client API (include/linux/tee_drv.h, drivers/tee/tee_core.c, tee_shm.c) as a kernel driver
 * such as remoteproc_tee.c sees it, over the emulator's OP-TEE and its remoteproc TA. Contexts, sessions and
 * registered shared memory are kernel objects with lifetimes ("tee_context", "tee_session", "shm"): using a
 * closed context is a use-after-free event, not an exception. Calls that may sleep say so (mightSleep).
 * A NULL context (a driver that cleared its pointer) is a NULL dereference: a WARN event, and the call fails.
 */
import type { TeeParam, TeeResult, TrustedApplication } from "../emulator/api.ts";
import { EINVAL, ENOENT, ENOMEM, type Kernel, type KObj } from "./kernel.ts";

/** include/uapi/linux/tee.h: TEE_IMPL_ID_OPTEE */
export const TEE_IMPL_ID_OPTEE = 1;
/** include/uapi/linux/tee.h: TEE_IOCTL_LOGIN_REE_KERNEL */
export const TEE_IOCTL_LOGIN_REE_KERNEL = 0x80000000;

/** A TEE device driver (struct tee_device): the OP-TEE driver of the platform and the TA it talks to. */
export interface TeeDevice {
  readonly name: string;
  /** tee_ioctl_version_data::impl_id */
  readonly implId: number;
  readonly ta: TrustedApplication;
}

/** struct tee_ioctl_version_data, as a match function sees it. */
export interface TeeVersionData {
  impl_id: number;
}

export interface TeeContextData {
  teedev: TeeDevice;
  /** Open sessions of this context, by TA session id. */
  sessions: Map<number, KObj<TeeSessionData>>;
}
export type TeeContext = KObj<TeeContextData>;

export interface TeeSessionData {
  id: number;
  procId: number;
}

export interface TeeShmData {
  id: number;
  size: number;
  teedev: TeeDevice;
}
export type TeeShm = KObj<TeeShmData>;

/** struct tee_ioctl_open_session_arg: what the caller sets, and what comes back. */
export interface OpenSessionArg {
  uuid: string;
  clnt_login: number;
  /** Out: the TA's result (0 = success). */
  ret: TeeResult;
  /** Out: the session id. */
  session: number;
}

/** struct tee_ioctl_invoke_arg */
export interface InvokeArg {
  func: number;
  session: number;
  /** Out: the TA's result (0 = success). */
  ret: TeeResult;
}

/**
 * The entry of every client call on a context: reads the context pointer as the callee does (NULL is an oops,
 * a WARN event; a freed context is a use-after-free event) and, past that, the call may sleep. The caller
 * gets null or the (possibly stale) context.
 */
function enterCall(k: Kernel, ctx: TeeContext | null, fn: string, at: string): TeeContextData | null {
  if (k.WARN_ON(ctx === null, at, `${fn}: NULL pointer dereference of the tee_context`)) return null;
  if (ctx === null) return null;
  k.use(ctx, at, `${fn} on tee_context`);
  k.mightSleep(fn, at);
  return ctx.data;
}

/**
 * models drivers/tee/tee_core.c: tee_client_open_context() — the first TEE device whose version data the
 * match function accepts; ERR_PTR(-ENOENT) (a negative number here) when none does.
 */
export function tee_client_open_context(
  k: Kernel,
  devices: readonly TeeDevice[],
  match: (ver: TeeVersionData) => boolean,
  at: string,
): TeeContext | number {
  const teedev = devices.find((d) => match({ impl_id: d.implId }));
  if (teedev === undefined) {
    k.note("tee", "tee_client_open_context", "return", "no TEE device matches: -ENOENT");
    return -ENOENT;
  }
  k.mightSleep("tee_client_open_context", at);
  return k.alloc<TeeContextData>("tee_context", `${teedev.name} ctx`, { teedev, sessions: new Map() }, at);
}

/** models drivers/tee/tee_core.c: tee_client_close_context() — closes sessions left, frees the context */
export async function tee_client_close_context(k: Kernel, ctx: TeeContext | null, at: string): Promise<void> {
  const data = enterCall(k, ctx, "tee_client_close_context", at);
  if (ctx === null || data === null) return;
  for (const [id, sess] of data.sessions) {
    await data.teedev.ta.closeSession(id);
    k.free(sess, "tee_client_close_context");
  }
  data.sessions.clear();
  k.free(ctx, at);
}

/**
 * models drivers/tee/tee_core.c: tee_client_open_session() — returns 0 or a negative errno (transport);
 * arg.ret holds the TA's result and arg.session the session id.
 */
export async function tee_client_open_session(
  k: Kernel,
  ctx: TeeContext | null,
  arg: OpenSessionArg,
  param: TeeParam[],
  at: string,
): Promise<number> {
  const data = enterCall(k, ctx, "tee_client_open_session", at);
  if (data === null) return -EINVAL;
  const p0 = param[0];
  if (arg.clnt_login !== TEE_IOCTL_LOGIN_REE_KERNEL || p0?.type !== "value-in") return -EINVAL;
  const r = await data.teedev.ta.openSession(p0.a);
  arg.ret = r.result;
  arg.session = r.session;
  if (r.ret === 0 && r.result === 0) {
    const sess = k.alloc<TeeSessionData>(
      "tee_session",
      `session ${r.session} (proc ${p0.a})`,
      { id: r.session, procId: p0.a },
      at,
    );
    data.sessions.set(r.session, sess);
  }
  return r.ret;
}

/** models drivers/tee/tee_core.c: tee_client_close_session() — -EINVAL for a session the context lacks */
export async function tee_client_close_session(
  k: Kernel,
  ctx: TeeContext | null,
  session: number,
  at: string,
): Promise<number> {
  const data = enterCall(k, ctx, "tee_client_close_session", at);
  if (data === null) return -EINVAL;
  const sess = data.sessions.get(session);
  if (sess === undefined) return -EINVAL;
  data.sessions.delete(session);
  await data.teedev.ta.closeSession(session);
  k.free(sess, at);
  return 0;
}

/**
 * models drivers/tee/tee_core.c: tee_client_invoke_func() — returns ret < 0 when the call itself fails
 * (transport); arg.ret is the TA's result. `param` is updated with the TA's outputs.
 */
export async function tee_client_invoke_func(
  k: Kernel,
  ctx: TeeContext | null,
  arg: InvokeArg,
  param: TeeParam[],
  at: string,
): Promise<number> {
  const data = enterCall(k, ctx, "tee_client_invoke_func", at);
  if (data === null) return -EINVAL;
  const r = await data.teedev.ta.invoke(arg.session, arg.func, param);
  arg.ret = r.result;
  param.splice(0, param.length, ...r.params);
  return r.ret;
}

/**
 * models drivers/tee/tee_shm.c: tee_shm_register_kernel_buf() — registers the buffer in place (not
 * copied); ERR_PTR (a negative number) on failure.
 */
export function tee_shm_register_kernel_buf(
  k: Kernel,
  ctx: TeeContext | null,
  buf: Uint8Array,
  at: string,
): TeeShm | number {
  const data = enterCall(k, ctx, "tee_shm_register_kernel_buf", at);
  if (data === null) return -ENOMEM;
  const id = data.teedev.ta.registerShm(buf);
  return k.alloc<TeeShmData>(
    "shm",
    `shm ${id} (${buf.length} bytes)`,
    { id, size: buf.length, teedev: data.teedev },
    at,
  );
}

/** models drivers/tee/tee_shm.c: tee_shm_free() */
export function tee_shm_free(k: Kernel, shm: TeeShm, at: string): void {
  if (!shm.freed) shm.data.teedev.ta.freeShm(shm.data.id);
  k.free(shm, at);
}
