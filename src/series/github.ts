import { Octokit, RequestError } from "octokit";
import { InputError, UsageError } from "../errors.ts";
import { linkedMessageIds, parseChangelog, parseTags } from "./body.ts";
import { DEFAULT_LIMITS, parseMbox } from "./ingest.ts";
import { parseSubject, versionLabel } from "./subject.ts";
import type { CoverLetter, IngestLimits, IngestWarning, Patch, Series, SeriesVersion } from "./types.ts";

export interface PullRequestSpec {
  owner: string;
  repo: string;
  number: number;
}

export interface PullRequestOptions {
  /** GitHub REST API root; default https://api.github.com (the CLI passes GITHUB_API_URL). */
  baseUrl?: string;
  token?: string;
  /** A ready client (a GitHub App installation client in the bot); baseUrl and token are then unused. */
  octokit?: Octokit;
  limits?: Partial<IngestLimits>;
}

const PR_SPEC = /^pr:([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)#(\d+)$/;

export function parsePullRequestSpec(spec: string): PullRequestSpec {
  const m = PR_SPEC.exec(spec.trim());
  if (!m) throw new UsageError(`not a pull request input: "${spec}" (expected pr:owner/repo#number)`);
  return { owner: m[1] as string, repo: m[2] as string, number: Number(m[3]) };
}

/**
 * "v3" from a title or body that says so ("[PATCH v3]", "foo v3", "v5.1:"), else from the head branch's name
 * ("rproc-tee-v17", "sent/rproc-tee-v17", "topic/v3"), else v1.
 */
export function prVersion(title: string, body: string, headRef = ""): SeriesVersion {
  const fromSubject = parseSubject(title);
  if (fromSubject.isPatch) return fromSubject.version;
  const m =
    /(?:^|[\s[(])v(\d+)(?:\.(\d+))?(?=$|[\s\]):,])/i.exec(`${title}\n${body}`) ??
    /(?:^|[-_/])v(\d+)(?:\.(\d+))?$/i.exec(headRef);
  const major = m ? Number(m[1]) : 1;
  const minor = m?.[2] === undefined ? null : Number(m[2]);
  const resend = /\bRESEND\b/.test(title);
  return { label: versionLabel(major, minor), major, minor, resend, rfc: /\bRFC\b/.test(title), tags: [] };
}

function describe(e: unknown, what: string): InputError {
  if (e instanceof RequestError) {
    const why =
      e.status === 404 ? "not found" : e.status === 401 || e.status === 403 ? "access denied" : e.message;
    return new InputError(`GitHub answered ${e.status} for ${what}: ${why}`, { cause: e });
  }
  return new InputError(`cannot read ${what} from GitHub: ${e instanceof Error ? e.message : String(e)}`, {
    cause: e,
  });
}

/**
 * Reads a pull request as a series: each commit (oldest first) is a patch, the PR title and body are the
 * cover letter, the base branch's sha is the base.
 */
export async function fetchPullRequest(
  spec: string | PullRequestSpec,
  opts: PullRequestOptions = {},
): Promise<Series> {
  const pr = typeof spec === "string" ? parsePullRequestSpec(spec) : spec;
  const name = `pr:${pr.owner}/${pr.repo}#${pr.number}`;
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const octokit =
    opts.octokit ??
    new Octokit({
      ...(opts.baseUrl ? { baseUrl: opts.baseUrl.replace(/\/+$/, "") } : {}),
      ...(opts.token ? { auth: opts.token } : {}),
      retry: { enabled: false },
      throttle: { enabled: false },
    });
  const params = { owner: pr.owner, repo: pr.repo, pull_number: pr.number };
  try {
    const { data } = await octokit.rest.pulls.get(params);
    const commits = await octokit.paginate(octokit.rest.pulls.listCommits, { ...params, per_page: 100 });
    if (commits.length === 0) throw new InputError("the pull request has no commits", { subject: name });
    const patches: Patch[] = [];
    const warnings: IngestWarning[] = [];
    let bytes = 0;
    for (const commit of commits) {
      const origin = `${name}@${commit.sha.slice(0, 12)}`;
      const skip = (why: string): void => {
        warnings.push({ code: "not-a-patch", message: `${origin}: ${why}; skipped`, mail: origin });
      };
      if ((commit.parents?.length ?? 0) > 1) {
        skip("a merge commit");
        continue;
      }
      const res = await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
        owner: pr.owner,
        repo: pr.repo,
        ref: commit.sha,
        mediaType: { format: "patch" },
      });
      const raw = new TextEncoder().encode(String(res.data));
      bytes += raw.length;
      if (bytes > limits.maxInputBytes) {
        throw new InputError(`input too large: over ${limits.maxInputBytes} bytes`, { subject: name });
      }
      const one = await parseMbox(raw, origin, limits).then(
        ([series]) => series,
        (e: unknown) => {
          if (e instanceof InputError && e.message.startsWith("no patch found")) return null;
          throw e;
        },
      );
      const patch = one?.patches[0];
      if (!one || !patch) {
        skip("a commit without changes");
        continue;
      }
      // The pull request numbers its commits itself: what a commit's subject says of a series (a cover
      // letter, "[PATCH 1/100000000]" and the patches it would miss) does not apply.
      const ignored = new Set<IngestWarning["code"]>(["no-cover-letter", "missing-patch", "total-mismatch"]);
      warnings.push(...one.warnings.filter((w) => !ignored.has(w.code)));
      patches.push(patch);
    }
    if (patches.length === 0)
      throw new InputError("the pull request has no commit with changes", { subject: name });
    patches.forEach((p, i) => {
      p.index = i + 1;
      p.total = patches.length;
    });
    const body = data.body ?? "";
    const tags = parseTags(body);
    const version = prVersion(data.title, body, data.head?.ref ?? "");
    const author = { name: data.user?.login ?? "", email: "" };
    const cover: CoverLetter = {
      messageId: `${pr.owner}/${pr.repo}/pull/${pr.number}@github.com`,
      subject: data.title,
      inReplyTo: null,
      references: [],
      author,
      date: data.created_at ? new Date(data.created_at).toISOString() : null,
      origin: data.html_url ?? name,
      title: parseSubject(data.title).title,
      body,
      changelog: parseChangelog(body, "cover", null),
    };
    return {
      id: version.label + (version.resend ? "-resend" : ""),
      title: cover.title,
      version,
      base: tags.base ?? data.base.sha,
      testedOn: tags.testedOn,
      changeId: tags.changeId,
      prerequisites: tags.prerequisites,
      cover,
      patches,
      total: patches.length,
      missing: [],
      author: patches[0]?.author.email ? (patches[0]?.author ?? author) : author,
      date: cover.date,
      origin: name,
      mentions: linkedMessageIds(body),
      warnings,
    };
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw describe(e, name);
  }
}
