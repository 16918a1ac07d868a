import { Readable } from "node:stream";
import { vi } from "vitest";
import { main } from "../../src/cli/main.ts";

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs the CLI in-process as `rproc-review <args>`, capturing stdout and stderr; `stdin` feeds standard input.
 * process.exitCode is reset before and after, so one run's exit code never leaks into the next.
 */
export async function runCli(args: readonly string[], stdin?: Uint8Array): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    err.push(String(s));
    return true;
  });
  const i = stdin
    ? vi
        .spyOn(process, "stdin", "get")
        .mockReturnValue(Readable.from([stdin]) as unknown as typeof process.stdin)
    : null;
  process.exitCode = undefined;
  try {
    const code = await main(["node", "rproc-review", ...args]);
    return { code, out: out.join(""), err: err.join("") };
  } finally {
    o.mockRestore();
    e.mockRestore();
    i?.mockRestore();
    process.exitCode = undefined;
  }
}
