/**
 * The interleaving side of explore and replay: `explore --interleave --versions <input>` searches the
 * schedules of the kernel threads that run the platform driver an input creates; `replay <input> --schedule
 * t1,t2,…` runs one of them and prints its trace with the thread of every step.
 */
import { UsageError } from "../../errors.ts";
import type { ThreadWorld } from "../../explore/interleave.ts";
import { printError, printJson, printText } from "../output.ts";

export interface WorldCliOptions {
  writers?: string;
  unbind?: boolean;
  dt?: string;
  /** With --kernel-tree: the watchdog fires on its own thread once the driver is bound. */
  crash?: boolean;
  /** With --kernel-tree: the interleaving scenarios to run (comma-separated ids). */
  scenario?: string;
  /** The kernel tree whose drivers run from C on the hand model's kernel threads. */
  kernelTree?: string;
  /** With --scenario: run an input with the hand model, as review --model-only did. */
  modelOnly?: boolean;
}

const WRITERS = ["start", "stop"] as const;

/** A replayed schedule whose entry `invalidAt` named a thread that could not run there is a usage error. */
function scheduleRan(
  x: { invalidAt: number | null; threads: readonly { id: number; name: string }[] },
  schedule: readonly number[],
  formatSchedule: (s: readonly number[]) => string,
): void {
  if (x.invalidAt === null) return;
  const names = x.threads.map((t) => `t${t.id} ${t.name}`).join(", ");
  throw new UsageError(
    `schedule entry ${x.invalidAt + 1} (t${schedule[x.invalidAt]}) cannot run at that choice point of ${formatSchedule(schedule)} (threads: ${names})`,
    { subject: "--schedule" },
  );
}

/** The world of the threaded environment from the command line (default: st,auto-boot, nobody else). */
export async function worldFrom(opts: WorldCliOptions): Promise<ThreadWorld> {
  const { DEFAULT_WORLD } = await import("../../explore/interleave.ts");
  const writers: ("start" | "stop")[] = [];
  for (const w of (opts.writers ?? "").split(",").map((x) => x.trim())) {
    if (w === "") continue;
    if (!(WRITERS as readonly string[]).includes(w))
      throw new UsageError(`unknown sysfs writer "${w}" (known: ${WRITERS.join(", ")})`, {
        subject: "--writers",
      });
    writers.push(w as "start" | "stop");
  }
  const dtProps =
    opts.dt === undefined
      ? DEFAULT_WORLD.dtProps
      : opts.dt
          .split(",")
          .map((x) => x.trim())
          .filter((x) => x !== "");
  return { ...DEFAULT_WORLD, dtProps, writers, unbind: opts.unbind === true };
}

/** The world's options, as a replay command repeats them. */
function worldArgs(opts: WorldCliOptions): string {
  const parts: string[] = [];
  if (opts.dt !== undefined) parts.push(`--dt ${opts.dt === "" ? '""' : opts.dt}`);
  if (opts.writers !== undefined && opts.writers !== "") parts.push(`--writers ${opts.writers}`);
  if (opts.unbind) parts.push("--unbind");
  return parts.join(" ");
}

export async function interleaveExplore(
  inputs: readonly string[],
  opts: WorldCliOptions & { depth: number; audit?: boolean; json?: boolean; reduce?: boolean },
): Promise<void> {
  if (inputs.length === 0)
    throw new UsageError("--interleave needs --versions <input>", { subject: "--versions" });
  const { exploreInterleavings, renderInterleaveText } = await import("../../explore/interleave.ts");
  const { threadedDriverOf } = await import("../../node/interleave-input.ts");
  const world = await worldFrom(opts);
  const out = [];
  const texts: string[] = [];
  for (const spec of inputs) {
    const driver = await threadedDriverOf(spec);
    for (const p of driver.problems) printError(`note: ${p.file}:${p.line}: ${p.what}\n`);
    const r = exploreInterleavings(driver, world, {
      depth: opts.depth,
      ...(opts.audit ? { audit: true } : {}),
      ...(opts.reduce === false ? { reduce: false } : {}),
    });
    const args = worldArgs(opts);
    out.push({ input: spec, ...r });
    texts.push(renderInterleaveText(r, `${spec}${args === "" ? "" : ` ${args}`}`));
  }
  if (opts.json)
    printJson({ depth: opts.depth, world: { ...world, firmware: Object.keys(world.firmware) }, inputs: out });
  else printText(`${texts.join("\n\n")}\n`);
}

export async function interleaveReplay(
  spec: string,
  scheduleText: string,
  opts: WorldCliOptions & { json?: boolean },
): Promise<void> {
  const { parseSchedule, renderScheduleReplay, runSchedule, formatSchedule } = await import(
    "../../explore/interleave.ts"
  );
  const { threadedDriverOf } = await import("../../node/interleave-input.ts");
  const schedule = parseSchedule(scheduleText);
  const driver = await threadedDriverOf(spec);
  const x = runSchedule(driver, await worldFrom(opts), schedule);
  scheduleRan(x, schedule, formatSchedule);
  if (opts.json)
    printJson({
      input: spec,
      schedule: x.schedule,
      threads: x.threads,
      findings: x.findings,
      trace: x.trace,
      unknown: x.unknown,
    });
  else printText(`${spec}: ${renderScheduleReplay(x)}\n`);
}

// ---- a kernel tree's drivers on the hand model's kernel threads (src/explore/kernel-interleave.ts) ---------

/** The scenarios of --scenario, or the world of --writers/--unbind/--dt/--crash ("custom"), or all. */
async function kernelScenarios(
  opts: WorldCliOptions,
): Promise<
  { id: string; world: import("../../explore/kernel-interleave.ts").KernelThreadWorld; args: string }[]
> {
  const { KERNEL_SCENARIOS } = await import("../../explore/kernel-interleave.ts");
  const custom =
    opts.writers !== undefined || opts.unbind === true || opts.dt !== undefined || opts.crash === true;
  if (custom) {
    if (opts.scenario !== undefined)
      throw new UsageError("give --scenario or --writers/--unbind/--dt/--crash, not both", {
        subject: "--scenario",
      });
    const w = await worldFrom(opts);
    const extra = [worldArgs(opts), opts.crash ? "--crash" : ""].filter((x) => x !== "").join(" ");
    return [
      {
        id: "custom",
        world: {
          autoBoot: w.dtProps.includes("st,auto-boot"),
          writers: w.writers,
          unbind: w.unbind,
          crash: opts.crash === true,
        },
        args: extra,
      },
    ];
  }
  const ids = (opts.scenario ?? KERNEL_SCENARIOS.map((s) => s.id).join(","))
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
  return ids.map((id) => {
    const s = KERNEL_SCENARIOS.find((x) => x.id === id);
    if (s === undefined)
      throw new UsageError(
        `unknown interleaving scenario "${id}" (known: ${KERNEL_SCENARIOS.map((x) => x.id).join(", ")})`,
        {
          subject: "--scenario",
        },
      );
    return { id: s.id, world: s.world, args: `--scenario ${s.id}` };
  });
}

/**
 * A built-in id without --kernel-tree: its hand model (said on stderr); else the input's C on the tree, or
 * with no tree found, the input as a review without one runs it (its TEE driver from C, said on stderr).
 */
async function interleaveDesign(spec: string, kernelTree: string | undefined, modelOnly = false) {
  const { builtinInterleaveDesign, kernelTreeInterleaveDesign } = await import(
    "../../node/kernel-interleave-input.ts"
  );
  const builtin = kernelTree === undefined ? builtinInterleaveDesign(spec) : null;
  if (builtin !== null) {
    printError(
      `note: ${spec}: the hand model's interleavings (its facts); no C runs without --kernel-tree\n`,
    );
    return builtin;
  }
  const design = await kernelTreeInterleaveDesign(spec, kernelTree, true, modelOnly);
  if (design.stm32 === undefined) {
    const { describeRan } = await import("../../scenarios/result.ts");
    printError(
      `note: ${spec}: no kernel tree: ${design.ran === undefined ? "the hand model (its facts) runs every file" : describeRan(design.ran)}\n`,
    );
  }
  return design;
}

export async function kernelInterleaveExplore(
  inputs: readonly string[],
  opts: WorldCliOptions & { depth: number; json?: boolean; audit?: boolean; reduce?: boolean },
): Promise<void> {
  if (inputs.length === 0)
    throw new UsageError("--interleave needs --versions <input>", { subject: "--versions" });
  const { exploreKernelInterleavings, renderKernelInterleaveText } = await import(
    "../../explore/kernel-interleave.ts"
  );
  const { loadFixtures } = await import("../../emulator/api.ts");
  const scenarios = await kernelScenarios(opts);
  const fixtures = await loadFixtures();
  const out = [];
  const texts: string[] = [];
  for (const spec of inputs) {
    const design = await interleaveDesign(spec, opts.kernelTree);
    for (const s of scenarios) {
      const r = await exploreKernelInterleavings(design, s, fixtures, {
        depth: opts.depth,
        ...(opts.audit ? { audit: true } : {}),
        ...(opts.reduce === false ? { reduce: false } : {}),
      });
      const tree = opts.kernelTree === undefined ? "" : ` --kernel-tree ${opts.kernelTree}`;
      out.push({
        input: spec,
        ...r,
        findings: r.findings.map((f) => ({ finding: f.finding, schedule: f.schedule })),
      });
      texts.push(renderKernelInterleaveText(r, `${spec}${tree} ${s.args}`));
    }
  }
  if (opts.json)
    printJson({
      depth: opts.depth,
      scenarios: scenarios.map((s) => ({ id: s.id, world: s.world })),
      runs: out,
    });
  else printText(`${texts.join("\n\n")}\n`);
}

export async function kernelInterleaveReplay(
  spec: string,
  scheduleText: string,
  opts: WorldCliOptions & { json?: boolean },
): Promise<void> {
  const { parseSchedule, formatSchedule } = await import("../../explore/interleave.ts");
  const { renderKernelReplay, runKernelSchedule } = await import("../../explore/kernel-interleave.ts");
  const { loadFixtures } = await import("../../emulator/api.ts");
  const schedule = parseSchedule(scheduleText);
  const scenarios = await kernelScenarios(opts);
  const s = scenarios[0];
  if (s === undefined || scenarios.length > 1)
    throw new UsageError("replay --schedule runs one scenario: give --scenario <id>", {
      subject: "--scenario",
    });
  const design = await interleaveDesign(spec, opts.kernelTree, opts.modelOnly === true);
  const x = await runKernelSchedule(design, s.world, schedule, await loadFixtures());
  scheduleRan(x, schedule, formatSchedule);
  if (opts.json)
    printJson({
      input: spec,
      scenario: s.id,
      schedule: x.schedule,
      threads: x.threads,
      segments: x.segments,
      findings: x.findings,
      trace: x.trace,
      unknown: x.unknown,
    });
  else printText(`${spec} (${s.id}): ${renderKernelReplay(x)}\n`);
}
