import type { Command } from "commander";
import { UsageError } from "../../errors.ts";
import { EVENT_IDS } from "../../explore/events.ts";
import type { Explorable, ExploreProgress } from "../../explore/index.ts";
import type { ExploreItem } from "../../node/explore-workers.ts";
import { BUILTIN_VERSIONS } from "../../semantics/versions.ts";
import { printJson, printText, statusLine } from "../output.ts";
import type { WorldCliOptions } from "./interleave.ts";
import { resolveNamedDesigns } from "./matrix.ts";

/** The world options (--writers, --unbind, --dt, --crash, --scenario, --kernel-tree) are the interleaving ones. */
export interface ExploreCliOptions extends WorldCliOptions {
  versions?: string;
  variant?: string[];
  depth?: string;
  events?: string;
  json?: boolean;
  threads?: string;
  keepWorlds?: string;
  audit?: boolean;
  interleave?: boolean;
  reduce?: boolean;
}

export const DEFAULT_DEPTH = 4;

/**
 * The designs of --versions (built-in ids and inputs; default: every built-in version) and --variant files,
 * each with what it is classified against: a built-in version against mainline and the built-in versions
 * before it; anything else as a later version (mainline, every built-in version, then the designs given
 * before it).
 */
export async function exploreItems(opts: { versions?: string; variant?: string[] }): Promise<ExploreItem[]> {
  const named = await resolveNamedDesigns(opts);
  if (named.length === 0) throw new UsageError("no version given", { subject: "--versions" });
  const { builtinItems, laterItem } = await import("../../node/explore-workers.ts");
  const before: Explorable[] = [];
  return named.map((n) => {
    if (n.builtin) return builtinItems([n.design.id])[0] as ExploreItem;
    // An input explores on the C it runs in matrix and review (its TEE driver; a tree's drivers).
    const design: Explorable = {
      id: n.design.id,
      facts: n.design.facts,
      replayAs: n.args,
      ...(n.design.tee === undefined ? {} : { tee: n.design.tee }),
      ...(n.design.stm32 === undefined ? {} : { stm32: n.design.stm32 }),
    };
    const item = laterItem(design, before);
    before.push(design);
    return item;
  });
}

function positiveInt(text: string | undefined, fallback: number, subject: string, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`expected an integer >= ${min}, not "${text}"`, { subject });
  return n;
}

/** One status line on a terminal (src/cli/output.ts): per version, depth, states, transitions and rate. */
function progressPrinter(): { update: (p: ExploreProgress) => void; done: () => void } {
  const line = statusLine();
  const latest = new Map<string, ExploreProgress>();
  return {
    update(p) {
      latest.set(p.version, p);
      const parts = [...latest.values()].map(
        (x) =>
          `${x.version} d${x.depth} ${x.states} states ${Math.round((x.transitions * 1000) / Math.max(1, x.elapsedMs))}/s`,
      );
      line.update(parts.join(" | "));
    },
    done: () => line.done(),
  };
}

export async function exploreAction(opts: ExploreCliOptions): Promise<void> {
  if (opts.interleave) {
    const { interleaveExplore } = await import("./interleave.ts");
    const inputs = (opts.versions ?? "")
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x !== "");
    const depth = positiveInt(opts.depth, DEFAULT_DEPTH, "--depth", 0);
    if (opts.kernelTree !== undefined || opts.scenario !== undefined || opts.crash) {
      const { kernelInterleaveExplore } = await import("./interleave.ts");
      await kernelInterleaveExplore(inputs, {
        depth,
        ...(opts.audit ? { audit: true } : {}),
        ...(opts.reduce === false ? { reduce: false } : {}),
        ...(opts.json ? { json: true } : {}),
        ...(opts.writers === undefined ? {} : { writers: opts.writers }),
        ...(opts.unbind ? { unbind: true } : {}),
        ...(opts.dt === undefined ? {} : { dt: opts.dt }),
        ...(opts.crash ? { crash: true } : {}),
        ...(opts.scenario === undefined ? {} : { scenario: opts.scenario }),
        ...(opts.kernelTree === undefined ? {} : { kernelTree: opts.kernelTree }),
      });
      return;
    }
    await interleaveExplore(inputs, {
      depth,
      ...(opts.audit ? { audit: true } : {}),
      ...(opts.json ? { json: true } : {}),
      ...(opts.reduce === false ? { reduce: false } : {}),
      ...(opts.writers === undefined ? {} : { writers: opts.writers }),
      ...(opts.unbind ? { unbind: true } : {}),
      ...(opts.dt === undefined ? {} : { dt: opts.dt }),
    });
    return;
  }
  const items = await exploreItems(opts);
  const depth = positiveInt(opts.depth, DEFAULT_DEPTH, "--depth", 0);
  const threads = positiveInt(opts.threads, 0, "--threads", 1);
  const keepWorlds =
    opts.keepWorlds === undefined ? undefined : positiveInt(opts.keepWorlds, 0, "--keep-worlds", 0);
  const { parseEvents, renderExploreText } = await import("../../explore/index.ts");
  const { exploreVersions } = await import("../../node/explore-workers.ts");
  const events = opts.events === undefined ? undefined : parseEvents(opts.events);
  const progress = progressPrinter();
  try {
    const reports = await exploreVersions(
      {
        items,
        depth,
        ...(events === undefined ? {} : { events }),
        ...(threads > 0 ? { threads } : {}),
        search: {
          ...(keepWorlds === undefined ? {} : { keepWorlds }),
          ...(opts.audit ? { audit: true } : {}),
        },
      },
      progress.update,
    );
    progress.done();
    if (opts.json) printJson({ baseline: "mainline", depth, versions: reports });
    else printText(`${renderExploreText(reports, "mainline")}\n`);
  } finally {
    progress.done();
  }
}

export function register(program: Command): void {
  program
    .command("explore")
    .description(
      "search every sequence of external events up to --depth (breadth-first) and report each monitor finding with a shortest sequence, its trace and a replay command",
    )
    .option(
      "--versions <ids>",
      `comma-separated versions: built-in ids (${BUILTIN_VERSIONS.map((v) => v.id).join(", ")}) or inputs (mbox, .eml, directory, pr:owner/repo#n, git:<dir>:<a>..<b>)`,
    )
    .option(
      "--variant <file.json>",
      'a design nobody has posted: {"base":"<id>","set":{"<fact>":value}}, explored after --versions (repeatable)',
      (file: string, prev: string[] = []) => [...prev, file],
    )
    .option("--depth <n>", `longest event sequence (default ${DEFAULT_DEPTH})`)
    .option("--events <ids>", `comma-separated events to use (default: all of ${EVENT_IDS.join(", ")})`)
    .option("--threads <n>", "worker threads (default: one per core, at most one per version)")
    .option(
      "--audit",
      "check the search's assumption that a state's hash decides what its teardown finds: tear down after every transition and fail naming two sequences that share a hash but not their teardown findings (slower)",
    )
    .option(
      "--keep-worlds <n>",
      "frontier states that keep their world, about 50 KB each; the others replay their events (default 10000)",
    )
    .option(
      "--interleave",
      "instead of event sequences: run the platform driver an input creates on kernel threads (module load, auto-boot's firmware callback, sysfs writers, unbind) and search the choices at their scheduling points to --depth, with lockdep, NULL-op, before-init, deadlock and use-after-free monitors",
    )
    .option("--no-reduce", "with --interleave: the full search, without the sleep-set reduction")
    .option("--writers <list>", "with --interleave: sysfs state writers, each a thread (start, stop)")
    .option("--unbind", "with --interleave: unbind the driver on its own thread once probe bound it")
    .option(
      "--dt <props>",
      'with --interleave: boolean device-tree properties of the device (default "st,auto-boot"; "" for none)',
    )
    .option(
      "--kernel-tree <dir>",
      "with --interleave: run a kernel tree's stm32_rproc.c (with the input's series applied, or as it is for mainline) and the posted remoteproc_tee.c from C on the hand model's kernel threads (sleep sets; --audit, --no-reduce as for created drivers)",
    )
    .option(
      "--scenario <ids>",
      "with --interleave --kernel-tree: auto-boot-at-probe, unbind-racing-start, recovery-racing-stop (default: all)",
    )
    .option(
      "--crash",
      "with --interleave --kernel-tree: the watchdog fires on its own thread once the driver is bound",
    )
    .option("--json", "print the search results, findings and traces as JSON")
    .action(exploreAction);
}
