/**
 * State an environment module keeps per kernel (one KernelEnv per world): made on first use, gone with the
 * world.
 */
import type { KernelEnv } from "./kernel.ts";

/** The accessor of a module's per-kernel state, made by `init` the first time a kernel asks. */
export function perKernel<T>(init: () => T): (env: KernelEnv) => T {
  const states = new WeakMap<KernelEnv, T>();
  return (env) => {
    let s = states.get(env);
    if (s === undefined) {
      s = init();
      states.set(env, s);
    }
    return s;
  };
}
