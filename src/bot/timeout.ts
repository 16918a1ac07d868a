/**
 * Time limits on what the service waits for: a fetch that gives up after a timeout (GitHub, the list feed,
 * the list archive), and the error it throws. Workers-safe: fetch, AbortController and timers only.
 */

/** How long one outbound request may take, answer body included, unless configured otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** A request that got no complete answer in time. */
export class RequestTimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/** Statuses whose answer has no body (a Response built with one throws). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** What the service fetches with: a URL and options (octokit, the poller). */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

function describe(url: string, init: RequestInit | undefined): string {
  // No query string: it may carry a token.
  return `${(init?.method ?? "GET").toUpperCase()} ${url.replace(/[?#].*$/, "")}`;
}

/**
 * `base` with a time limit per request that covers the answer's body (read whole before it is returned),
 * also aborted when `signal` (the job's, or the service's shutdown) is. A request past the limit rejects with
 * RequestTimeoutError; one aborted by `signal` rejects with the signal's reason.
 */
export function timedFetch(
  timeoutMs: number,
  signal?: AbortSignal,
  base: FetchLike = (url, init) => fetch(url, init),
): FetchLike {
  return async (input, init) => {
    const controller = new AbortController();
    const outer = [signal, init?.signal ?? undefined].filter((s): s is AbortSignal => s !== undefined);
    const onAbort = (e: Event) => controller.abort((e.target as AbortSignal).reason);
    for (const s of outer) {
      if (s.aborted) controller.abort(s.reason);
      else s.addEventListener("abort", onAbort, { once: true });
    }
    const timer = setTimeout(
      () =>
        controller.abort(
          new RequestTimeoutError(`no complete answer to ${describe(input, init)} within ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    try {
      controller.signal.throwIfAborted();
      const res = await base(input, { ...init, signal: controller.signal });
      const body = NULL_BODY.has(res.status) ? null : await res.arrayBuffer();
      const copy = new Response(body, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
      Object.defineProperty(copy, "url", { value: res.url });
      return copy;
    } catch (e) {
      if (!controller.signal.aborted) throw e;
      const reason: unknown = controller.signal.reason;
      if (reason instanceof RequestTimeoutError) throw reason;
      // Aborted from outside (the job's deadline, a shutdown): an AbortError, which octokit's retry plugin
      // does not retry; the reason is its cause.
      throw abortError(reason);
    } finally {
      clearTimeout(timer);
      for (const s of outer) s.removeEventListener("abort", onAbort);
    }
  };
}

/** An error named AbortError saying why, with `reason` as its cause. */
export function abortError(reason: unknown): Error {
  const e = new Error(reason instanceof Error ? reason.message : String(reason ?? "aborted"), {
    cause: reason,
  });
  e.name = "AbortError";
  return e;
}

/** A promise that rejects with the signal's reason once it is aborted (never settles otherwise). */
export function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
