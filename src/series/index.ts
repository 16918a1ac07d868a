/**
 * Public API of series ingestion (Workers-safe: no node: imports, no Buffer).
 *
 * Functions (landing in the next commits, in this module):
 *   parseMbox(bytes: Uint8Array, origin: string, limits?: Partial<IngestLimits>): Promise<Series[]>
 *   parseMessages(messages: { name: string; bytes: Uint8Array }[], origin?: string, limits?): Promise<Series[]>
 *   fetchPullRequest(spec: string | PullRequestSpec, opts: { baseUrl?; token?; octokit? }): Promise<Series>
 *   chainVersions(series: Series[]): SeriesChain
 *   patchId(files: FileChange[]): string
 *   newFileContent(file: FileChange): string | null   // full content of a file the patch adds
 *   parseSubject(subject: string): SubjectInfo        // version, resend, rfc, i/N, title
 * Node-only input resolution (paths, directories, git ranges) is in src/node/inputs.ts:
 *   loadInput(spec: string, opts?): Promise<Series>; loadInputs(specs: string[], opts?): Promise<Series[]>
 */
export type * from "./types.ts";
