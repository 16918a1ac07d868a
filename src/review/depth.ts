/** The review's default exploration depth: every sequence of up to three events, well under a second. */
export const REVIEW_EXPLORE_DEPTH = 3;
/**
 * The review's default exploration depth when a side runs posted C (explored on its C: each transition builds
 * a world of the design and replays its sequence, src/explore/session.ts copy()), both sides alike: v16's
 * TEE driver from C took 0.27 s at depth 2 and 0.84 s at 3 (269 transitions, 731 events run) against 0.10 s
 * for its facts over the hand model at 3, which would put `review` over its 2 s (README: Review).
 */
export const REVIEW_EXPLORE_DEPTH_C = 2;
/**
 * The CLI review's default depth of scheduling choices in the interleaving scenarios (src/compare/interleave.ts),
 * chosen so the whole `review --format markdown` stays within 2 s on the 2-core machine (README: Review): on a
 * quiet machine v16's review took a median 1.56 s at 5 (1.70 s at 6, with less to spare under load).
 */
export const REVIEW_INTERLEAVE_DEPTH = 5;
