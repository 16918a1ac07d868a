import { type ChildProcess, spawn } from "node:child_process";

export interface Spawned {
  child: ChildProcess;
  /** What it printed so far. */
  stdout: () => string;
  stderr: () => string;
  /** Its exit code, or the signal that ended it. */
  exit: Promise<NodeJS.Signals | number | null>;
}

/** `node <args>` as a process with its output collected; only PATH (and what `env` adds) in its environment. */
export function spawnNode(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Spawned {
  const child = spawn(process.execPath, args, {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: { PATH: process.env.PATH ?? "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString("utf8");
  });
  const exit = new Promise<NodeJS.Signals | number | null>((resolve) => {
    child.on("error", () => resolve(null));
    child.on("close", (code, signal) => resolve(signal ?? code));
  });
  return { child, stdout: () => out, stderr: () => err, exit };
}
