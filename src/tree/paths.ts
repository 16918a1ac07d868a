/**
 * Which files of a kernel tree the interpreter runs (the modelled files and the remoteproc headers they
 * include), which files a series touches, and which headers a file includes.
 */
import { InputError } from "../errors.ts";
import type { FileChange, Series } from "../series/types.ts";

/** The files of the tree the hand model mirrors, and the remoteproc headers they include. */
export const MODELLED_FILES: readonly string[] = [
  "drivers/remoteproc/remoteproc_core.c",
  "drivers/remoteproc/remoteproc_elf_loader.c",
  "drivers/remoteproc/remoteproc_virtio.c",
  "drivers/remoteproc/stm32_rproc.c",
  "drivers/remoteproc/remoteproc_internal.h",
  "drivers/remoteproc/remoteproc_elf_helpers.h",
  "include/linux/remoteproc.h",
];

/** The kernel's own sources among them (the hand model stands in for each): what a tree's base gives. */
export const MODELLED_SOURCES: readonly string[] = MODELLED_FILES.filter((f) => f.endsWith(".c"));

export function isCFile(path: string): boolean {
  return /\.[ch]$/.test(path);
}

export function roleOf(path: string): "source" | "header" {
  return path.endsWith(".h") ? "header" : "source";
}

/**
 * A path a patch may name: relative, no `..`, no `.git` component, no backslash, NUL or line break. A diff naming
 * anything else is refused (it could write outside the tree).
 */
export function checkPath(path: string, where: string): string {
  const parts = path.split("/");
  const bad =
    path === "" ||
    path.startsWith("/") ||
    /[\\\0\n\r]/.test(path) ||
    parts.some((p) => p === "" || p === "." || p === ".." || p.toLowerCase() === ".git");
  if (bad)
    throw new InputError(`refusing the path "${path}": not a plain path inside a tree`, { subject: where });
  return path;
}

/** Every path a change reads or writes. */
export function pathsOf(change: FileChange): string[] {
  const out: string[] = [];
  if (change.oldPath !== null) out.push(change.oldPath);
  if (change.newPath !== null && change.newPath !== change.oldPath) out.push(change.newPath);
  return out;
}

/** The C files and headers the series creates, in the order it creates them. */
export function createdCFiles(series: Series): string[] {
  const out: string[] = [];
  for (const p of series.patches)
    for (const f of p.files)
      if (f.status === "added" && f.newPath !== null && isCFile(f.newPath) && !out.includes(f.newPath))
        out.push(f.newPath);
  return out;
}

/** The files the report describes: the modelled ones, then the C files the series creates. */
export function reportedFiles(series: Series): string[] {
  const out = [...MODELLED_FILES];
  for (const p of createdCFiles(series)) if (!out.includes(p)) out.push(p);
  return out;
}

const INCLUDE = /^[ \t]*#[ \t]*include[ \t]*(?:<([^>\n]+)>|"([^"\n]+)")/gm;

/**
 * The tree paths a file's `#include` lines name: `<linux/x.h>` is `include/linux/x.h`, `"x.h"` is beside
 * the file. Conditional includes count (a header a configuration may include is a dependency).
 */
export function includesOf(path: string, text: string): string[] {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
  const out: string[] = [];
  for (const m of text.matchAll(INCLUDE)) {
    const target = m[1] !== undefined ? `include/${m[1]}` : `${dir}${m[2]}`;
    out.push(normalise(target));
  }
  return out;
}

function normalise(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "..") out.pop();
    else if (part !== "." && part !== "") out.push(part);
  }
  return out.join("/");
}
