/**
 * Mermaid sequence diagrams from scenario traces. Participants: Linux core (the remoteproc core and the STM32
 * platform driver: kernel code outside the TEE driver), TEE driver, OP-TEE TA, coprocessor. A message is drawn
 * when control passes from one participant to another; steps inside one participant are folded away, repeated
 * messages are collapsed, rproc state changes, findings and the first divergence become notes. The text stays
 * below GitHub's limit for one Mermaid block by trimming, with a note saying so.
 */
import type { TraceLayer, TraceStep } from "../scenarios/result.ts";
import { mermaidLabel } from "./escape.ts";

type Part = "C" | "T" | "A" | "P";

const PARTICIPANTS: readonly [Part, string][] = [
  ["C", "Linux core"],
  ["T", "TEE driver"],
  ["A", "OP-TEE TA"],
  ["P", "coprocessor"],
];

const PART_OF: Record<TraceLayer, Part> = { core: "C", stm32: "C", tee: "T", ta: "A", platform: "P" };

/** GitHub renders at most 50,000 characters of one Mermaid block. */
export const MERMAID_BLOCK_LIMIT = 50_000;
const MAX_TEXT = 90;

export interface DiagramOptions {
  /** Findings to mark (their `step` indexes the trace). */
  findings?: readonly { kind: string; at: string; step: number }[];
  /** Index of the first step that differs from the other version, and that version's name. */
  divergence?: { step: number; other: string } | null;
  /** Character limit of the whole block; default MERMAID_BLOCK_LIMIT. */
  maxChars?: number;
}

export interface Diagram {
  text: string;
  /** Lines dropped to stay below the limit (0 when nothing was trimmed). */
  trimmed: number;
}

/** Message text mermaid reads literally: no statement separators, comments, entities or HTML. */
export function mermaidText(s: string): string {
  const t = mermaidLabel(s);
  const cut = t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT - 1)}…` : t;
  return cut === "" ? "-" : cut;
}

/** Replaces runs of one line, or of a pair of lines, repeated back to back by one copy and a count. */
function collapse(lines: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    let done = false;
    for (const period of [1, 2]) {
      const block = lines.slice(i, i + period);
      if (block.length < period || block.some((l) => l.startsWith("Note"))) continue;
      let k = 1;
      while (lines.slice(i + k * period, i + (k + 1) * period).join("\n") === block.join("\n")) k++;
      if (k < 2) continue;
      const part = /^\s*([CTAP])/.exec(block[0] as string)?.[1] ?? "C";
      out.push(...block, `  Note over ${part}: the above ${period === 1 ? "message" : "exchange"} ×${k}`);
      i += k * period;
      done = true;
      break;
    }
    if (!done) {
      out.push(lines[i] as string);
      i++;
    }
  }
  return out;
}

function body(trace: readonly TraceStep[], opts: DiagramOptions): string[] {
  const lines: string[] = [];
  const findingsAt = new Map<number, { kind: string; at: string }[]>();
  for (const f of opts.findings ?? []) findingsAt.set(f.step, [...(findingsAt.get(f.step) ?? []), f]);
  // Control sits with one participant; calls, TA invocations and returns move it, and draw an arrow when they
  // cross participants. Kernel bookkeeping (alloc, lock, log, …) stays with whoever has control; actions on
  // the coprocessor are drawn as messages to it without moving control.
  let current: Part | null = null;
  let lastReturn: string | null = null;
  const text = (s: TraceStep) => (s.detail === "" ? `${s.fn} ${s.event}` : `${s.fn} ${s.event} ${s.detail}`);
  trace.forEach((s, i) => {
    const to = PART_OF[s.layer];
    if (opts.divergence && opts.divergence.step === i)
      lines.push(`  Note over C,P: first divergence from ${mermaidText(opts.divergence.other)}`);
    const moves = s.event === "call" || s.event === "return" || s.layer === "ta";
    if (s.layer === "platform") {
      if (current !== null && current !== "P") lines.push(`  ${current}->>P: ${mermaidText(text(s))}`);
    } else if (moves) {
      const returning = s.event === "return";
      const label = returning ? `${s.fn} returns ${s.detail}` : text(s);
      if (current !== null && current !== to)
        lines.push(
          `  ${current}${returning ? "-->>" : "->>"}${to}: ${mermaidText(returning ? (lastReturn ?? label) : label)}`,
        );
      lastReturn = returning && (current === to || current === null) ? label : null;
      current = to;
    }
    const here = s.layer === "platform" || moves ? to : (current ?? to);
    if (s.event === "state") lines.push(`  Note over ${here}: ${mermaidText(`${s.fn} ${s.detail}`)}`);
    for (const f of findingsAt.get(i) ?? [])
      lines.push(`  Note over ${here}: ⚠ ${mermaidText(`${f.kind} in ${f.at}`)}`);
  });
  if (opts.divergence && opts.divergence.step >= trace.length)
    lines.push(`  Note over C,P: trace ends here, ${mermaidText(opts.divergence.other)} goes on`);
  return collapse(lines);
}

/** A complete `sequenceDiagram` for one trace. */
export function sequenceDiagram(trace: readonly TraceStep[], opts: DiagramOptions = {}): Diagram {
  const limit = opts.maxChars ?? MERMAID_BLOCK_LIMIT;
  const head = ["sequenceDiagram", ...PARTICIPANTS.map(([id, name]) => `  participant ${id} as ${name}`)];
  const lines = body(trace, opts);
  const full = [...head, ...lines].join("\n");
  if (full.length <= limit) return { text: full, trimmed: 0 };
  const note = (n: number) => `  Note over C,P: ${n} more lines trimmed to stay below the Mermaid size limit`;
  let size = head.join("\n").length + note(lines.length).length + 1;
  let kept = 0;
  while (kept < lines.length && size + (lines[kept] as string).length + 1 <= limit) {
    size += (lines[kept] as string).length + 1;
    kept++;
  }
  return {
    text: [...head, ...lines.slice(0, kept), note(lines.length - kept)].join("\n"),
    trimmed: lines.length - kept,
  };
}
