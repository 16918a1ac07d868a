import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadInput } from "../../src/node/inputs.ts";
import { mappedSubject } from "../../src/node/versions.ts";
import type { CellResult, MatrixResult } from "../../src/scenarios/result.ts";
import { type Design, describeRan, runMatrix } from "../../src/scenarios/run.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";
import { cellOutcome, mainlineFromTree } from "./helpers.ts";

const TREE = join(SHARED, "kernel", "linux-6.12");
const have =
  sharedAvailable("kernel/linux-6.12/drivers/remoteproc/remoteproc_virtio.c") && sharedAvailable("lkml/v16");

/**
 * Leaks the C attributes to the core's own helpers, which the hand model's core does not have as functions:
 * its allocation is made in (and its leak named after) the caller. The leaked object is the same.
 * - rproc_alloc_firmware, rproc_alloc_ops: rproc_alloc's copies of the firmware name and the ops (the hand
 *   model's rproc_alloc makes the rproc in one allocation);
 * - rproc_virtio_probe: the rproc-virtio device's struct rproc_vdev (devm_kzalloc in its probe), which the
 *   hand model's rproc_handle_vdev allocates itself;
 * - rproc_mem_entry_init, rproc_of_resm_mem_entry_init: a carveout entry the STM32 driver registers in its
 *   prepare op (the hand model's core provides them to the C driver as environment functions, so the
 *   allocation is the driver's stm32_rproc_prepare, which both columns name).
 */
const SAME_LEAK_AS: Readonly<Record<string, string>> = {
  rproc_alloc_firmware: "rproc_alloc",
  rproc_alloc_ops: "rproc_alloc",
  rproc_virtio_probe: "rproc_handle_vdev",
  rproc_mem_entry_init: "stm32_rproc_prepare",
  rproc_of_resm_mem_entry_init: "stm32_rproc_prepare",
};

/** A cell's outcome with each leak's function as the hand model names it, each leaking function once. */
function outcome(c: CellResult) {
  const o = cellOutcome(c);
  const leaks = new Set<string>();
  const rest: string[] = [];
  for (const f of o.findings) {
    const m = /^leak (\S+)$/.exec(f);
    if (m?.[1] === undefined) rest.push(f);
    else leaks.add(`leak ${SAME_LEAK_AS[m[1]] ?? m[1]}`);
  }
  return { ...o, findings: [...rest, ...leaks].sort() };
}

/**
 * 6.12.118's rproc_shutdown stops a crashed rproc (RPROC_CRASHED is among the states it accepts), so
 * stopping after a crash with recovery disabled succeeds and frees everything; the hand model's
 * rproc_shutdown (written for 6.15) refuses a crashed rproc with -EINVAL and the cell ends crashed, with the
 * rproc's allocations leaked at teardown. The commit that added RPROC_CRASHED there was not identified, and
 * 6.15's source is not at hand; but a stable kernel takes fixes from mainline first, so 6.15 most likely has
 * the check too: a bug of the hand model, probably (not fixed here: the hand model's columns would move).
 */
/**
 * A base difference, not a bug of either: linux-6.12.118's rproc_shutdown takes RPROC_CRASHED too (it stops a
 * crashed processor), while v6.15's, which the hand model follows (../shared/spec/linux-remoteproc-core.md
 * §2.8: "CRASHED is refused"), answers -EINVAL. The commit that brought the 6.12.118 check is not identified.
 */
const CRASHED_SHUTDOWN =
  "6.12.118's rproc_shutdown accepts RPROC_CRASHED; v6.15's, which the hand model follows, refuses it (-EINVAL)";

/**
 * v14/v15's patch 3 adds rproc_release_fw() at the end of rproc_shutdown; on 6.12.118 that hunk's context
 * (kfree cached_table, table_ptr = NULL, out:) no longer matches rproc_shutdown, which has
 * `rproc->table_sz = 0;` there (the stable backport of "remoteproc: core: Clear table_sz when
 * rproc_shutdown", efdde3d73ab2 in linux.git), and git apply puts it 98 lines lower, at the identical end of
 * rproc_detach. So the C never calls the TEE driver's release_fw at stop: the TA's RELEASE_FW is missing from
 * every cell that stops a started rproc (the hand model's core releases it, as the series meant).
 */
const HUNK_IN_DETACH =
  "patch 3's rproc_release_fw hunk lands in rproc_detach on 6.12.118 (no RELEASE_FW at stop)";

const RELEASE_AT_STOP = [
  "boot",
  "shutdown",
  "restart",
  "firmware-change",
  "crash-recovery",
  "rproc-unbind-while-running",
  "double-start",
  "multi-firmware",
];

/** The cells where the C and the hand model part, with why. Nothing else may differ. */
const EXPECTED_DIFFERENCES: Record<string, Record<string, string>> = {
  v16: { "crash-recovery-disabled": CRASHED_SHUTDOWN },
  v15: {
    ...Object.fromEntries(RELEASE_AT_STOP.map((s) => [s, HUNK_IN_DETACH])),
    "crash-recovery-disabled": CRASHED_SHUTDOWN,
    "tee-unbind-while-running":
      "the posted C's second list_del of a freed entry faults (tree-two-way.test.ts)",
  },
  v14: {
    ...Object.fromEntries(RELEASE_AT_STOP.map((s) => [s, HUNK_IN_DETACH])),
    "crash-recovery-disabled": CRASHED_SHUTDOWN,
    "tee-unbind-while-running":
      "the posted C's second list_del of a freed entry faults (tree-two-way.test.ts)",
  },
  // v13's header patch fails on 6.12: nothing runs from C, the column is the hand model's.
  v13: {},
};

async function columns(id: string): Promise<{ design: Design; c: MatrixResult; model: MatrixResult }> {
  const series = await loadInput(join(SHARED, "lkml", id));
  const { design } = await mappedSubject(series, join(SHARED, "lkml", id), { kernelTree: TREE });
  const v = builtinVersion(id);
  if (v === undefined) throw new Error(`no built-in ${id}`);
  const c = await runMatrix([design]);
  const model = await runMatrix([
    {
      id: v.id,
      title: v.title,
      facts: v.facts,
      ...(design.teeStubs === undefined ? {} : { teeStubs: design.teeStubs }),
    },
  ]);
  return { design, c, model };
}

const cellOf = (m: MatrixResult, scenario: string): CellResult => {
  const c = m.results.find((r) => r.scenario === scenario);
  if (c === undefined) throw new Error(`no cell ${scenario}`);
  return c;
};

describe.skipIf(!have)(
  "linux-6.12's remoteproc core and virtio from C with the drivers, against the hand model",
  () => {
    const cols = new Map<string, Awaited<ReturnType<typeof columns>>>();
    beforeAll(async () => {
      for (const id of ["v16", "v15", "v14", "v13"]) cols.set(id, await columns(id));
    }, 300_000);
    const column = (id: string) => {
      const col = cols.get(id);
      if (col === undefined) throw new Error(`no column ${id}`);
      return col;
    };

    it("v16 runs the core, virtio, ELF loader, STM32 and TEE drivers from C, in both kernel configs", () => {
      const { design, c } = column("v16");
      expect(describeRan(design.ran)).toBe(
        "core, elf loader, virtio, stm32, remoteproc_tee.c from C; with CONFIG_REMOTEPROC_TEE=n: core, virtio, elf loader, stm32 from C with remoteproc_tee.h's stubs inlined",
      );
      expect(
        design.ran?.find((r) => r.file === "drivers/remoteproc/remoteproc_core.c" && r.config === undefined),
      ).toEqual({
        file: "drivers/remoteproc/remoteproc_core.c",
        from: "C",
        why: "patched by patches 1, 3",
      });
      expect(design.stm32?.core?.what).toBe(
        "drivers/remoteproc/remoteproc_core.c and drivers/remoteproc/remoteproc_virtio.c of the kernel tree, interpreted",
      );
      // The C's own functions ran: the core's helpers, the virtio transport, the rpmsg stand-in's kick.
      const boot = cellOf(c, "boot");
      const called = new Set(boot.trace.filter((s) => s.event === "call").map((s) => s.fn));
      for (const fn of [
        "rproc_alloc_ops",
        "rproc_boot",
        "rproc_fw_boot",
        "rproc_handle_vdev",
        "rproc_virtio_probe",
        "rproc_add_virtio_dev",
        "rp_find_vq",
        "rproc_virtio_notify",
        "stm32_rproc_kick",
      ])
        expect(called).toContain(fn);
      // The config cells run the C core of the CONFIG_REMOTEPROC_TEE=n build too.
      const config = cellOf(c, "rproc-remove@REMOTEPROC_TEE=n");
      expect(config.unknown).toBe(false);
      expect(config.trace.some((s) => s.event === "call" && s.fn === "rproc_alloc_ops")).toBe(true);
    });

    for (const id of ["v16", "v15", "v14", "v13"]) {
      it(`${id}: every cell equals the hand model's but the listed differences`, () => {
        const { c, model } = column(id);
        const expected = EXPECTED_DIFFERENCES[id] ?? {};
        const differing: string[] = [];
        for (const cell of c.results) {
          const m = cellOf(model, cell.scenario);
          if (JSON.stringify(outcome(cell)) !== JSON.stringify(outcome(m))) differing.push(cell.scenario);
          else expect(outcome(cell)).toEqual(outcome(m));
        }
        expect(differing.sort()).toEqual(Object.keys(expected).sort());
      });
    }

    it("the crashed-shutdown difference: the C stops the crashed rproc, the hand model refuses", () => {
      for (const id of ["v16", "v15", "v14"]) {
        const cc = cellOf(column(id).c, "crash-recovery-disabled");
        const mm = cellOf(column(id).model, "crash-recovery-disabled");
        expect([cc.errno, cc.finalState, cc.unknown]).toEqual([0, "offline", false]);
        expect([mm.errno, mm.finalState]).toEqual([-22, "crashed"]);
        expect(cc.tee.at(-1)).toBe(id === "v16" ? "RELEASE_FW" : "STOP_FW");
      }
    });

    it("the misplaced hunk: the cells lack exactly the hand model's RELEASE_FW commands, nothing else", () => {
      for (const id of ["v15", "v14"])
        for (const s of RELEASE_AT_STOP) {
          const cc = outcome(cellOf(column(id).c, s));
          const mm = outcome(cellOf(column(id).model, s));
          expect({ s, ...cc }).toEqual({ s, ...mm, tee: mm.tee.filter((t) => t !== "RELEASE_FW") });
        }
    });
  },
);

/**
 * Mainline: linux-6.12's own core, virtio, ELF loader and STM32 driver (no series) from C, against the hand
 * model of v6.15 without TEE. The only difference is the crashed shutdown above.
 */
describe.skipIf(!have)(
  "mainline: linux-6.12's core, virtio and drivers from C against the hand model",
  () => {
    it("every cell equals the hand model's mainline column but crash-recovery-disabled", async () => {
      const fromC = await mainlineFromTree(TREE, true);
      const c = await runMatrix([fromC]);
      const model = await runMatrix([{ id: "mainline", title: fromC.title, facts: fromC.facts }]);
      const differing = c.results
        .filter(
          (cell) => JSON.stringify(outcome(cell)) !== JSON.stringify(outcome(cellOf(model, cell.scenario))),
        )
        .map((cell) => cell.scenario);
      expect(differing).toEqual(["crash-recovery-disabled"]);
      const cc = cellOf(c, "crash-recovery-disabled");
      expect([cc.errno, cc.finalState, cc.findings]).toEqual([0, "offline", []]);
      // The C core ran (its own helpers, the virtio transport).
      const called = new Set(
        cellOf(c, "boot")
          .trace.filter((s) => s.event === "call")
          .map((s) => s.fn),
      );
      for (const fn of ["rproc_alloc_ops", "rproc_virtio_probe", "rp_find_vq", "stm32_rproc_kick"])
        expect(called).toContain(fn);
    }, 120_000);
  },
);
