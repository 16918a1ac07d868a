/** The review's default exploration depth: every sequence of up to three events, well under a second. */
export const REVIEW_EXPLORE_DEPTH = 3;
/**
 * The CLI review's default depth of scheduling choices in the interleaving scenarios (src/compare/interleave.ts),
 * chosen so the whole `review --format markdown` stays within 2 s on the 2-core machine (README: Review): on a
 * quiet machine v16's review took a median 1.56 s at 5 (1.70 s at 6, with less to spare under load).
 */
export const REVIEW_INTERLEAVE_DEPTH = 5;
