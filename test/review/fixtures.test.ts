/**
 * Honest verdicts on postings nobody modelled (fixture series written for these tests): a glue driver moved
 * into a new file, TEE constructs no rule reads, a new boot path in the core. Each must give `unknown` cells
 * that classify nothing and a review that says first what it could not review, never a pass or "fixed".
 */
import { describe, expect, it } from "vitest";
import { cParser } from "../../src/node/c-parser.ts";
import { builtinSubject, type ReviewReport, runReview, seriesSubject } from "../../src/review/index.ts";
import { FACT_PATHS } from "../../src/semantics/facts.ts";
import { mapSeries } from "../../src/semantics/map/index.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";
import { editFile, type FxSeries, replaceIn, teeSeries } from "../fixtures/map/build.ts";
import { seriesOf } from "../map/helpers.ts";

const TEE = "drivers/remoteproc/remoteproc_tee.c";
const GLUE = "drivers/remoteproc/stm32_rproc_tee.c";

async function subject(fx: FxSeries, label: string) {
  const series = await seriesOf(fx);
  const mapped = mapSeries(series, await cParser());
  return { mapped, subject: seriesSubject(series, mapped, label, label) };
}

async function review(a: FxSeries | "mainline", b: FxSeries): Promise<ReviewReport> {
  const sa =
    a === "mainline"
      ? builtinSubject(builtinVersion("mainline") ?? (undefined as never))
      : (await subject(a, "fixture-v2")).subject;
  const sb = (await subject(b, "fixture-v3")).subject;
  return (await runReview(sa, sb, { exploreDepth: 0 })).report;
}

const v3 = (fx: FxSeries): FxSeries => ({ ...fx, version: 3 });

/** The STM32 TEE glue as a new file of its own: an rproc_ops table, a compatible, rproc_tee_register(). */
function withGlueFile(): FxSeries {
  const fx = v3(teeSeries());
  const glue = [
    "// SPDX-License-Identifier: GPL-2.0",
    "#include <linux/remoteproc.h>",
    "#include <linux/remoteproc_tee.h>",
    "",
    "static const struct rproc_ops fx_glue_ops = {",
    "\t.start = rproc_tee_start,",
    "\t.stop = rproc_tee_stop,",
    "};",
    "",
    "static int fx_glue_probe(struct platform_device *pdev)",
    "{",
    '\tstruct rproc *rproc = devm_rproc_alloc(&pdev->dev, "m4", &fx_glue_ops, NULL, 0);',
    "",
    "\tif (!rproc)",
    "\t\treturn -ENOMEM;",
    "\treturn rproc_tee_register(&pdev->dev, rproc, 0);",
    "}",
    "",
    "static const struct of_device_id fx_glue_match[] = {",
    '\t{ .compatible = "st,stm32mp1-m4-tee" },',
    "\t{},",
    "};",
  ];
  fx.patches.push({
    title: "remoteproc: stm32: move the TEE glue into its own driver",
    body: "The TEE variant gets a driver of its own.",
    files: [
      { path: GLUE, added: true, hunks: [{ oldStart: 0, section: "", lines: glue.map((l) => `+${l}`) }] },
    ],
  });
  return fx;
}

/** Every scenario that is not unknown is one neither side could run (not applicable on both sides). */
function expectKnownOnlyWhereNotApplicable(r: ReviewReport): void {
  for (const s of r.diff.scenarios.filter((x) => x.status !== "unknown"))
    expect({ scenario: s.scenario, a: s.a?.applicable, b: s.b?.applicable }).toEqual({
      scenario: s.scenario,
      a: false,
      b: false,
    });
}

function expectHonest(r: ReviewReport): void {
  const unknown = r.diff.scenarios.filter((s) => s.status === "unknown");
  expect(unknown.length).toBeGreaterThan(0);
  // Unknown is contagious: an unknown scenario fixes and introduces nothing.
  for (const s of unknown) expect(s.findings).toEqual([]);
  expect(r.verdict.status).not.toBe("pass");
  expect(r.verdict.cannotReview).not.toBeNull();
  expect(r.verdict.line.startsWith(`${r.a.id} → ${r.b.id}: cannot review ${unknown.length} of `)).toBe(true);
}

/** expectHonest, and `scenario` unknown on B's side because of `what` (a fact or a changed function). */
function expectUnknownOn(r: ReviewReport, scenario: string, what: string): void {
  expectHonest(r);
  const s = r.diff.scenarios.find((x) => x.scenario === scenario);
  expect(s?.status).toBe("unknown");
  expect(s?.unknownBecause).toContainEqual(expect.objectContaining({ side: "b", what }));
}

describe("a glue driver in a new file, outside the modelled files", () => {
  it("makes the STM32 facts unknown, naming the file and the symbols", async () => {
    const { mapped } = await subject(withGlueFile(), "glue");
    const stm32 = FACT_PATHS.filter((p) => p.startsWith("stm32."));
    for (const p of stm32) {
      expect(mapped.status[p], p).toBe("unknown");
      expect(mapped.unknownWhy[p]?.files).toContain(GLUE);
    }
    expect(mapped.unknownWhy["stm32.teeOps"]?.why).toMatch(/rproc_ops table/);
    expect(mapped.unknownWhy["stm32.teeOps"]?.why).toMatch(/compatible "st,stm32mp1-m4-tee"/);
    expect(mapped.evidence["stm32.teeOps"]).toContainEqual(expect.objectContaining({ file: GLUE }));
  });

  it("is reviewed as neutral with the reason first, and nothing is fixed", async () => {
    const r = await review(teeSeries(), withGlueFile());
    expectHonest(r);
    expect(r.verdict.status).toBe("warn");
    expect(r.verdict.cannotReview?.files).toContain(GLUE);
    expect(r.verdict.cannotReview?.line).toMatch(/outside the modelled files/);
    expect(r.diff.counts.fixed).toBe(0);
  });

  it("leaves the facts alone when a file outside the model only renames an op of another driver", async () => {
    const fx = v3(teeSeries());
    fx.patches.push({
      title: "remoteproc: other: follow the op rename",
      body: "Another driver follows the rename.",
      files: [
        {
          path: "drivers/remoteproc/other_rproc.c",
          hunks: [
            {
              oldStart: 40,
              section: "static const struct rproc_ops other_ops = {",
              lines: [
                " \t.start = other_start,",
                "-\t.load = rproc_elf_load_segments,",
                "+\t.load_segments = rproc_elf_load_segments,",
                " };",
              ],
            },
          ],
        },
      ],
    });
    const { mapped } = await subject(fx, "rename");
    expect(FACT_PATHS.filter((p) => mapped.status[p] === "unknown")).toEqual([]);
  });
});

describe("TEE constructs no rule reads", () => {
  it("two unreadable constructs: no fixed finding in any unknown cell", async () => {
    // A second kind of lock around the context, and the TA's resource-table command under another name.
    let fx = replaceIn(
      v3(teeSeries()),
      TEE,
      /\bspin_lock\(&fx_lock\);\n(\te = fx_find)/,
      "mutex_lock(&fx_lock);\n$1",
    );
    fx = replaceIn(fx, TEE, /TA_FX_CMD_GET_RSC/g, "FX_RSC_TABLE_REQUEST");
    const { mapped } = await subject(fx, "unread");
    const unknown = FACT_PATHS.filter((p) => mapped.status[p] === "unknown");
    expect(unknown.length).toBeGreaterThanOrEqual(1);
    const r = await review(teeSeries(), fx);
    expectHonest(r);
    for (const s of r.diff.scenarios.filter((x) => x.status === "unknown"))
      expect(s.findings.some((f) => f.class === "fixed")).toBe(false);
  });
});

describe("a change to a core function the model folds into its callers (no step of its own)", () => {
  it("is unknown in every cell that ran the core, naming the function", async () => {
    const fx = v3(teeSeries());
    // rproc_alloc_vring() runs inside the model's rproc_handle_vdev/rproc_vdev_do_start: no trace step names it.
    fx.patches[0]?.files[2]?.hunks.splice(1, 0, {
      oldStart: 380,
      section: "int rproc_alloc_vring(struct rproc_vdev *rvdev, int i)",
      lines: [
        " 	rvring = &rvdev->vring[i];",
        "-	size = PAGE_ALIGN(vring_size(rvring->num, rvring->align));",
        "+	size = vring_size(rvring->num, rvring->align);",
        " 	rsc = (void *)rproc->table_ptr + rvdev->rsc_offset;",
      ],
    });
    const { mapped } = await subject(fx, "folded");
    expect(mapped.unmodelledInBase).toContainEqual(
      expect.objectContaining({
        function: "rproc_alloc_vring",
        file: "drivers/remoteproc/remoteproc_core.c",
      }),
    );
    const r = await review(teeSeries(), fx);
    expectUnknownOn(r, "boot", "rproc_alloc_vring()");
    const boot = r.diff.scenarios.find((x) => x.scenario === "boot");
    expect(boot?.unknownBecause?.find((u) => u.what === "rproc_alloc_vring()")?.why).toMatch(
      /the model folds it into the code of drivers\/remoteproc\/remoteproc_core\.c this cell ran \(it has no step of its own\)/,
    );
  });
});

describe("a boot path added in the core", () => {
  it("is unknown wherever rproc_boot runs, never mainline's result", async () => {
    const fx = v3(teeSeries());
    fx.patches[0]?.files[2]?.hunks.splice(1, 0, {
      oldStart: 1980,
      section: "int rproc_boot(struct rproc *rproc)",
      lines: [
        " \tif (rproc->state == RPROC_DELETED) {",
        "+\tif (rproc->tee_boot)",
        "+\t\treturn rproc_tee_boot(rproc);",
        " \t\tret = -ENODEV;",
      ],
    });
    const { mapped } = await subject(fx, "boot-path");
    expect(mapped.unmodelledInBase).toContainEqual(
      expect.objectContaining({ function: "rproc_boot", file: "drivers/remoteproc/remoteproc_core.c" }),
    );
    const r = await review("mainline", fx);
    expectUnknownOn(r, "boot", "rproc_boot()");
    expect(r.diff.counts.same).toBe(0);
  });
});

describe("a change to a data table of a modelled file (the STM32 driver's ops table)", () => {
  /** One patch adding an op to st_rproc_ops: data, never called, read by every op call of the driver. */
  const opsSeries = (): FxSeries => ({
    version: 2,
    title: "remoteproc: stm32: a detach op",
    cover: "The M4 can be left running.",
    patches: [
      {
        title: "remoteproc: stm32: add the detach op",
        body: "Lets the coprocessor run on when Linux lets go of it.",
        files: [
          {
            path: "drivers/remoteproc/stm32_rproc.c",
            hunks: [
              {
                oldStart: 640,
                section: "static const struct rproc_ops st_rproc_ops = {",
                lines: [
                  " \t.start\t\t= stm32_rproc_start,",
                  "+\t.detach\t\t= stm32_fx_detach,",
                  " \t.stop\t\t= stm32_rproc_stop,",
                ],
              },
            ],
          },
        ],
      },
    ],
  });

  it("is marked data by the mapper, and every cell that runs the driver is unknown naming the table", async () => {
    const { mapped } = await subject(opsSeries(), "ops");
    expect(mapped.unmodelledInBase).toContainEqual(
      expect.objectContaining({
        function: "st_rproc_ops",
        file: "drivers/remoteproc/stm32_rproc.c",
        data: true,
      }),
    );
    const r = await review("mainline", opsSeries());
    expectUnknownOn(r, "boot", "st_rproc_ops");
    // The cells that stay known are those in which the driver never ran.
    expectKnownOnlyWhereNotApplicable(r);
  });
});

describe("a change to remoteproc_sysfs.c, whose store functions the scenarios' sysfs writes stand for", () => {
  /** One patch making a sysfs "stop" do nothing: remoteproc_sysfs.c never runs from C, the world calls the core. */
  const sysfsSeries = (section: string): FxSeries => ({
    version: 2,
    title: "remoteproc: sysfs: keep it running",
    cover: "A stop request is ignored.",
    patches: [
      {
        title: "remoteproc: sysfs: ignore stop",
        body: "Userspace may no longer stop the coprocessor.",
        files: [
          {
            path: "drivers/remoteproc/remoteproc_sysfs.c",
            hunks: [
              {
                oldStart: 197,
                section,
                lines: [
                  " \t} else if (fx_asks_stop(buf)) {",
                  "-\t\tret = fx_stop_now(rproc);",
                  "+\t\tret = 0;",
                  " \t} else if (fx_asks_other(buf)) {",
                ],
              },
            ],
          },
        ],
      },
    ],
  });

  it("is in the mapper's unmodelled changes, not out of scope, and every cell writing state is unknown naming state_store()", async () => {
    const fx = sysfsSeries("static ssize_t state_store(struct device *dev,");
    const { mapped } = await subject(fx, "sysfs");
    expect(mapped.outOfScope.map((o) => o.file)).not.toContain("drivers/remoteproc/remoteproc_sysfs.c");
    expect(mapped.unmodelledInBase).toContainEqual(
      expect.objectContaining({ function: "state_store", file: "drivers/remoteproc/remoteproc_sysfs.c" }),
    );
    const r = await review("mainline", fx);
    expectUnknownOn(r, "shutdown", "state_store()");
    // The cells that stay known are those with no sysfs write.
    expectKnownOnlyWhereNotApplicable(r);
  });

  it("without the hunk's function named, any sysfs write may run the line: still unknown, naming file and line", async () => {
    const r = await review("mainline", sysfsSeries(""));
    expectHonest(r);
    const shutdown = r.diff.scenarios.find((s) => s.scenario === "shutdown");
    expect(shutdown?.unknownBecause).toContainEqual(
      expect.objectContaining({ side: "b", what: "drivers/remoteproc/remoteproc_sysfs.c:198" }),
    );
  });
});

describe("a change to a kernel file the hand model mirrors (the TEE client API of drivers/tee/tee_core.c)", () => {
  it("makes every cell that calls the changed function unknown, naming it", async () => {
    const fx = v3(teeSeries());
    fx.patches.push({
      title: "tee: retry an interrupted invoke",
      body: "An invoke interrupted by a signal is sent again.",
      files: [
        {
          path: "drivers/tee/tee_core.c",
          hunks: [
            {
              oldStart: 1240,
              section: "int tee_client_invoke_func(struct tee_context *ctx,",
              lines: [
                " \tif (!fx_may_invoke(ctx))",
                " \t\treturn -EINVAL;",
                "-\treturn fx_invoke_once(ctx, arg, param);",
                "+\treturn fx_invoke_retrying(ctx, arg, param);",
              ],
            },
          ],
        },
      ],
    });
    const { mapped } = await subject(fx, "tee-core");
    expect(mapped.outOfScope.map((o) => o.file)).not.toContain("drivers/tee/tee_core.c");
    const r = await review(teeSeries(), fx);
    expectUnknownOn(r, "boot", "tee_client_invoke_func()");
  });
});

describe("a change to a kernel file the environment stands for (the mailbox controller, the list helpers)", () => {
  /** v3 of the TEE series with one more patch changing `path` (a hunk of invented lines in `section`). */
  const withEnvChange = (path: string, section: string): FxSeries => {
    const fx = v3(teeSeries());
    fx.patches.push({
      title: "mailbox: stm32: stop ringing the doorbell",
      body: "The coprocessor is told nothing.",
      files: [
        {
          path,
          hunks: [
            {
              oldStart: 150,
              section,
              lines: [
                " \tstruct fx_chan *c = fx_chan_of(link);",
                "-\tfx_ring(c);",
                "+\t/* nothing */",
                " \treturn 0;",
              ],
            },
          ],
        },
      ],
    });
    return fx;
  };

  it("is not out of scope: every cell that ran is unknown, naming the file's function and the subsystem", async () => {
    const fx = withEnvChange(
      "drivers/mailbox/stm32-ipcc.c",
      "static int fx_send_data(struct mbox_chan *link, void *data)",
    );
    const { mapped } = await subject(fx, "ipcc");
    expect(mapped.outOfScope.map((o) => o.file)).not.toContain("drivers/mailbox/stm32-ipcc.c");
    const r = await review(teeSeries(), fx);
    expectHonest(r);
    const boot = r.diff.scenarios.find((s) => s.scenario === "boot");
    expect(boot?.status).toBe("unknown");
    const why = boot?.unknownBecause.find((u) => u.side === "b" && u.what === "fx_send_data()");
    expect(why?.why).toMatch(/never runs: the environment's model of the mailbox framework/);
    expectKnownOnlyWhereNotApplicable(r);
  });

  it("a header whose place the environment's own headers take counts the same, even without the function named", async () => {
    const r = await review(teeSeries(), withEnvChange("include/linux/list.h", ""));
    expectHonest(r);
    const boot = r.diff.scenarios.find((s) => s.scenario === "boot");
    expect(boot?.unknownBecause).toContainEqual(
      expect.objectContaining({ side: "b", what: "include/linux/list.h:151" }),
    );
    expectKnownOnlyWhereNotApplicable(r);
  });

  it("a file of another platform's driver stays out of scope and changes no cell", async () => {
    const fx = withEnvChange(
      "drivers/remoteproc/fx_other_rproc.c",
      "static int fx_send_data(struct mbox_chan *link, void *data)",
    );
    const { mapped } = await subject(fx, "other");
    expect(mapped.outOfScope.map((o) => o.file)).toContain("drivers/remoteproc/fx_other_rproc.c");
    const unknowns = (r: ReviewReport) =>
      r.diff.scenarios.filter((s) => s.status === "unknown").map((s) => [s.scenario, s.unknownBecause]);
    const r = await review(teeSeries(), fx);
    // The report says the file is not reviewed, and nothing else about it.
    expect(r.notReviewed).toEqual(["drivers/remoteproc/Kconfig", "drivers/remoteproc/fx_other_rproc.c"]);
    expect(r.notes.join("\n")).toMatch(/no scenario runs .*: drivers\/remoteproc\/fx_other_rproc\.c$/m);
    // The series' Kconfig entry is never read: said as a build file.
    expect(r.notes.join("\n")).toMatch(
      /fixture-v3 changes a build file nothing reads \(the scenarios choose their own config\): drivers\/remoteproc\/Kconfig$/m,
    );
    // The same cells are unknown (the fixture's config cells, which read no stubs) as without the patch.
    expect(unknowns(r)).toEqual(unknowns(await review(teeSeries(), v3(teeSeries()))));
  });
});

describe("a posted rproc_pa_to_va() that answers differently from the model's walk", () => {
  it("leaves core.paToVa unknown where the core runs from the model, saying where the two part", async () => {
    const fx = replaceIn(
      v3(teeSeries()),
      "drivers/remoteproc/remoteproc_core.c",
      /return c->va \+ \(pa - c->dma\);/,
      "return c->va;",
    );
    const { mapped } = await subject(fx, "pa");
    expect(mapped.status["core.paToVa"]).toBe("unknown");
    expect(mapped.unknownWhy["core.paToVa"]?.why).toMatch(
      /not the model's walk of the carveouts: at pa 0x10000001, len 0x0 it returns carveout 0 \+ 0x0/,
    );
    const r = await review(teeSeries(), fx);
    expectUnknownOn(r, "boot", "core.paToVa");
    // The unchanged series' own body is the model's walk: known there.
    expect((await subject(teeSeries(), "pa-base")).mapped.status["core.paToVa"]).toBe("set");
  });
});

describe("a TEE stop function whose control flow is not the model's sequence of steps", () => {
  const STM32 = "drivers/remoteproc/stm32_rproc.c";
  const RET = /return ret \? ret : stm32_rproc_release\(rproc\);/;

  it("leaves stm32.teeStopSteps unknown, naming the line, where the STM32 driver runs from the model", async () => {
    // The error of rproc_tee_stop() no longer stops the release: the same calls, another flow.
    const fx = replaceIn(v3(teeSeries()), STM32, RET, "return stm32_rproc_release(rproc);");
    const { mapped } = await subject(fx, "stop");
    expect(mapped.status["stm32.teeStopSteps"]).toBe("unknown");
    expect(mapped.unknownWhy["stm32.teeStopSteps"]?.why).toMatch(
      /stm32_rproc_tee_stop\(\) is not the sequence of steps the model runs .*: line \d+: ret = rproc_tee_stop\(rproc\); \(not followed by if \(ret\) return ret;\)/,
    );
    const r = await review(teeSeries(), fx);
    expectUnknownOn(r, "shutdown", "stm32.teeStopSteps");
  });

  it("reads the same steps written as a checked call with a log before the return", async () => {
    const fx = editFile(v3(teeSeries()), STM32, (lines) =>
      lines.flatMap((l) =>
        RET.test(l)
          ? [
              "+\tif (ret) {",
              '+\t\tdev_err(&rproc->dev, "stop: %d\\n", ret);',
              "+\t\treturn ret;",
              "+\t}",
              "+\treturn stm32_rproc_release(rproc);",
            ]
          : [l],
      ),
    );
    const { mapped } = await subject(fx, "stop-logged");
    expect(mapped.status["stm32.teeStopSteps"]).toBe("set");
    expect(mapped.facts.stm32.teeStopSteps).toEqual([
      "stm32_rproc_request_shutdown",
      "rproc_tee_stop",
      "stm32_rproc_release",
    ]);
  });
});

describe("a probe branch for the TEE compatible that is not the model's", () => {
  const STM32 = "drivers/remoteproc/stm32_rproc.c";
  // What the mapper says of the probe's changes it cannot explain.
  const why = (m: Awaited<ReturnType<typeof subject>>["mapped"]) =>
    (m.unmodelledInBase ?? [])
      .filter((u) => u.function === "stm32_rproc_probe" && u.file === STM32)
      .map((u) => `line ${u.line}: ${u.summary}`)
      .join("\n");
  const DEPARTS = "the probe's branch for st,stm32mp1-m4-tee departs from the model's here";

  it("leaves the probe a change no fact describes, at the posted line, when rproc_tee_register()'s error no longer fails it", async () => {
    // The same calls; the error of rproc_tee_register() is only logged.
    const fx = editFile(v3(teeSeries()), STM32, (lines) => {
      const at = lines.findIndex((l) => /rproc_tee_register\(dev, rproc, id\);/.test(l));
      return [...lines.slice(0, at + 1), '+\t\tdev_dbg(dev, "tee: %d\\n", ret);', ...lines.slice(at + 3)];
    });
    const { mapped } = await subject(fx, "register");
    // The compatible itself is read: the world's device tree uses it, whether the probe runs from C or not.
    expect(mapped.status["stm32.teeCompatible"]).toBe("set");
    expect(why(mapped)).toMatch(
      new RegExp(
        `line \\d+: \\+ ret = rproc_tee_register\\(dev, rproc, id\\); \\(${DEPARTS}: the branch ends here, where the model then runs if \\(ret\\) return ret;\\)`,
      ),
    );
    const r = await review(teeSeries(), fx);
    expectUnknownOn(r, "boot", "stm32_rproc_probe()");
  });

  it("names the line of a register call given another proc id, or an other branch allocating another table", async () => {
    const id = replaceIn(
      v3(teeSeries()),
      STM32,
      /rproc_tee_register\(dev, rproc, id\);/,
      "rproc_tee_register(dev, rproc, 0);",
    );
    expect(why((await subject(id, "id")).mapped)).toContain(
      `+ ret = rproc_tee_register(dev, rproc, 0); (${DEPARTS}: where the model runs ret = rproc_tee_register(dev, rproc, id);)`,
    );
    const other = editFile(v3(teeSeries()), STM32, (lines) => {
      const at = lines.findIndex((l) => /^\+\t\} else \{$/.test(l));
      return lines.map((l, i) => (i === at + 1 ? l.replace("&st_rproc_ops", "&st_rproc_tee_ops") : l));
    });
    expect(why((await subject(other, "other")).mapped)).toContain(
      `+ rproc = devm_rproc_alloc(dev, np->name, &st_rproc_tee_ops, NULL, sizeof(*ddata)); (${DEPARTS}: the other compatibles are not allocated with st_rproc_ops as the model does)`,
    );
    // Comments, logs and declarations in the branch are not departures.
    const logged = editFile(v3(teeSeries()), STM32, (lines) =>
      lines.flatMap((l) =>
        /^\+\t\tif \(ret\)$/.test(l) ? ["+\t\t/* checked */", '+\t\tdev_dbg(dev, "ret\\n");', l] : [l],
      ),
    );
    expect(why((await subject(logged, "logged")).mapped)).toBe("");
    expect(why((await subject(v3(teeSeries()), "base")).mapped)).toBe("");
  });
});

describe("rproc_tee_unregister() called elsewhere than where the model calls it", () => {
  const STM32 = "drivers/remoteproc/stm32_rproc.c";

  it("stays a change of stm32_rproc_remove no fact describes, when other statements follow it", async () => {
    // Unregistered before the wakeup teardown, no longer last.
    const fx = editFile(v3(teeSeries()), STM32, (lines) => {
      const at = lines.indexOf("+\trproc_tee_unregister(dev, rproc);");
      if (at < 2) return lines;
      return [
        ...lines.slice(0, at - 2),
        lines[at] as string,
        ...lines.slice(at - 2, at),
        ...lines.slice(at + 1),
      ];
    });
    const { mapped } = await subject(fx, "unregister");
    const remove = (mapped.unmodelledInBase ?? []).filter((u) => u.function === "stm32_rproc_remove");
    expect(remove.map((u) => u.summary)).toEqual([
      "+ rproc_tee_unregister(dev, rproc); (the model unregisters last in stm32_rproc_remove(), after rproc_del(), and this call is followed by other statements)",
    ]);
    const r = await review(teeSeries(), fx);
    expectHonest(r);
    const unbind = r.diff.scenarios.filter((s) =>
      s.unknownBecause?.some((u) => u.side === "b" && u.what === "stm32_rproc_remove()"),
    );
    expect(unbind.length).toBeGreaterThan(0);
    // Where it is last, nothing is said of it.
    const base = (await subject(v3(teeSeries()), "base")).mapped;
    expect((base.unmodelledInBase ?? []).filter((u) => u.function === "stm32_rproc_remove")).toEqual([]);
  });
});

describe("a TEE ops table naming functions the model has or lacks", () => {
  const STM32 = "drivers/remoteproc/stm32_rproc.c";

  it("leaves stm32.teeOps unknown, naming the op, for a function the model has no code for (no crash)", async () => {
    const fx = replaceIn(v3(teeSeries()), STM32, /\.start = rproc_tee_start,/, ".start = rproc_tee_boot,");
    const { mapped } = await subject(fx, "ops");
    expect(mapped.status["stm32.teeOps"]).toBe("unknown");
    expect(mapped.unknownWhy["stm32.teeOps"]?.why).toBe(
      "st_rproc_tee_ops names .start = rproc_tee_boot, a function the model has no code for",
    );
    expect(mapped.facts.stm32.teeOps?.start).toBeUndefined();
    const r = await review(teeSeries(), fx);
    expectHonest(r);
    const boot = r.diff.scenarios.find((s) => s.scenario === "boot");
    expect(boot?.unknownBecause).toContainEqual(expect.objectContaining({ side: "b", what: "stm32.teeOps" }));
  });

  it("runs a stop function of another name as the steps read from its body", async () => {
    const renamed = replaceIn(v3(teeSeries()), STM32, /stm32_rproc_tee_stop/g, "stm32_rproc_secure_stop");
    const { mapped } = await subject(renamed, "renamed");
    expect(mapped.status["stm32.teeOps"]).toBe("set");
    expect(mapped.facts.stm32.teeOps?.stop).toBe("stm32_rproc_secure_stop");
    // Every cell as the unchanged series' own (its cells on the kernel without the TEE driver included).
    const statuses = async (fx: FxSeries) =>
      (await review(v3(teeSeries()), fx)).diff.scenarios.map((s) => `${s.scenario} ${s.status}`);
    const same = await statuses(v3(teeSeries()));
    expect(same.filter((s) => s.endsWith(" same")).length).toBeGreaterThan(10);
    expect(await statuses(renamed)).toEqual(same);
  });
});

describe("a wrapper of rproc_ops->release_fw whose body is not the model's", () => {
  it("leaves core.releaseFwCalls unknown, quoting the body, where the core runs from the model", async () => {
    const fx = replaceIn(
      v3(teeSeries()),
      "drivers/remoteproc/remoteproc_internal.h",
      /if \(release\)$/m,
      "if (release && rproc->state == RPROC_RUNNING)",
    );
    const { mapped } = await subject(fx, "wrapper");
    expect(mapped.status["core.releaseFwCalls"]).toBe("unknown");
    expect(mapped.unknownWhy["core.releaseFwCalls"]?.why).toMatch(
      /^rproc_release_fw\(\) is not the wrapper the model runs \(ops->release_fw when the op is set\): its body is \{ .*if \(release && rproc->state == RPROC_RUNNING\) release\(rproc\); \}$/,
    );
    const r = await review(teeSeries(), fx);
    expectHonest(r);
    const bad = r.diff.scenarios.find((s) => s.scenario === "boot-bad-signature");
    expect(bad?.unknownBecause).toContainEqual(
      expect.objectContaining({ side: "b", what: "core.releaseFwCalls" }),
    );
    // The unchanged wrapper (through a local function pointer) is the model's.
    expect((await subject(v3(teeSeries()), "base")).mapped.status["core.releaseFwCalls"]).toBe("set");
  });
});

describe("a second compatible the series adds to the STM32 match table", () => {
  it("stays a change of stm32_rproc_match no fact describes: the probe branches on the other one only", async () => {
    const fx = editFile(v3(teeSeries()), "drivers/remoteproc/stm32_rproc.c", (lines) =>
      lines.flatMap((l) =>
        l.includes('{ .compatible = "st,stm32mp1-m4-tee" }')
          ? [l, '+\t{ .compatible = "st,stm32mp2-m33-tee" },']
          : [l],
      ),
    );
    const { mapped } = await subject(fx, "m33");
    expect(mapped.facts.stm32.teeCompatible).toBe("st,stm32mp1-m4-tee");
    expect(mapped.unmodelledInBase).toContainEqual(
      expect.objectContaining({
        function: "stm32_rproc_match",
        summary: '+ { .compatible = "st,stm32mp2-m33-tee" },',
      }),
    );
    expectUnknownOn(await review(teeSeries(), fx), "boot", "stm32_rproc_match");
  });
});
