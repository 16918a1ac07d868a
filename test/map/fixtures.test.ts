import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { FACT_PATHS } from "../../src/semantics/facts.ts";
import type { MapResult } from "../../src/semantics/map/index.ts";
import { MAINLINE } from "../../src/semantics/versions.ts";
import { editFile, renderMbox, replaceIn, TEE_C, teeSeries, unrelatedSeries } from "../fixtures/map/build.ts";
import { changedFacts, mapFixture } from "./helpers.ts";

const CORE = "drivers/remoteproc/remoteproc_core.c";
const TEE = "drivers/remoteproc/remoteproc_tee.c";
const STM32 = "drivers/remoteproc/stm32_rproc.c";

/** 1-based line of the fixture's remoteproc_tee.c that contains `text` (the file is added whole by patch 2). */
const lineOf = (text: string): number => TEE_C.split("\n").findIndex((l) => l.includes(text)) + 1;

let base: MapResult;
beforeAll(async () => {
  base = await mapFixture(teeSeries());
});

describe("the fixture series", () => {
  it("is the committed mbox (the CLI tests read the file)", () => {
    const committed = readFileSync(new URL("../fixtures/map/tee-series.mbox", import.meta.url), "utf8");
    expect(renderMbox(teeSeries())).toBe(committed);
    const unrelated = readFileSync(new URL("../fixtures/map/unrelated.mbox", import.meta.url), "utf8");
    expect(renderMbox(unrelatedSeries())).toBe(unrelated);
  });

  it("derives the core, TEE and STM32 facts from the diff", () => {
    expect(base.facts.core).toEqual({
      ...MAINLINE.core,
      releaseFwOp: true,
      paToVa: true,
      releaseFwCalls: ["rproc_boot:after_fw_boot_error", "rproc_shutdown:before_table_free"],
    });
    expect(base.facts.tee).toEqual({
      parseFwLoads: true,
      parseFwReleasesOnError: true,
      zeroSizeTable: "map-fails",
      invokeErrorResult: {
        rproc_tee_load_fw: "propagate",
        rproc_tee_parse_fw: "propagate",
        rproc_tee_find_loaded_rsc_table: "propagate",
        rproc_tee_start: "swallow",
        rproc_tee_stop: "propagate",
        rproc_tee_release_fw: "propagate",
      },
      releaseSkipsDetached: true,
      releaseOnlyWhenOffline: true,
      // parse_fw has no check of its own: the one of rproc_tee_load_fw, which it calls, is load_fw's
      presenceChecks: ["rproc_tee_load_fw", "rproc_tee_find_loaded_rsc_table", "rproc_tee_release_fw"],
      ctxStorage: "static",
      ctxLock: "spinlock",
      lockedCalls: {
        rproc_tee_probe: ["INIT_LIST_HEAD"],
        rproc_tee_remove: [],
        rproc_tee_register: [
          "kzalloc",
          "export_uuid",
          "to_tee_client_device",
          "tee_client_open_session",
          "kfree",
          "device_link_add",
          "tee_client_close_session",
          "list_add",
        ],
        // the early `spin_unlock; return` branch does not end the locked region for list_del
        rproc_tee_unregister: ["fx_find", "list_del"],
      },
      entryAlloc: "kzalloc",
      entryLookup: "list-walk",
      deviceLink: true,
      moduleGet: false,
      removeClosesSessions: false,
      removeFreesEntries: false,
      rscTableBits: "low32",
    });
    expect(base.facts.stm32).toEqual({
      teeCompatible: "st,stm32mp1-m4-tee",
      teeOps: {
        prepare: "stm32_rproc_prepare",
        start: "rproc_tee_start",
        stop: "stm32_rproc_tee_stop",
        kick: "stm32_rproc_kick",
        load: "rproc_tee_load_fw",
        parse_fw: "rproc_tee_parse_fw",
        find_loaded_rsc_table: "rproc_tee_find_loaded_rsc_table",
        release_fw: "rproc_tee_release_fw",
      },
      procIdProperty: "st,proc-id",
      procIdRequired: true,
      parseDtRequiresMcuReset: true,
      bindingForbidsForTee: ["resets"],
      bindingRequiresForTee: ["st,proc-id"],
      teeStopSteps: ["stm32_rproc_request_shutdown", "rproc_tee_stop", "stm32_rproc_release"],
      teeUnregisterOnRemove: "always",
    });
  });

  it("gives evidence with the post-patch line of each hunk, and baseline for untouched facts", () => {
    expect(base.evidence["core.releaseFwCalls"]).toContainEqual({
      patch: 1,
      subject: "remoteproc: add a release_fw operation and rproc_pa_to_va()",
      file: CORE,
      function: "rproc_shutdown",
      line: 2090,
    });
    expect(base.evidence["core.releaseFwCalls"]).toContainEqual(
      expect.objectContaining({ file: CORE, function: "rproc_boot", line: 2014 }),
    );
    expect(base.evidence["tee.deviceLink"]).toEqual([
      expect.objectContaining({
        patch: 2,
        file: TEE,
        function: "rproc_tee_register",
        line: lineOf("device_link_add("),
      }),
    ]);
    expect(base.status["core.loadSegmentsOp"]).toBe("baseline");
    expect(base.evidence["core.loadSegmentsOp"]).toBeUndefined();
    expect(FACT_PATHS.filter((p) => base.status[p] === "unknown")).toEqual([]);
    expect(
      FACT_PATHS.filter((p) => base.status[p] === "set" && (base.evidence[p] ?? []).length === 0),
    ).toEqual([]);
  });

  it("lists what no fact explains, and files the model does not cover", () => {
    expect(base.unmodelled.map((u) => [u.file, u.function])).toEqual([
      [TEE, "fx_match"],
      [TEE, "fx_ids"],
      [TEE, null],
    ]);
    expect(base.outOfScope).toEqual([{ file: "drivers/remoteproc/Kconfig", patches: [2] }]);
  });
});

describe("generated edits change exactly the facts they should", () => {
  it("a call removed", async () => {
    const edited = await mapFixture(
      editFile(teeSeries(), CORE, (lines) =>
        lines.filter((l) => l !== "+\t\tif (ret)" && l !== "+\t\t\trproc_release_fw(rproc);"),
      ),
    );
    expect(changedFacts(base, edited)).toEqual(["core.releaseFwCalls"]);
    expect(edited.facts.core.releaseFwCalls).toEqual(["rproc_shutdown:before_table_free"]);
  });

  it("a call moved after the table is freed", async () => {
    const edited = await mapFixture(
      editFile(teeSeries(), CORE, (lines) => {
        if (!lines.includes("+\trproc_release_fw(rproc);")) return lines;
        const rest = lines.filter((l) => l !== "+\trproc_release_fw(rproc);" && l !== "+");
        return [...rest, "+\trproc_release_fw(rproc);"];
      }),
    );
    expect(changedFacts(base, edited)).toEqual(["core.releaseFwCalls"]);
    expect(edited.facts.core.releaseFwCalls).toEqual([
      "rproc_boot:after_fw_boot_error",
      "rproc_shutdown:after_table_free",
    ]);
  });

  it("an op dropped from the ops table", async () => {
    const edited = await mapFixture(
      editFile(teeSeries(), STM32, (lines) =>
        lines.filter((l) => !l.includes(".release_fw = rproc_tee_release_fw")),
      ),
    );
    expect(changedFacts(base, edited)).toEqual(["stm32.teeOps"]);
    expect(edited.facts.stm32.teeOps?.release_fw).toBeUndefined();
  });

  it("the spinlock changed for a mutex", async () => {
    let fx = replaceIn(teeSeries(), TEE, /\bspin_lock\(/g, "mutex_lock(");
    fx = replaceIn(fx, TEE, /\bspin_unlock\(/g, "mutex_unlock(");
    fx = replaceIn(fx, TEE, /DEFINE_SPINLOCK/, "DEFINE_MUTEX");
    const edited = await mapFixture(fx);
    expect(changedFacts(base, edited)).toEqual(["tee.ctxLock"]);
    expect(edited.facts.tee?.ctxLock).toBe("mutex");
  });

  it("variables renamed: nothing changes", async () => {
    let fx = replaceIn(teeSeries(), TEE, /\be\b/g, "ent");
    fx = replaceIn(fx, TEE, /\berr\b/g, "rc");
    fx = replaceIn(fx, TEE, /(?<![.>])\bret\b/g, "status");
    fx = replaceIn(fx, TEE, /\bsize\b/g, "tbl_len");
    fx = replaceIn(fx, TEE, /\bfx_ctx\b/g, "loader");
    fx = replaceIn(fx, TEE, /\bfx_context\b/g, "fx_state");
    fx = replaceIn(fx, TEE, /\brproc_tee_(probe|remove)\b/g, "fx_$1");
    const edited = await mapFixture(fx);
    expect(changedFacts(base, edited)).toEqual([]);
    expect(edited.status).toEqual(base.status);
  });

  it("the result variable renamed in the core: nothing changes", async () => {
    const edited = await mapFixture(replaceIn(teeSeries(), CORE, /\bret\b/g, "rc"));
    expect(changedFacts(base, edited)).toEqual([]);
    expect(edited.status).toEqual(base.status);
  });

  it("v6.15's table_sz reset deleted from rproc_shutdown", async () => {
    const edited = await mapFixture(
      editFile(teeSeries(), CORE, (lines) =>
        lines.includes(" \trproc->table_ptr = NULL;") ? [...lines, "-\trproc->table_sz = 0;"] : lines,
      ),
    );
    expect(changedFacts(base, edited)).toEqual(["core.shutdownClearsTableSz"]);
    expect(edited.facts.core.shutdownClearsTableSz).toBe(false);
    expect(edited.evidence["core.shutdownClearsTableSz"]).toEqual([
      expect.objectContaining({ patch: 1, function: "rproc_shutdown" }),
    ]);
  });

  it("a change no fact explains is listed as unmodelled, where it is", async () => {
    const edited = await mapFixture(
      editFile(teeSeries(), CORE, (lines) =>
        lines.flatMap((l) =>
          l === " \t\trelease_firmware(fw);" ? ['+\t\tdev_info(dev, "booted\\n");', l] : [l],
        ),
      ),
    );
    expect(changedFacts(base, edited)).toEqual([]);
    const added = edited.unmodelled.filter((u) => u.file === CORE);
    expect(added).toEqual([
      expect.objectContaining({ patch: 1, function: "rproc_boot", summary: '+ dev_info(dev, "booted\\n");' }),
    ]);
  });

  it("a comment-only edit: nothing changes, nothing new is unmodelled", async () => {
    const comment = (lines: string[]): string[] =>
      lines.flatMap((l) =>
        /^\+\s*(?:if|return|rproc_release_fw)\b/.test(l.replace(/^\+\t+/, "+"))
          ? [`+\t/* note: ${l.length} */`, l]
          : [l],
      );
    let fx = editFile(teeSeries(), TEE, comment);
    fx = editFile(fx, CORE, comment);
    fx = editFile(fx, STM32, comment);
    const edited = await mapFixture(fx);
    expect(changedFacts(base, edited)).toEqual([]);
    expect(edited.status).toEqual(base.status);
    expect(edited.unmodelled.map((u) => u.summary)).toEqual(base.unmodelled.map((u) => u.summary));
  });

  it("a presence check removed", async () => {
    const edited = await mapFixture(
      editFile(teeSeries(), TEE, (lines) => {
        const at = lines.indexOf("+\tif (!fx_ctx.tdev)");
        return at < 0 ? lines : [...lines.slice(0, at), ...lines.slice(at + 2)];
      }),
    );
    expect(changedFacts(base, edited)).toEqual(["tee.presenceChecks"]);
    expect(edited.facts.tee?.presenceChecks).toEqual([
      "rproc_tee_find_loaded_rsc_table",
      "rproc_tee_release_fw",
    ]);
  });

  it("rproc_tee_unregister guarded by the compatible", async () => {
    const edited = await mapFixture(
      editFile(teeSeries(), STM32, (lines) =>
        lines.flatMap((l) =>
          l === "+\trproc_tee_unregister(dev, rproc);"
            ? [
                '+\tif (of_device_is_compatible(pdev->dev.of_node, "st,stm32mp1-m4-tee"))',
                "+\t\trproc_tee_unregister(dev, rproc);",
              ]
            : [l],
        ),
      ),
    );
    expect(changedFacts(base, edited)).toEqual(["stm32.teeUnregisterOnRemove"]);
    expect(edited.facts.stm32.teeUnregisterOnRemove).toBe("tee-only");
  });

  it.each([
    '+\tif (!of_device_is_compatible(pdev->dev.of_node, "st,stm32mp1-m4-tee"))',
    '+\tif (of_device_is_compatible(pdev->dev.of_node, "st,stm32mp1-m4-tee") && rproc->state != RPROC_OFFLINE)',
  ])(
    "rproc_tee_unregister under another guard than the compatible (%s): unknown, not tee-only",
    async (guard) => {
      const edited = await mapFixture(
        editFile(teeSeries(), STM32, (lines) =>
          lines.flatMap((l) =>
            l === "+\trproc_tee_unregister(dev, rproc);"
              ? [guard, "+\t\trproc_tee_unregister(dev, rproc);"]
              : [l],
          ),
        ),
      );
      expect(edited.status["stm32.teeUnregisterOnRemove"]).toBe("unknown");
    },
  );

  it("a hunk that starts in the previous function places the call by the C parse of its text", async () => {
    const fx = teeSeries();
    const core = fx.patches[0]?.files[2];
    if (core === undefined) throw new Error("fixture shape");
    core.hunks[2] = {
      oldStart: 2062,
      section: "static void rproc_crash_handler_work(struct work_struct *work)",
      lines: [
        " \tmutex_unlock(&rproc->lock);",
        " }",
        " ",
        " int rproc_shutdown(struct rproc *rproc)",
        " {",
        " \trproc_disable_iommu(rproc);",
        "+\trproc_release_fw(rproc);",
        " \tkfree(rproc->cached_table);",
      ],
    };
    const edited = await mapFixture(fx);
    expect(changedFacts(base, edited)).toEqual([]);
    expect(edited.evidence["core.releaseFwCalls"]).toContainEqual(
      expect.objectContaining({ function: "rproc_shutdown", line: 2086 }),
    );
  });

  it("a later patch of the same series edits the added file: the final file is read, the evidence names it", async () => {
    const fx = teeSeries();
    const rows = TEE_C.split("\n");
    const hunks = rows.flatMap((text, i) =>
      /\bspin_(?:un)?lock\(/.test(text)
        ? [{ oldStart: i + 1, section: "", lines: [`-${text}`, `+${text.replace("spin_", "mutex_")}`] }]
        : [],
    );
    fx.patches.push({
      title: "remoteproc: tee: sleep under the context lock",
      body: "The critical sections call functions that may sleep.",
      files: [{ path: TEE, hunks }],
    });
    const edited = await mapFixture(fx);
    expect(changedFacts(base, edited)).toEqual(["tee.ctxLock"]);
    expect(edited.evidence["tee.ctxLock"]).toContainEqual(
      expect.objectContaining({
        patch: 4,
        file: TEE,
        function: "rproc_tee_register",
        line: lineOf("spin_lock("),
      }),
    );
  });

  it("a load_fw op called before rproc_fw_boot, unwinding on error", async () => {
    let fx = editFile(teeSeries(), "include/linux/remoteproc.h", (lines) =>
      lines.flatMap((l) =>
        l.startsWith("+\tvoid (*release_fw)")
          ? ["+\tint (*load_fw)(struct rproc *rproc, const struct firmware *fw);", l]
          : [l],
      ),
    );
    fx = editFile(fx, "drivers/remoteproc/remoteproc_internal.h", (lines) =>
      lines.flatMap((l) =>
        l === " #endif /* REMOTEPROC_INTERNAL_H */"
          ? [
              "+static inline int rproc_load_fw(struct rproc *rproc, const struct firmware *fw)",
              "+{",
              "+\treturn rproc->ops->load_fw ? rproc->ops->load_fw(rproc, fw) : 0;",
              "+}",
              "+",
              l,
            ]
          : [l],
      ),
    );
    fx = editFile(fx, CORE, (lines) =>
      lines.flatMap((l) =>
        l === " \t\tret = rproc_fw_boot(rproc, fw);"
          ? [
              "+\t\tret = rproc_load_fw(rproc, fw);",
              "+\t\tif (ret) {",
              "+\t\t\trelease_firmware(fw);",
              "+\t\t\tgoto downref_rproc;",
              "+\t\t}",
              l,
            ]
          : [l],
      ),
    );
    const edited = await mapFixture(fx);
    expect(changedFacts(base, edited)).toEqual(["core.loadFwOp", "core.loadFwCalls"]);
    expect(edited.facts.core.loadFwCalls).toEqual([{ site: "rproc_boot:before_fw_boot", onError: "unwind" }]);
    expect(edited.evidence["core.loadFwCalls"]).toContainEqual(
      expect.objectContaining({ patch: 1, file: CORE, function: "rproc_boot" }),
    );
  });

  it("the binding left alone, or changed in a way the rules cannot read", async () => {
    const BINDING = "Documentation/devicetree/bindings/remoteproc/st,stm32-rproc.yaml";
    const alone = teeSeries();
    const p3 = alone.patches[2];
    if (p3) p3.files = p3.files.filter((f) => f.path !== BINDING);
    const untouched = await mapFixture(alone);
    expect(changedFacts(base, untouched)).toEqual([
      "stm32.bindingForbidsForTee",
      "stm32.bindingRequiresForTee",
    ]);
    expect(untouched.status["stm32.bindingForbidsForTee"]).toBe("baseline");

    const flat = await mapFixture(replaceIn(teeSeries(), BINDING, /^\+( *)then:$/, "+$1when:"));
    expect(flat.status["stm32.bindingForbidsForTee"]).toBe("unknown");
    expect(flat.status["stm32.bindingRequiresForTee"]).toBe("unknown");
  });

  it("a call the rules cannot place is unknown, not guessed", async () => {
    const fx = teeSeries();
    fx.patches[0]?.files[2]?.hunks.push({
      oldStart: 2400,
      section: "int rproc_add(struct rproc *rproc)",
      lines: [" \tret = rproc_add_virtio_devices(rproc);", "+\trproc_release_fw(rproc);", " \tif (ret < 0)"],
    });
    const edited = await mapFixture(fx);
    expect(edited.status["core.releaseFwCalls"]).toBe("unknown");
    expect(edited.evidence["core.releaseFwCalls"]).toContainEqual(
      expect.objectContaining({ function: "rproc_add" }),
    );
    expect(edited.facts.core.releaseFwCalls).toEqual(base.facts.core.releaseFwCalls);
  });
});

describe("changes in other files the model covers", () => {
  it("are unmodelled, not out of scope", async () => {
    const fx = teeSeries();
    fx.patches[0]?.files.push({
      path: "drivers/remoteproc/remoteproc_elf_loader.c",
      hunks: [
        {
          oldStart: 300,
          section: "int rproc_elf_load_segments(struct rproc *rproc, const struct firmware *fw)",
          lines: [" \t\tif (!ptr) {", "-\t\t\tret = -EINVAL;", "+\t\t\tret = -ENOMEM;", " \t\t\tbreak;"],
        },
      ],
    });
    const edited = await mapFixture(fx);
    expect(changedFacts(base, edited)).toEqual([]);
    expect(edited.outOfScope).toEqual(base.outOfScope);
    expect(edited.unmodelled.filter((u) => u.file.endsWith("remoteproc_elf_loader.c"))).toEqual([
      expect.objectContaining({ patch: 1, function: "rproc_elf_load_segments", summary: "+ ret = -ENOMEM;" }),
      expect.objectContaining({ patch: 1, function: "rproc_elf_load_segments", summary: "- ret = -EINVAL;" }),
    ]);
  });
});

describe("an unrelated remoteproc series", () => {
  it("is out of scope, with every fact at baseline", async () => {
    const r = await mapFixture(unrelatedSeries());
    expect(r.facts).toEqual(MAINLINE);
    expect(FACT_PATHS.every((p) => r.status[p] === "baseline")).toBe(true);
    expect(r.evidence).toEqual({});
    expect(r.unmodelled).toEqual([]);
    expect(r.outOfScope).toEqual([{ file: "drivers/remoteproc/imx_rproc.c", patches: [1] }]);
  });
});
