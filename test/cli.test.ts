import { describe, expect, it, vi } from "vitest";
import { main } from "../src/cli/main.ts";
import { InputError, UsageError } from "../src/errors.ts";

describe("CLI skeleton", () => {
  it("exits 0 on --help and --version", async () => {
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await main(["node", "rproc-review", "--help"])).toBe(0);
      expect(await main(["node", "rproc-review", "--version"])).toBe(0);
      expect(out.mock.calls.map((c) => String(c[0])).join("")).toMatch(/Usage: rproc-review/);
    } finally {
      out.mockRestore();
    }
  });

  it("exits 2 on an unknown argument", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["node", "rproc-review", "no-such-command"])).toBe(2);
    } finally {
      err.mockRestore();
    }
  });

  it("maps the error family to exit codes and one-line messages", () => {
    const usage = new UsageError("unknown version id 'v99'", { subject: "--versions" });
    const input = new InputError("bad magic 0x00000000 at offset 0\n(expected 0x3543a468)", {
      subject: "fw.sig",
    });
    expect(usage.exitCode).toBe(2);
    expect(input.exitCode).toBe(3);
    expect(usage.oneLine()).toBe("--versions: unknown version id 'v99'");
    expect(input.oneLine()).toBe("fw.sig: bad magic 0x00000000 at offset 0 (expected 0x3543a468)");
  });
});
