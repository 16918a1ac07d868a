/**
 * Bounded exhaustive search over sequences of external events, breadth-first, with every monitor of the model
 * as an invariant. A state is the world after a sequence, identified by Session.hash(); each state of the
 * frontier keeps its world, and a transition runs one event on a fork of it (fork.ts), so a transition costs
 * one event whatever its depth. A sequence whose state was already seen is not extended, and its teardown is
 * not run again (the state decides what teardown finds). A finding is identified by (kind, C function); BFS
 * order makes the first sequence that raises it a shortest one.
 */
import type { Fixtures } from "../emulator/api.ts";
import { UsageError } from "../errors.ts";
import type { Finding, TraceStep, UnknownReason } from "../scenarios/result.ts";
import { type FactPath, trackFactReads } from "../semantics/facts.ts";
import {
  EVENT_IDS,
  type EventId,
  isEventId,
  type RunOutcome,
  runEvents,
  runsC,
  Session,
  type SessionDesign,
  stoppedBy,
} from "./session.ts";

export interface ExploreOptions {
  /** Longest sequence explored. */
  depth: number;
  /** Events the search may use (default: all). */
  events?: readonly EventId[];
  /**
   * Check the search's one assumption (the state hash decides what teardown finds) instead of relying on it:
   * run teardown after every transition and throw when a known state's teardown finds something the first
   * sequence that reached it never raised, naming both sequences. (Not "the same teardown findings": a
   * monitor reports a kind once per function and run, so history can make a teardown find less.) The tests
   * run it on every built-in design; `explore --audit` on any. Slower: a teardown per transition.
   */
  audit?: boolean;
  /**
   * How many frontier states keep their world (about 50 KB each); the states beyond rebuild theirs by replaying
   * their sequence when their turn comes. Default 10,000.
   */
  keepWorlds?: number;
  /** Called after each transition with the running counts. */
  onProgress?: (p: ExploreProgress) => void;
}

export interface ExploreProgress {
  version: string;
  depth: number;
  /** Transitions run (sequences executed). */
  transitions: number;
  /** Distinct states reached. */
  states: number;
  findings: number;
  elapsedMs: number;
}

export interface ExploredFinding {
  finding: Finding;
  /** A shortest sequence of events (from the bound world) that raises it. */
  events: EventId[];
  /** The trace of that sequence, teardown included. */
  trace: TraceStep[];
}

export interface ExploreResult {
  version: string;
  depth: number;
  events: EventId[];
  /** Distinct states reached (the initial one included). */
  states: number;
  /** Transitions run: one event on a fork of a reached state. */
  transitions: number;
  /** Events executed in total: one per transition, plus the sequences replayed past `keepWorlds`. */
  eventsRun: number;
  /** Teardowns run (with their leak checks): one per distinct state, and for events that raised a new finding. */
  teardowns: number;
  /** Frontier states whose world was rebuilt by replay (past `keepWorlds`). */
  replayed: number;
  /** Distinct states per depth, depth 0 first. */
  statesPerDepth: number[];
  elapsedMs: number;
  findings: ExploredFinding[];
  /** Whether the search ran the design's posted C (its files from C, as its matrix cells did). */
  fromC: boolean;
  /**
   * The design facts the search read, for a search of posted C (what the hand model's files around the C
   * read: a fact of a file that ran from C is not); null for a search of the facts' model, which reads any.
   */
  factsRead: FactPath[] | null;
  /**
   * Sequences the posted C could not run to their end (an API or construct the interpreter lacks, a fault):
   * not extended, so what lies past them was not searched.
   */
  stopped: StoppedSequence[];
}

export interface StoppedSequence {
  /** The events up to and including the one it stopped in ([]: binding the drivers). */
  events: EventId[];
  reason: UnknownReason;
}

/** A design the explorer runs: its facts over the hand model, with the posted C its files run from. */
export interface Explorable extends SessionDesign {
  id: string;
  /**
   * How a replay command names this design (default `--version <id>`): an input's path, or `--variant <file>`
   * for a variant, so that the printed command runs the same design.
   */
  replayAs?: string;
}

/** A finding's identity in a search: its kind and the C function that raised it. */
export const findingKey = (f: Finding): string => `${f.kind}\u0000${f.at}`;

const DEFAULT_KEEP_WORLDS = 10_000;

/** Parses "a,b,c" into event ids (UsageError naming the unknown one). */
export function parseEvents(text: string, subject = "--events"): EventId[] {
  const ids = text
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
  for (const id of ids) {
    if (!isEventId(id)) {
      throw new UsageError(`unknown event "${id}" (known: ${EVENT_IDS.join(", ")})`, { subject });
    }
  }
  return ids as EventId[];
}

export async function explore(
  given: Explorable,
  fixtures: Fixtures,
  opts: ExploreOptions,
): Promise<ExploreResult> {
  // A search of posted C records the facts it reads (as a matrix cell does): the C's own file reads none.
  const tracked = runsC(given) ? trackFactReads(given.facts) : null;
  const design: Explorable = tracked === null ? given : { ...given, facts: tracked.facts };
  const factsRead = (): FactPath[] | null => (tracked === null ? null : [...tracked.reads].sort());
  if (!Number.isInteger(opts.depth) || opts.depth < 0) {
    throw new UsageError(`depth must be a non-negative integer, not ${opts.depth}`, { subject: "--depth" });
  }
  const allowed = opts.events ?? EVENT_IDS;
  const started = performance.now();
  const found = new Map<string, ExploredFinding>();
  const record = (events: EventId[], out: RunOutcome): void => {
    for (const f of out.findings) {
      const key = findingKey(f);
      if (!found.has(key)) found.set(key, { finding: f, events, trace: out.trace });
    }
  };
  const fromC = runsC(design);
  const stopped: StoppedSequence[] = [];
  /** Runs `f`; a stop of the posted C (not a bug of ours) records the sequence and gives null. */
  const attempt = async <T>(events: EventId[], f: () => Promise<T>): Promise<T | null> => {
    try {
      return await f();
    } catch (e) {
      const reason = stoppedBy(design, e);
      if (reason === null) throw e;
      stopped.push({ events, reason });
      return null;
    }
  };
  let teardowns = 0;
  const finish = (x: Session): Promise<RunOutcome> => {
    teardowns++;
    return x.finish();
  };
  const root = await attempt([], () => Session.start(design, fixtures));
  if (root === null) {
    return {
      version: design.id,
      depth: opts.depth,
      events: [...allowed],
      states: 0,
      transitions: 0,
      eventsRun: 0,
      teardowns: 0,
      replayed: 0,
      statesPerDepth: [0],
      elapsedMs: performance.now() - started,
      findings: [],
      fromC,
      factsRead: factsRead(),
      stopped,
    };
  }
  const seen = new Set<string>([root.hash()]);
  /** Under audit: per state, its first sequence and everything that sequence's run raised. */
  const audited = new Map<string, { events: EventId[]; raised: Set<string> }>();
  const keepWorlds = opts.keepWorlds ?? DEFAULT_KEEP_WORLDS;
  let replayed = 0;
  let replayedEvents = 0;
  /** A frontier state's world: kept, or rebuilt from its sequence (past `keepWorlds`). */
  const worldOf = async (node: { seq: EventId[]; session: Session | null }): Promise<Session> => {
    if (node.session !== null) return node.session;
    replayed++;
    replayedEvents += node.seq.length;
    const s = await Session.start(design, fixtures);
    for (const e of node.seq) await s.apply(e);
    return s;
  };
  /** A copy of `s` (a world of posted C replays its sequence: counted in eventsRun). */
  const fork = (s: Session): Promise<Session> => {
    replayedEvents += s.forkCost;
    return s.copy();
  };
  let frontier: { seq: EventId[]; session: Session | null; enabled: EventId[] }[] = [
    { seq: [], session: root, enabled: root.enabledEvents(allowed) },
  ];
  const rootOut = await attempt([], async () => finish(opts.depth > 0 ? await fork(root) : root));
  if (rootOut !== null) record([], rootOut);
  let transitions = 0;
  const statesPerDepth = [1];
  const progress = (depth: number): void =>
    opts.onProgress?.({
      version: design.id,
      depth,
      transitions,
      states: seen.size,
      findings: found.size,
      elapsedMs: performance.now() - started,
    });
  for (let depth = 1; depth <= opts.depth && frontier.length > 0; depth++) {
    const next: typeof frontier = [];
    const last = depth === opts.depth;
    let reached = 0;
    for (const node of frontier) {
      const { seq, enabled } = node;
      const session = await worldOf(node);
      node.session = null;
      for (let i = 0; i < enabled.length; i++) {
        const e = enabled[i] as EventId;
        const events = [...seq, e];
        // The last event of a state runs on the state's own world: nothing needs it afterwards.
        const s = i === enabled.length - 1 ? session : await fork(session);
        const raisedBefore = s.w.monitors.findings.length;
        transitions++;
        if ((await attempt(events, () => s.apply(e).then(() => true))) === null) {
          progress(depth);
          continue;
        }
        const h = s.hash();
        const raisedByEvent = s.w.monitors.findings.length;
        if (!seen.has(h)) {
          seen.add(h);
          reached++;
          // The frontier keeps the state's world, and teardown runs on a fork of it; a world of posted C is not
          // kept (keeping it would save one replay of its sequence, at the memory of a whole interpreter): the
          // teardown runs on it, and the state's turn rebuilds it by replay, as a copy would.
          const keep = !last && !s.fromC && next.length < keepWorlds;
          const enabledNext = last ? [] : s.enabledEvents(allowed);
          const out = await attempt(events, async () => finish(keep ? await fork(s) : s));
          if (out === null) {
            progress(depth);
            continue;
          }
          record(events, out);
          if (opts.audit) audited.set(h, { events, raised: new Set(out.findings.map(findingKey)) });
          if (!last) next.push({ seq: events, session: keep ? s : null, enabled: enabledNext });
        } else if (opts.audit) {
          const out = await attempt(events, () => finish(s));
          if (out === null) {
            progress(depth);
            continue;
          }
          record(events, out);
          const first = audited.get(h);
          const missed = out.findings.slice(raisedByEvent).filter((f) => !first?.raised.has(findingKey(f)));
          if (first !== undefined && missed.length > 0) {
            throw new Error(
              `${design.id}: state hash collision: ${first.events.join(",")} and ${events.join(",")} share a hash, but only the teardown of the second finds ${missed.map((f) => `${f.kind} in ${f.at}`).join(", ")}`,
            );
          }
        } else if (s.w.monitors.findings.slice(raisedBefore).some((f) => !found.has(findingKey(f)))) {
          // A known state, but the event itself raised something new: its trace needs the teardown too.
          const out = await attempt(events, () => finish(s));
          if (out !== null) record(events, out);
        }
        progress(depth);
      }
    }
    statesPerDepth.push(reached);
    frontier = next;
  }
  return {
    version: design.id,
    depth: opts.depth,
    events: [...allowed],
    states: seen.size,
    transitions,
    eventsRun: transitions + replayedEvents,
    teardowns,
    replayed,
    statesPerDepth,
    elapsedMs: performance.now() - started,
    findings: [...found.values()],
    fromC,
    factsRead: factsRead(),
    stopped,
  };
}

/** Replays `events` on a design; a UsageError names the first event that makes no sense where it stands. */
export async function replay(
  design: Explorable,
  events: readonly EventId[],
  fixtures: Fixtures,
): Promise<RunOutcome> {
  const out = await runEvents(design, events, fixtures);
  if ("notEnabled" in out) {
    const i = out.notEnabled;
    const before = i === 0 ? "right after the drivers bind" : `after ${events.slice(0, i).join(",")}`;
    throw new UsageError(`event ${i + 1} "${events[i]}" makes no sense on ${design.id} ${before}`, {
      subject: "--events",
    });
  }
  return out;
}

/**
 * Memoised runs: a run is a pure function of (design, events), so findings that share a sequence (a teardown
 * often leaks several kinds of objects at once) replay it once per design during classification.
 */
export class RunMemo {
  private readonly runs = new Map<string, Promise<RunOutcome | { notEnabled: number }>>();
  /** Runs actually executed (cache misses). */
  executed = 0;
  constructor(private readonly fixtures: Fixtures) {}
  run(design: Explorable, events: readonly EventId[]): Promise<RunOutcome | { notEnabled: number }> {
    const key = `${design.id}\u0000${events.join(",")}`;
    let out = this.runs.get(key);
    if (out === undefined) {
      this.executed++;
      out = runEvents(design, events, this.fixtures);
      this.runs.set(key, out);
    }
    return out;
  }
}

/** Whether the same sequence raises a finding of the same kind in the same function on `design`. */
export async function reproduces(
  design: Explorable,
  events: readonly EventId[],
  finding: Finding,
  memo: RunMemo,
): Promise<boolean | "inexpressible"> {
  const out = await memo.run(design, events);
  if ("notEnabled" in out) return "inexpressible";
  return out.findings.some((f) => findingKey(f) === findingKey(finding));
}

export interface Classification {
  /** pre-existing: the same sequence raises it on the baseline (mainline); introduced otherwise. */
  status: "pre-existing" | "introduced";
  /** What the baseline did with the sequence: raised it, did not, or cannot run it (TEE-only events). */
  baseline: "present" | "absent" | "inexpressible";
  /** For introduced findings: the earliest design of the contiguous run before this one that raises it too. */
  introducedIn: string | null;
}

/**
 * Classifies a finding of `self`: runs its sequence on `baseline` (pre-existing when it raises the same kind in
 * the same function there), then walks `earlier` (oldest first) back from `self` to find where it appeared.
 */
export async function classify(
  f: ExploredFinding,
  self: Explorable,
  baseline: Explorable,
  earlier: readonly Explorable[],
  memo: RunMemo,
): Promise<Classification> {
  if (baseline.id === self.id) return { status: "pre-existing", baseline: "present", introducedIn: null };
  const there = await reproduces(baseline, f.events, f.finding, memo);
  if (there === true) return { status: "pre-existing", baseline: "present", introducedIn: null };
  let introducedIn = self.id;
  for (let i = earlier.length - 1; i >= 0; i--) {
    const d = earlier[i] as Explorable;
    if ((await reproduces(d, f.events, f.finding, memo)) !== true) break;
    introducedIn = d.id;
  }
  return { status: "introduced", baseline: there === false ? "absent" : "inexpressible", introducedIn };
}
