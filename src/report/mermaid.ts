/**
 * Mermaid sequence diagrams from scenario traces. Participants: Linux core (the remoteproc core and the STM32
 * platform driver: kernel code outside the TEE driver), TEE driver, OP-TEE TA, coprocessor. Arrows go from
 * caller to callee (returns back, with the value the C returns) and from the normal world to the secure
 * world; each step is labelled once; steps inside one participant are folded away, repeated messages are
 * collapsed, rproc state changes, findings and the first divergence become notes. With a divergence, only
 * the window around it is drawn, with a note for each elided side. The text stays below GitHub's limit for
 * one Mermaid block by trimming, with a note saying so.
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
      if (block.length < period || block.some((l) => l.trimStart().startsWith("Note"))) continue;
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

/**
 * The TEE client calls that cross from the normal world into the secure world: while one runs, the
 * coprocessor and memory actions of the trace are the secure world's (the TA and its PTA).
 */
const SECURE_CALLS: ReadonlySet<string> = new Set([
  "tee_client_invoke_func",
  "tee_client_open_session",
  "tee_client_close_session",
]);

/** Steps drawn around the first divergence; the rest is elided with a note. */
export const DIVERGENCE_WINDOW = { before: 14, after: 36 } as const;

function body(
  trace: readonly TraceStep[],
  opts: DiagramOptions,
): { lines: string[]; divergenceLine: number } {
  const lines: string[] = [];
  let divergenceLine = -1;
  const findingsAt = new Map<number, { kind: string; at: string }[]>();
  for (const f of opts.findings ?? []) findingsAt.set(f.step, [...(findingsAt.get(f.step) ?? []), f]);
  // A call stack of the participants: a call crossing participants is an arrow from the caller to the callee,
  // its return an arrow back from the callee to the caller; calls inside one participant draw nothing. TA
  // steps are requests of the normal world answered by the secure world (two arrows); kernel bookkeeping
  // (alloc, lock, log, ...) stays with the running participant; coprocessor actions are drawn from the
  // participant acting: the secure world while a TEE client call is in it, else the running one.
  const stack: { part: Part; fn: string; secure?: boolean; answered?: boolean }[] = [];
  const top = (): Part => stack[stack.length - 1]?.part ?? "C";
  const inSecure = () => stack.some((f) => SECURE_CALLS.has(f.fn));
  trace.forEach((s, i) => {
    const to = PART_OF[s.layer];
    if (opts.divergence && opts.divergence.step === i) {
      divergenceLine = lines.length;
      lines.push(`  Note over C,P: first divergence from ${mermaidText(opts.divergence.other)}`);
    }
    let here: Part = top();
    if (s.layer === "platform") {
      const from = inSecure() ? "A" : top();
      if (from !== "P")
        lines.push(`  ${from}->>P: ${mermaidText(s.detail === "" ? `${s.fn} ${s.event}` : s.detail)}`);
      here = "P";
    } else if (s.layer === "ta") {
      const open = [...stack].reverse().find((f) => f.secure === true);
      const from = top() === "A" ? "T" : top();
      // The answer: "LOAD_FW: SUCCESS" → "SUCCESS", "rproc_id 0: SUCCESS" → "SUCCESS".
      const prefixed = s.detail.startsWith(`${s.fn}: `) ? s.detail.slice(s.fn.length + 2) : null;
      const colon = s.detail.indexOf(": ");
      const reply = prefixed ?? (colon > 0 ? s.detail.slice(colon + 2) : s.detail);
      if (open !== undefined && open.answered !== true) {
        // The request was drawn with the TEE client call; this is the secure world's answer.
        lines.push(
          `  A-->>${open.part}: ${mermaidText(reply === "" ? `${s.fn} done` : `${s.fn}: ${reply}`)}`,
        );
        open.answered = true;
      } else if (s.event === "invoke") {
        lines.push(`  ${from}->>A: ${mermaidText(s.fn)}`);
        lines.push(`  A-->>${from}: ${mermaidText(reply === "" ? "done" : reply)}`);
      } else
        lines.push(
          `  ${from}->>A: ${mermaidText(s.detail === "" ? `${s.fn} ${s.event}` : `${s.fn} ${s.detail}`)}`,
        );
      here = "A";
    } else if (s.event === "call") {
      const caller = top();
      if (caller !== to)
        lines.push(
          `  ${caller}->>${to}: ${mermaidText(s.detail === "" ? `${s.fn}()` : `${s.fn}(${s.detail})`)}`,
        );
      // A TEE client call is the normal world's request to the secure world.
      const secure = SECURE_CALLS.has(s.fn);
      if (secure) lines.push(`  ${to}->>A: ${mermaidText(s.detail === "" ? s.fn : s.detail)}`);
      stack.push({ part: to, fn: s.fn, secure });
      here = to;
    } else if (s.event === "return") {
      // Unwind to the frame of this function (a frame whose return the trace does not show is dropped).
      let at = stack.length - 1;
      while (at >= 0 && stack[at]?.fn !== s.fn) at--;
      const callee = at >= 0 ? (stack[at] as { part: Part }).part : to;
      stack.length = Math.max(at, 0);
      const caller = top();
      if (caller !== callee)
        lines.push(`  ${callee}-->>${caller}: ${mermaidText(`${s.fn} returns ${s.detail}`)}`);
      here = callee;
    }
    if (s.event === "state") lines.push(`  Note over ${here}: ${mermaidText(`${s.fn} ${s.detail}`)}`);
    for (const f of findingsAt.get(i) ?? [])
      lines.push(`  Note over ${here}: ⚠ ${mermaidText(`${f.kind} in ${f.at}`)}`);
  });
  if (opts.divergence && opts.divergence.step >= trace.length) {
    divergenceLine = lines.length;
    lines.push(`  Note over C,P: trace ends here, ${mermaidText(opts.divergence.other)} goes on`);
  }
  return { lines, divergenceLine };
}

/** The lines around the divergence, with a note for what is elided on either side. */
function windowed(lines: readonly string[], at: number): string[] {
  if (at < 0) return [...lines];
  const from = Math.max(0, at - DIVERGENCE_WINDOW.before);
  const to = Math.min(lines.length, at + DIVERGENCE_WINDOW.after + 1);
  return [
    ...(from > 0 ? [`  Note over C,P: … ${from} earlier lines elided`] : []),
    ...lines.slice(from, to),
    ...(to < lines.length ? [`  Note over C,P: … ${lines.length - to} later lines elided`] : []),
  ];
}

/** A complete `sequenceDiagram` for one trace. */
export function sequenceDiagram(trace: readonly TraceStep[], opts: DiagramOptions = {}): Diagram {
  const limit = opts.maxChars ?? MERMAID_BLOCK_LIMIT;
  const head = ["sequenceDiagram", ...PARTICIPANTS.map(([id, name]) => `  participant ${id} as ${name}`)];
  const drawn = body(trace, opts);
  const lines = collapse(windowed(drawn.lines, drawn.divergenceLine));
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
