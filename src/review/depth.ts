/** The review's default exploration depth: every sequence of up to three events, well under a second. */
export const REVIEW_EXPLORE_DEPTH = 3;
