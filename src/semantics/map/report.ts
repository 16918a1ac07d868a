/** The JSON and text shapes of a mapping (the `map` command, patches/<id>/facts.json). */
import { describeMissing, seriesMissing } from "../../series/missing.ts";
import { type OutsidePath, pathsOutsideTree } from "../../series/paths.ts";
import type { Series } from "../../series/types.ts";
import { FACT_PATHS, getFact } from "../facts.ts";
import { TEE_C, TEE_H } from "./derive.ts";
import type { MapResult } from "./types.ts";

export interface MapJson {
  series: string;
  version: string;
  facts: MapResult["facts"];
  status: MapResult["status"];
  evidence: MapResult["evidence"];
  unmodelled: MapResult["unmodelled"];
  outOfScope: MapResult["outOfScope"];
  /** Paths of the diff outside the source tree (absolute, ".."); present only when there are some. */
  outsideTree?: OutsidePath[];
}

export function mapJson(series: Series, result: MapResult): MapJson {
  const outside = pathsOutsideTree(series.patches);
  return {
    series: series.title,
    version: series.id,
    facts: result.facts,
    status: result.status,
    evidence: result.evidence,
    unmodelled: result.unmodelled,
    outOfScope: result.outOfScope,
    ...(outside.length > 0 ? { outsideTree: outside } : {}),
  };
}

/** Files the TEE series adds: v6.15 has none of them. */
const NOT_IN_MAINLINE: ReadonlySet<string> = new Set([TEE_C, TEE_H]);

/** Files the series edits and never adds. */
function editedNotCreated(series: Series): string[] {
  const added = new Set(
    series.patches.flatMap((p) => p.files.filter((f) => f.status === "added").map((f) => f.path)),
  );
  const edited = series.patches.flatMap((p) =>
    p.files.filter((f) => f.status === "modified").map((f) => f.path),
  );
  return [...new Set(edited)].filter((f) => !added.has(f));
}

export function mapText(series: Series, result: MapResult): string {
  const out: string[] = [
    `${series.title} (${series.id}, ${series.patches.length} patches, ${series.origin})`,
    ...(series.missing.length > 0
      ? [
          `missing from the input: ${describeMissing(seriesMissing(series), series.total)}; what they change is not read`,
        ]
      : []),
    "",
  ];
  const set = FACT_PATHS.filter((p) => result.status[p] !== "baseline");
  out.push(`facts set by the series: ${set.length} of ${FACT_PATHS.length} (the others are v6.15 behaviour)`);
  for (const path of set) {
    const value = JSON.stringify(getFact(result.facts, path));
    const mark = result.status[path] === "unknown" ? "  UNKNOWN" : "";
    out.push(`  ${path} = ${value}${mark}`);
    for (const e of result.evidence[path] ?? []) {
      out.push(
        `      ${e.patch}/${series.total} ${e.file}:${e.line}${e.function ? ` in ${e.function}` : ""}`,
      );
    }
  }
  const builtOn = editedNotCreated(series).filter((f) => NOT_IN_MAINLINE.has(f));
  if (builtOn.length > 0 && set.some((p) => result.status[p] === "unknown")) {
    out.push(
      "",
      `why unknown: the series edits ${builtOn.join(" and ")} without creating ${builtOn.length === 1 ? "it" : "them"}, and v6.15 has no such file: it builds on another series (a version of the TEE series), whose text it does not show. Map both together, e.g. a git range that spans both (git:<dir>:<base>..<tip>).`,
    );
  }
  out.push("", `unmodelled changes: ${result.unmodelled.length}`);
  for (const u of result.unmodelled) {
    out.push(
      `  ${u.patch}/${series.total} ${u.file}:${u.line}${u.function ? ` ${u.function}` : ""}: ${u.summary}`,
    );
  }
  out.push("", `out of scope: ${result.outOfScope.length} file(s)`);
  for (const o of result.outOfScope)
    out.push(
      `  ${o.file} (patch ${o.patches.join(", ")})${o.created ? ": C the series creates; no fact reads it, no model runs it" : ""}`,
    );
  const outside = pathsOutsideTree(series.patches);
  if (outside.length > 0) {
    out.push("", `outside the source tree: ${outside.length} path(s); no file of the tree is read for them`);
    for (const o of outside) out.push(`  ${JSON.stringify(o.path)} (patch ${o.patch}): ${o.why}`);
  }
  return `${out.join("\n")}\n`;
}
