/**
 * Baseline means untouched: a C file the model does not cover (a new glue driver, a moved TEE driver) whose
 * changed lines define or call what the model runs makes the facts it could change unknown, each naming the
 * file and the symbol. Only changed lines count, so a patch that renames an op in every other driver (whose
 * compatibles the model never binds) leaves the facts alone.
 */
import { FACT_PATHS, type FactPath } from "../facts.ts";
import { isCovered } from "./derive.ts";
import type { Evidence } from "./types.ts";
import { type SeriesView, sortedLines } from "./view.ts";

/** A changed line of an out-of-scope file that touches the model, with the facts it could change. */
export interface OutsideTouch {
  file: string;
  symbol: string;
  evidence: Evidence;
  facts: FactPath[];
}

const STM32_FACTS = FACT_PATHS.filter((p) => p.startsWith("stm32."));
const TEE_FACTS = FACT_PATHS.filter((p) => p === "tee" || p.startsWith("tee."));
const STM32_TEE_FACTS = STM32_FACTS.filter((p) => /tee/i.test(p));

interface Rule {
  /** Which symbol a line touches (the first match), or null. */
  match: (text: string) => string | null;
  /** Whether the rule applies only to a file the series creates (a new driver may bind the modelled device). */
  newFileOnly: boolean;
  facts: readonly FactPath[];
}

const found =
  (re: RegExp, name?: (m: RegExpExecArray) => string) =>
  (text: string): string | null => {
    const m = re.exec(text);
    return m ? (name ? name(m) : (m[1] ?? m[0])) : null;
  };

const RULES: readonly Rule[] = [
  // A compatible of the modelled coprocessor: this file can bind the device every scenario probes.
  {
    match: found(/"(st,stm32[\w,.-]*)"/, (m) => `compatible "${m[1]}"`),
    newFileOnly: false,
    facts: STM32_FACTS,
  },
  // The TEE loader's API and the TA's commands: the TEE path the model runs.
  {
    match: found(/\b(rproc_tee_\w+)\s*\(/, (m) => `${m[1]}()`),
    newFileOnly: false,
    facts: [...TEE_FACTS, ...STM32_TEE_FACTS],
  },
  { match: found(/\b(TA_RPROC_\w+)/), newFileOnly: false, facts: TEE_FACTS },
  // A new driver with its own rproc: it may be the one bound to the modelled device.
  {
    match: found(/\bstruct\s+rproc_ops\b/, () => "an rproc_ops table"),
    newFileOnly: true,
    facts: STM32_FACTS,
  },
  {
    match: found(/\b((?:devm_)?rproc_(?:alloc|add))\s*\(/, (m) => `${m[1]}()`),
    newFileOnly: true,
    facts: STM32_FACTS,
  },
];

/** Every out-of-scope C file's touches of the model, first line per (file, symbol). */
export function outsideTouches(view: SeriesView): OutsideTouch[] {
  const out: OutsideTouch[] = [];
  for (const path of view.order) {
    if (isCovered(path) || !/\.[ch]$/.test(path)) continue;
    const file = view.files.get(path);
    if (file === undefined) continue;
    const changed: { text: string; evidence: Evidence }[] = [];
    for (const [, l] of sortedLines(file)) if (l.added) changed.push({ text: l.text, evidence: l.added });
    for (const d of file.deletions) changed.push({ text: d.text, evidence: d.where });
    const seen = new Set<string>();
    for (const rule of RULES) {
      if (rule.newFileOnly && !file.complete) continue;
      for (const c of changed) {
        const symbol = rule.match(c.text);
        if (symbol === null || seen.has(symbol)) continue;
        seen.add(symbol);
        out.push({ file: path, symbol, evidence: c.evidence, facts: [...rule.facts] });
      }
    }
  }
  return out;
}
