import type { DesignFacts, FactPath } from "../facts.ts";

/** Where a fact shows in the series: the patch (1-based), its subject, the file, the function, the post-patch line. */
export interface Evidence {
  patch: number;
  subject: string;
  file: string;
  function: string | null;
  line: number;
}

/** "set": the series changes the fact; "baseline": v6.15 behaviour; "unknown": changed in a way the mapper cannot read. */
export type FactStatus = "set" | "baseline" | "unknown";

/** A change inside a modelled file or function that no fact explains. */
export interface Unmodelled {
  patch: number;
  subject: string;
  file: string;
  function: string | null;
  line: number;
  /** First changed line of the run, trimmed, with the number of changed lines. */
  summary: string;
  /** The scope is data (a type, an initialised table such as an ops table), not a function. */
  data?: boolean;
}

/** A file the model does not cover. */
export interface OutOfScope {
  file: string;
  patches: number[];
  /** A C file the series creates whole: no design fact reads it and no model runs it (named as such). */
  created?: true;
}

export interface MapResult {
  facts: DesignFacts;
  status: Record<FactPath, FactStatus>;
  /** Only for facts the series sets or makes unknown. */
  evidence: Partial<Record<FactPath, Evidence[]>>;
  unmodelled: Unmodelled[];
  outOfScope: OutOfScope[];
  /**
   * The unmodelled changes inside functions of files the series does not create (the core, the STM32
   * driver, …): the model runs those functions as they were, so a scenario that calls one is unknown.
   */
  unmodelledInBase: Unmodelled[];
  /** For each unknown fact: why, in words, and the files behind it. */
  unknownWhy: Partial<Record<FactPath, { why: string; files: string[] }>>;
}

/** What one rule yields for one fact. */
export interface Derived<T> {
  value: T;
  status: FactStatus;
  evidence: Evidence[];
  /** Why an unknown one is unknown, when the rule can say more than that it cannot read the change. */
  why?: string;
}
