/** Small helpers shared by the rules: fact results, evidence, line classification. */

import type { Derived, Evidence } from "./types.ts";
import type { FileView, SeriesView, VLine } from "./view.ts";

export const CORE_C = "drivers/remoteproc/remoteproc_core.c";
export const CORE_INTERNAL_H = "drivers/remoteproc/remoteproc_internal.h";
export const RPROC_H = "include/linux/remoteproc.h";
export const TEE_C = "drivers/remoteproc/remoteproc_tee.c";
export const TEE_H = "include/linux/remoteproc_tee.h";
export const STM32_C = "drivers/remoteproc/stm32_rproc.c";
export const STM32_BINDING = "Documentation/devicetree/bindings/remoteproc/st,stm32-rproc.yaml";

/**
 * Files whose changes the model covers (src/semantics has a module for each): what no rule explains there is
 * "unmodelled", not "out of scope". The ELF loader and the virtio glue carry no fact of the series.
 */
export const MODELLED_FILES: readonly string[] = [
  CORE_C,
  "drivers/remoteproc/remoteproc_elf_loader.c",
  "drivers/remoteproc/remoteproc_virtio.c",
  CORE_INTERNAL_H,
  RPROC_H,
  TEE_C,
  TEE_H,
  STM32_C,
  STM32_BINDING,
];

export const SYSFS_C = "drivers/remoteproc/remoteproc_sysfs.c";

/**
 * Files the model stands for that no design fact reads and that never run from C: the kernel files the hand
 * model's modules mirror outside the series' own (src/semantics: the TEE client API, the driver core,
 * coredump, the locks and kthreads), and remoteproc_sysfs.c, whose store functions the scenarios' sysfs writes
 * are (world.ts sysfsStoreOf). Every changed function of theirs is unmodelled: a cell that calls one (or makes
 * the sysfs write that stands for it) is unknown.
 */
export const STOOD_FOR_FILES: readonly string[] = [
  SYSFS_C,
  "drivers/remoteproc/remoteproc_coredump.c",
  "drivers/tee/tee_core.c",
  "drivers/tee/tee_shm.c",
  "drivers/base/core.c",
  "drivers/base/dd.c",
  "kernel/locking/mutex.c",
  "kernel/kthread.c",
  "include/linux/spinlock.h",
];

/**
 * Kernel files the environment stands for: the subsystems whose APIs the interpreter's environment
 * (src/interp/env, its own headers in place of the <linux/...> ones) and the hand model serve the C, and the
 * drivers the emulator stands in for (OP-TEE behind the TEE client, the STM32 IPCC mailbox controller). None
 * of them ever runs, and their APIs leave no call step to match a cell by; every scenario's probe uses them,
 * so a change of theirs makes every cell that ran unknown, naming the subsystem (scenarios/run.ts).
 */
export const ENVIRONMENT_FILES: readonly { readonly match: RegExp; readonly what: string }[] = [
  { match: /^drivers\/of\/|^include\/linux\/of(_\w+)?\.h$/, what: "the devicetree API (of_*)" },
  {
    match: /^drivers\/mailbox\/(mailbox\.c|stm32-ipcc\.c)$|^include\/linux\/mailbox_(client|controller)\.h$/,
    what: "the mailbox framework and the IPCC controller",
  },
  {
    match: /^drivers\/base\/regmap\/|^drivers\/mfd\/syscon\.c$|^include\/linux\/(regmap|mfd\/syscon)\.h$/,
    what: "regmap and syscon",
  },
  { match: /^drivers\/reset\/core\.c$|^include\/linux\/reset\.h$/, what: "the reset controller API" },
  { match: /^kernel\/irq\/|^include\/linux\/(interrupt|irq|pm_wakeirq)\.h$/, what: "the interrupt API" },
  { match: /^kernel\/workqueue\.c$|^include\/linux\/workqueue\.h$/, what: "workqueues" },
  {
    match: /^drivers\/base\/firmware_loader\/|^include\/linux\/firmware\.h$/,
    what: "the firmware loader",
  },
  { match: /^lib\/idr\.c$|^include\/linux\/idr\.h$/, what: "the IDA allocator" },
  {
    match: /^drivers\/virtio\/virtio(_ring)?\.c$|^drivers\/rpmsg\/|^include\/linux\/(virtio\w*|rpmsg\w*)\.h$/,
    what: "the virtio core and rpmsg",
  },
  {
    match: /^drivers\/tee\/optee\/|^include\/linux\/tee_(drv|core)\.h$/,
    what: "OP-TEE and the TEE client types",
  },
  {
    match:
      /^drivers\/base\/(devres|platform)\.c$|^drivers\/base\/power\/wake\w*\.c$|^include\/linux\/(device|platform_device|pm_wakeup)\.h$/,
    what: "the device core's devres, platform bus and wakeup",
  },
  {
    match: /^mm\/slab_common\.c$|^kernel\/dma\/|^include\/linux\/(slab|dma-mapping|dma-map-ops|io|elf)\.h$/,
    what: "the allocators, DMA and I/O mappings",
  },
  {
    match:
      /^include\/linux\/(list|rculist|err|kernel|container_of|string|bitops|overflow|cleanup|mutex|spinlock_types)\.h$/,
    what: "the kernel's list, error-pointer, string and cleanup helpers",
  },
];

/** What the environment stands for in `path` (ENVIRONMENT_FILES), or null. */
export function environmentOf(path: string): string | null {
  return ENVIRONMENT_FILES.find((e) => e.match.test(path))?.what ?? null;
}

/** Every file the model covers by path: changes there are facts or unmodelled changes, never out of scope. */
export const COVERED_FILES: readonly string[] = [...MODELLED_FILES, ...STOOD_FOR_FILES];

/** A kernel build file (Kconfig, Makefile, Kbuild): what it selects and builds is never read by a rule. */
export function isBuildFile(path: string): boolean {
  return /(?:^|\/)(?:Kconfig(?:\.\w+)?|Makefile|Kbuild)$/.test(path);
}

/** Whether the model covers `path`: one of COVERED_FILES, or a file the environment stands for. */
export function isCovered(path: string): boolean {
  return COVERED_FILES.includes(path) || environmentOf(path) !== null;
}

/** Whether the model stands for `path` without running it (STOOD_FOR_FILES, ENVIRONMENT_FILES). */
export function isStoodFor(path: string): boolean {
  return STOOD_FOR_FILES.includes(path) || environmentOf(path) !== null;
}

export function baseline<T>(value: T): Derived<T> {
  return { value, status: "baseline", evidence: [] };
}

export function setTo<T>(value: T, evidence: Evidence[]): Derived<T> {
  return { value, status: "set", evidence: dedupe(evidence) };
}

/** The series changed the mechanism in a way no rule reads: keep the baseline value, mark it unknown. */
export function unknownAs<T>(value: T, evidence: Evidence[]): Derived<T> {
  return { value, status: "unknown", evidence: dedupe(evidence) };
}

function dedupe(evidence: Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return evidence.filter((e) => {
    const key = `${e.patch}|${e.file}|${e.line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Evidence for a line the series added (null for context). */
export function evidenceOf(line: VLine): Evidence[] {
  return line.added === null ? [] : [line.added];
}

export function fileOf(view: SeriesView, path: string): FileView | undefined {
  return view.files.get(path);
}

const DECLARATION =
  /^(?:const\s+)?(?:(?:struct|enum|union)\s+\w+|unsigned\s+(?:int|long)|int|long|u8|u16|u32|u64|bool|size_t|phys_addr_t|void)[\s*]+\w+(?:\s*,\s*\**\w+)*\s*;$/;

/** C text without its comments. */
export function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "");
}

/** Text with each run of blanks one space, trimmed (lines compared as C reads them). */
export function norm(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** A line that holds only a comment (or is blank). */
export function isCommentOrBlank(text: string): boolean {
  const t = text.trim();
  return t === "" || /^(?:\/\*.*\*\/|\/\*.*|\*.*|\/\/.*|\*\/)$/.test(t);
}

/**
 * A line that carries no behaviour on its own: blank, braces, only comment, an #include, or a local declaration
 * without initialiser (what it declares shows where it is used).
 */
export function isInert(text: string): boolean {
  const t = text.trim();
  return (
    isCommentOrBlank(t) ||
    /^(?:\{|\}|\};|\}\s*else\s*\{)$/.test(t) ||
    /^#include\b/.test(t) ||
    DECLARATION.test(t)
  );
}

/** Marks lines as read by a rule; returns them for chaining. */
export function consume(...lines: Array<VLine | undefined>): void {
  for (const l of lines) if (l !== undefined) l.consumed = true;
}

/** Leading tab depth (8 spaces count as a tab). */
export function depth(text: string): number {
  const lead = /^[\t ]*/.exec(text)?.[0] ?? "";
  return [...lead].reduce((n, c) => n + (c === "\t" ? 1 : 1 / 8), 0);
}
