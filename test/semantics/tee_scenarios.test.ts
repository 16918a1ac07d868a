/**
 * The TEE versions through the public scenario API (runScenario over the built-in designs): TA command
 * sequences at boot, recovery and shutdown, RELEASE_FW counts on each failure path (series-v13-v16.md §3.5,
 * §4.6, §6.6), and the defects the monitors find (leaks, use-after-free, double-free, swallowed errors,
 * sleeping under a spinlock). Expected values come from the series' analysis, not from running the model.
 */
import { describe, expect, it } from "vitest";
import { loadFixtures, signImage } from "../../src/emulator/api.ts";
import type { CellResult, FindingKind, TaCommandName } from "../../src/scenarios/result.ts";
import { type Design, runScenario } from "../../src/scenarios/run.ts";
import type { Scenario } from "../../src/scenarios/scenarios.ts";
import { DEFAULT_FIRMWARE, type World } from "../../src/scenarios/world.ts";
import { loadVariant } from "../../src/semantics/variant.ts";
import { BUILTIN_VERSIONS, builtinVersion } from "../../src/semantics/versions.ts";

const TEE_VERSIONS = ["v13", "v14", "v15", "v16", "v16-resend"] as const;

function design(id: string): Design {
  const v = builtinVersion(id);
  if (v === undefined) throw new Error(`no built-in ${id}`);
  return v;
}

const kinds = (c: CellResult): FindingKind[] => [...new Set(c.findings.map((f) => f.kind))];
const count = (c: CellResult, cmd: TaCommandName): number => c.tee.filter((x) => x === cmd).length;
/** The commands after the n-th occurrence of `cmd` (1-based). */
function commandsAfter(c: CellResult, cmd: TaCommandName, n: number): TaCommandName[] {
  let seen = 0;
  const i = c.tee.findIndex((x) => x === cmd && ++seen === n);
  return i < 0 ? [] : c.tee.slice(i + 1);
}

/** A scenario of this test: bind, then `arm` fault injection, then start. */
function failingBoot(id: string, arm: (w: World) => void): Scenario {
  return {
    id,
    title: id,
    notApplicable: (facts) => (facts.tee === null ? "no TEE driver" : null),
    async run(w) {
      await w.bindDrivers();
      arm(w);
      await w.start();
    },
  };
}

/** Makes the TA fail the invoke that follows the n-th TA command named `cmd`. */
function failAfterCommand(cmd: string, n: number, kind: "ta" | "transport" = "ta"): (w: World) => void {
  return (w) => {
    let seen = 0;
    w.k.subscribe((e) => {
      if (
        e.type === "emu" &&
        e.e.layer === "ta" &&
        e.e.fn === "invoke" &&
        e.e.cmdName === cmd &&
        ++seen === n
      )
        w.platform.ta.failNext(kind);
    });
  };
}

/** Makes the TA answer an error to the invoke made by the n-th call of the C function `fn`. */
function failInvokeOf(fn: string, n: number): (w: World) => void {
  return (w) => {
    let seen = 0;
    w.k.subscribe((e) => {
      if (e.type === "call" && e.fn === fn && ++seen === n) w.platform.ta.failNext("ta");
    });
  };
}

/**
 * A correctly signed image whose resource table is corrupt: its first entry's offset points past the table,
 * so rproc_handle_resources fails ("rsc table is truncated") after parse_fw succeeded.
 */
async function truncatedTableImage(): Promise<Uint8Array> {
  const fx = await loadFixtures();
  const elf = fx.elf.good.slice();
  // struct resource_table header: ver = 1, num = 2 (trace + vdev), reserved[2] = 0, then offset[0]
  const header = [1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const at = elf.findIndex((_, i) => header.every((b, j) => elf[i + j] === b));
  if (at < 0) throw new Error("fixture ELF without the expected resource table header");
  new DataView(elf.buffer, elf.byteOffset).setUint32(at + 16, 0xfff0, true);
  return signImage({ elfs: [elf], key: fx.keys.rsa });
}

const BOOT_LOAD_IN_PARSE: TaCommandName[] = [
  "LOAD_FW",
  "GET_RSC_TABLE",
  "LOAD_FW",
  "GET_RSC_TABLE",
  "START_FW",
];
const BOOT_LOAD_FW_OP: TaCommandName[] = ["LOAD_FW", "GET_RSC_TABLE", "GET_RSC_TABLE", "START_FW"];
const BOOT: Record<(typeof TEE_VERSIONS)[number], TaCommandName[]> = {
  v13: BOOT_LOAD_IN_PARSE,
  v14: BOOT_LOAD_FW_OP,
  v15: BOOT_LOAD_FW_OP,
  v16: BOOT_LOAD_IN_PARSE,
  "v16-resend": BOOT_LOAD_IN_PARSE,
};

describe("TA command sequences", () => {
  it.each(TEE_VERSIONS)("%s: boot, then shutdown (STOP, RELEASE)", async (id) => {
    const c = await runScenario(design(id), "shutdown");
    expect(c.ok).toBe(true);
    expect(c.finalState).toBe("offline");
    expect(c.tee).toEqual([...BOOT[id], "STOP_FW", "RELEASE_FW"]);
  });

  it.each(TEE_VERSIONS)("%s: crash recovery is STOP, LOAD, GET_RSC, START", async (id) => {
    const c = await runScenario(design(id), "crash-recovery");
    expect(c.ok).toBe(true);
    expect(c.finalState).toBe("running");
    expect(c.tee.slice(0, BOOT[id].length + 4)).toEqual([
      ...BOOT[id],
      "STOP_FW",
      "LOAD_FW",
      "GET_RSC_TABLE",
      "START_FW",
    ]);
  });

  it("mainline sends nothing to the TA", async () => {
    const c = await runScenario(design("mainline"), "crash-recovery");
    expect(c.ok).toBe(true);
    expect(c.tee).toEqual([]);
  });
});

describe("RELEASE_FW on each failure path of the boot", () => {
  // series-v13-v16.md §3.5 (v13), §4.6 (v14 = v15), §6.6 (v16 = RESEND)
  const table: {
    path: string;
    scenario: Scenario | string;
    releases: Record<string, number>;
    log?: string;
  }[] = [
    {
      path: "authentication fails",
      scenario: "boot-bad-signature",
      releases: { v13: 0, v14: 0, v15: 0, v16: 1, "v16-resend": 1 },
    },
    {
      path: "GET_RSC_TABLE fails in parse_fw",
      scenario: failingBoot("get-rsc-fails", failAfterCommand("LOAD_FW", 1)),
      releases: { v13: 1, v14: 2, v15: 2, v16: 2, "v16-resend": 2 },
    },
    {
      path: "no resource table (map of size 0)",
      scenario: "boot-no-resource-table",
      releases: { v13: 1, v14: 2, v15: 2, v16: 2, "v16-resend": 2 },
    },
    {
      path: "handle_resources fails after parse_fw",
      scenario: {
        id: "rsc-table-truncated",
        title: "rsc-table-truncated",
        notApplicable: (facts) => (facts.tee === null ? "no TEE driver" : null),
        async run(w) {
          await w.bindDrivers();
          await w.replaceFirmwareFile(DEFAULT_FIRMWARE, await truncatedTableImage());
          await w.start();
        },
      },
      releases: { v13: 1, v14: 2, v15: 2, v16: 1, "v16-resend": 1 },
      log: "rsc table is truncated",
    },
    {
      path: "the TA refuses START",
      scenario: failingBoot("start-fails", failInvokeOf("rproc_tee_start", 1)),
      releases: { v13: 2, v14: 2, v15: 2, v16: 1, "v16-resend": 1 },
    },
  ];
  for (const row of table) {
    it.each(TEE_VERSIONS)(`${row.path}: %s`, async (id) => {
      const c = await runScenario(design(id), row.scenario);
      expect(c.ok).toBe(false);
      expect(c.errno).toBeLessThan(0);
      expect(c.finalState).toBe("offline");
      expect(count(c, "RELEASE_FW")).toBe(row.releases[id]);
      expect(kinds(c).includes("double-release")).toBe((row.releases[id] ?? 0) > 1);
      if (row.log !== undefined) expect(c.trace.some((s) => s.detail === row.log)).toBe(true);
    });
  }

  it.each([
    ["v13", 1],
    ["v16", 1],
  ] as const)("%s: the second LOAD (ops->load in rproc_start) fails: one RELEASE", async (id, n) => {
    const c = await runScenario(
      design(id),
      failingBoot("second-load-fails", failInvokeOf("rproc_tee_load_fw", 2)),
    );
    expect(c.ok).toBe(false);
    expect(count(c, "RELEASE_FW")).toBe(n);
  });

  it.each([
    ["v13", 0],
    ["v14", 0],
    ["v15", 0],
    ["v16", 1],
  ] as const)("%s: LOAD of a tampered image fails in recovery: %i RELEASE after the crash", async (id, n) => {
    const c = await runScenario(design(id), "crash-recovery-bad-image");
    expect(commandsAfter(c, "STOP_FW", 1)[0]).toBe("LOAD_FW");
    expect(count({ ...c, tee: commandsAfter(c, "STOP_FW", 1) }, "RELEASE_FW")).toBe(n);
  });
});

describe("defects found by the monitors", () => {
  it.each(TEE_VERSIONS)(
    "%s: an authentication failure leaks the firmware buffer only with load_fw before fw_boot",
    async (id) => {
      const c = await runScenario(design(id), "boot-bad-signature");
      const leakedFirmware = c.findings.some((f) => f.kind === "leak" && f.detail.startsWith("firmware"));
      expect(leakedFirmware).toBe(id === "v14" || id === "v15");
    },
  );

  it.each(["v14", "v15"])("%s: a LOAD failure in recovery leaks the firmware buffer too", async (id) => {
    const c = await runScenario(design(id), "crash-recovery-bad-image");
    expect(c.findings.some((f) => f.kind === "leak" && f.detail.startsWith("firmware"))).toBe(true);
  });

  it.each(["v13", "v14", "v15"])(
    "%s: unbinding the TEE driver under a running rproc: use-after-free and double-free",
    async (id) => {
      const c = await runScenario(design(id), "tee-unbind-while-running");
      const uaf = c.findings.filter((f) => f.kind === "use-after-free").map((f) => f.at);
      expect(uaf).toContain("rproc_tee_stop");
      expect(uaf).toContain("rproc_tee_unregister");
      expect(c.findings.some((f) => f.kind === "double-free" && f.detail.startsWith("trproc"))).toBe(true);
    },
  );

  it.each(["v16", "v16-resend"])(
    "%s: unbinding the TEE driver first shuts the rproc down and unregisters it",
    async (id) => {
      const c = await runScenario(design(id), "tee-unbind-while-running");
      expect(c.ok).toBe(true);
      expect(c.finalState).toBe("absent");
      expect(c.tee).toEqual([...BOOT[id as "v16"], "STOP_FW", "RELEASE_FW"]);
      expect(kinds(c)).not.toContain("use-after-free");
      expect(kinds(c)).not.toContain("double-free");
      const calls = c.trace.filter((s) => s.event === "call").map((s) => s.fn);
      const removeAt = calls.indexOf("rproc_tee_remove");
      expect(calls.indexOf("rproc_tee_unregister")).toBeLessThan(removeAt);
      expect(calls.indexOf("rproc_del")).toBeLessThan(removeAt);
    },
  );

  it.each(TEE_VERSIONS)(
    "%s: a failed START invoke is swallowed: start succeeds, the core is not running",
    async (id) => {
      const c = await runScenario(design(id), "tee-start-fails");
      expect(c.ok).toBe(true);
      expect(c.findings.some((f) => f.kind === "error-swallowed" && f.at === "rproc_tee_start")).toBe(true);
      expect(kinds(c)).toContain("state-mismatch");
    },
  );

  it.each(TEE_VERSIONS)("%s: sleeping calls under the context lock", async (id) => {
    const c = await runScenario(design(id), "boot");
    const atomic = c.findings.filter((f) => f.kind === "sleep-in-atomic");
    if (id.startsWith("v16")) {
      expect(atomic.map((f) => f.detail.split(" ")[0])).toEqual(
        expect.arrayContaining(["kzalloc", "tee_client_open_session", "device_link_add"]),
      );
    } else {
      expect(atomic).toEqual([]);
    }
  });

  it.each(TEE_VERSIONS)("%s: a firmware without a resource table fails the boot with -ENOMEM", async (id) => {
    const c = await runScenario(design(id), "boot-no-resource-table");
    expect(c.ok).toBe(false);
    expect(c.errno).toBe(-12);
    expect(c.tee.slice(0, 2)).toEqual(["LOAD_FW", "GET_RSC_TABLE"]);
  });

  it("every built-in TEE version binds the unchanged st,stm32mp1-m4-tee driver to the M33 and boots the multi-image", async () => {
    for (const v of BUILTIN_VERSIONS.filter((x) => x.facts.tee !== null)) {
      const c = await runScenario(v, "multi-firmware");
      expect(c.ok, v.id).toBe(true);
      expect(c.tee.at(-2), v.id).toBe("STOP_FW");
    }
  });
});

describe("variants change behaviour", () => {
  it("v16 with rproc_tee_start propagating the failed invoke fails the start cleanly", async () => {
    const base = await runScenario(design("v16"), "tee-start-fails");
    const v = loadVariant(
      {
        base: "v16",
        set: {
          "tee.invokeErrorResult": {
            ...design("v16").facts.tee?.invokeErrorResult,
            rproc_tee_start: "propagate",
          },
        },
      },
      "v16-start-propagates",
    );
    const c = await runScenario(v, "tee-start-fails");
    expect(base.ok).toBe(true);
    expect(c.ok).toBe(false);
    expect(c.errno).toBe(-5);
    expect(c.finalState).toBe("offline");
    expect(kinds(c)).not.toContain("error-swallowed");
    expect(kinds(c)).not.toContain("state-mismatch");
  });

  it("v16 with RELEASE moved after the cached-table free changes the order of rproc_shutdown", async () => {
    const order = (c: CellResult): string[] =>
      c.trace
        .filter((s) => (s.event === "free" && s.detail.startsWith("cached_table")) || s.fn === "RELEASE_FW")
        .map((s) => (s.fn === "RELEASE_FW" ? "RELEASE_FW" : "kfree(cached_table)"));
    const base = await runScenario(design("v16"), "shutdown");
    const v = loadVariant(
      {
        base: "v16",
        set: {
          "core.releaseFwCalls": [
            "rproc_boot_recovery:after_start_error",
            "rproc_boot:after_fw_boot_error",
            "rproc_shutdown:after_table_free",
          ],
        },
      },
      "v16-release-after-free",
    );
    expect(order(base)).toEqual(["RELEASE_FW", "kfree(cached_table)"]);
    expect(order(await runScenario(v, "shutdown"))).toEqual(["kfree(cached_table)", "RELEASE_FW"]);
  });

  it("v16 with a mutex instead of the spinlock has no sleep-in-atomic", async () => {
    const v = loadVariant({ base: "v16", set: { "tee.ctxLock": "mutex" } }, "v16-mutex");
    const c = await runScenario(v, "boot");
    expect(c.ok).toBe(true);
    expect(kinds(c)).not.toContain("sleep-in-atomic");
  });

  it("v14 whose load_fw failure unwinds does not leak the firmware buffer", async () => {
    const v = loadVariant(
      {
        base: "v14",
        set: {
          "core.loadFwCalls": [
            { site: "rproc_boot_recovery:before_start", onError: "unwind" },
            { site: "rproc_boot:before_fw_boot", onError: "unwind" },
          ],
        },
      },
      "v14-unwinds",
    );
    const c = await runScenario(v, "boot-bad-signature");
    expect(c.findings.some((f) => f.kind === "leak" && f.detail.startsWith("firmware"))).toBe(false);
  });
});
