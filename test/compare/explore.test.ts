/** The review's exploration part on real designs: what v16 raises alone, and what it no longer raises. */
import { beforeAll, describe, expect, it } from "vitest";
import { compareExplorations } from "../../src/compare/explore.ts";
import { type Fixtures, loadFixtures } from "../../src/emulator/api.ts";
import { BUILTIN_VERSIONS, MAINLINE } from "../../src/semantics/versions.ts";

let fx: Fixtures;
beforeAll(async () => {
  fx = await loadFixtures();
});

const design = (id: string) => {
  const v = BUILTIN_VERSIONS.find((x) => x.id === id);
  if (v === undefined) throw new Error(`no built-in ${id}`);
  return { id: v.id, facts: v.facts };
};
const mainline = { id: "mainline", facts: MAINLINE };
const keyed = (fs: { kind: string; at: string; events: string[] }[]) =>
  fs.map((f) => `${f.kind} ${f.at} @ ${f.events.join(",")}`);

describe("compareExplorations", () => {
  it("v15 → v16 at depth 3: the unbind bugs are gone, the spinlock sleeps and a second RELEASE_FW are new", async () => {
    const x = await compareExplorations(design("v15"), design("v16"), mainline, fx, 3);
    expect(x.depth).toBe(3);
    expect(keyed(x.fixed)).toEqual(
      expect.arrayContaining([
        "use-after-free rproc_tee_unregister @ tee-unbind",
        "use-after-free rproc_tee_stop @ start,tee-unbind",
        "leak request_firmware @ image-tamper,start",
      ]),
    );
    expect(keyed(x.introduced)).toEqual(
      expect.arrayContaining([
        "sleep-in-atomic rproc_tee_register @ ",
        "double-release tee_client_invoke_func @ image-tamper,start,start",
      ]),
    );
    const release = x.introduced.find((f) => f.kind === "double-release");
    expect(release?.mainline).toBe("inexpressible");
    expect(release?.replay).toBe("rproc-review replay --version v16 --events image-tamper,start,start");
    expect(x.fixed.find((f) => f.at === "rproc_tee_stop")?.replay).toBe(
      "rproc-review replay --version v15 --events start,tee-unbind",
    );
    expect(x.a.states).toBeGreaterThan(0);
    expect(x.kept).toBeGreaterThanOrEqual(0);
  });

  it("the same code on both sides raises nothing on one side only", async () => {
    const x = await compareExplorations(design("v16"), design("v16-resend"), mainline, fx, 2);
    expect(x.introduced).toEqual([]);
    expect(x.fixed).toEqual([]);
    expect(x.a.states).toBe(x.b.states);
    expect(x.kept).toBe(x.b.findings);
  });
});
