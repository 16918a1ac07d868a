/**
 * The design `explore --interleave --kernel-tree DIR` runs on the hand model's kernel threads: an input's
 * series applied to the tree (its stm32_rproc.c and the TEE driver it creates, from C, as matrix runs them),
 * or `mainline`: the tree's own stm32_rproc.c and ELF loader as they are, with mainline's facts.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError, UsageError } from "../errors.ts";
import { interpretedTreeDrivers, loadTreeDrivers } from "../interp/env/drivers.ts";
import type { Design } from "../scenarios/run.ts";
import { builtinVersion } from "../semantics/versions.ts";
import { cParser } from "./c-parser.ts";
import { loadInput } from "./inputs.ts";
import { resolveKernelTree } from "./kernel-tree.ts";
import { mappedSubject } from "./versions.ts";

const TREE_HEADERS = [
  "include/linux/remoteproc.h",
  "drivers/remoteproc/remoteproc_internal.h",
  "drivers/remoteproc/remoteproc_elf_helpers.h",
];

/** The tree's unpatched drivers (the files as they are in DIR), with mainline's facts. */
async function mainlineOnTree(dir: string): Promise<Design> {
  const read = async (p: string) => {
    const text = await readFile(join(dir, p), "utf8").catch(() => null);
    if (text === null) throw new InputError(`${p} is not in the kernel tree`, { subject: dir });
    return { path: p, text };
  };
  const loaded = loadTreeDrivers(await cParser(), {
    headers: await Promise.all(TREE_HEADERS.map(read)),
    tee: null,
    stm32: await read("drivers/remoteproc/stm32_rproc.c"),
    elf: await read("drivers/remoteproc/remoteproc_elf_loader.c"),
  });
  const v = builtinVersion("mainline");
  if (v === undefined) throw new Error("no built-in mainline");
  return {
    id: "mainline",
    title: `${v.title}: ${dir}'s drivers as they are`,
    facts: v.facts,
    ...interpretedTreeDrivers(loaded),
  };
}

/**
 * A built-in version's hand model (its facts: no C runs), for interleavings without a kernel tree; null when
 * `spec` is not a built-in id.
 */
export function builtinInterleaveDesign(spec: string): Design | null {
  const v = builtinVersion(spec);
  return v === undefined ? null : { id: v.id, title: `${v.title} (the hand model)`, facts: v.facts };
}

/**
 * The design of an input as matrix and review run it, with no kernel tree: the TEE client driver its series
 * creates from C (when it creates one that lowers), the rest the hand model with its facts.
 */
export async function inputInterleaveDesign(spec: string, modelOnly = false): Promise<Design> {
  return (await mappedSubject(await loadInput(spec), spec, modelOnly ? { modelOnly: true } : {})).design;
}

/**
 * The design of `spec` on a kernel tree, with its STM32 driver from C (an error when it does not run from C);
 * with `orInput` and no tree found, an input's design without one (inputInterleaveDesign), as a review ran it;
 * with `orInput` and `modelOnly`, the input's hand model (as review --model-only ran it).
 */
export async function kernelTreeInterleaveDesign(
  spec: string,
  kernelTree: string | undefined,
  orInput = false,
  modelOnly = false,
): Promise<Design> {
  // --model-only: the input as review --model-only ran it, the hand model for every file (no tree).
  if (orInput && modelOnly && builtinVersion(spec) === undefined) return inputInterleaveDesign(spec, true);
  const tree = await resolveKernelTree({ option: kernelTree, input: spec });
  if (tree === null && orInput && builtinVersion(spec) === undefined) return inputInterleaveDesign(spec);
  if (tree === null)
    throw new UsageError(
      "--interleave of a built-in design's real code needs a kernel tree (--kernel-tree DIR)",
      {
        subject: "--kernel-tree",
      },
    );
  if (spec === "mainline") return mainlineOnTree(tree.dir);
  if (builtinVersion(spec) !== undefined)
    throw new UsageError(
      `${spec} is a built-in version, whose code is the hand model's: give its mails (an mbox or directory) with --kernel-tree to run its C, or no --kernel-tree for the hand model`,
      { subject: "--versions" },
    );
  // The series on the tree as its matrix cells run it: the core from C too when it lowers (the kernel-thread
  // world's driver core serialises probe and remove per device, as Linux's device_lock does), else the hand
  // model's core (its ran: entry says why; RPROC_REVIEW_MODEL_CORE keeps it).
  const design = (await mappedSubject(await loadInput(spec), spec, { kernelTree: tree.dir })).design;
  if (design.stm32 === undefined)
    throw new InputError(
      `${spec}: the tree's stm32_rproc.c does not run from C with this series (matrix --kernel-tree says which file fell back and why)`,
      { subject: spec },
    );
  return design;
}
