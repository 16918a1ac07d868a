/**
 * A local fake of the GitHub REST endpoints the bot calls, on 127.0.0.1. It keeps state (pull requests,
 * comments, check runs, reactions), records every request, checks the App JWT and the installation token,
 * and can be told to fail the next matching requests (5xx, 429 with Retry-After), to apply them and answer
 * with a failure anyway (GitHub did the work but the answer says 502), or to hold them (never answer, until
 * released: a held request whose client gave up meanwhile is dropped, never applied).
 */
import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The response status the fake gave. */
  status: number;
  body: unknown;
}

export interface FakeCommit {
  sha: string;
  /** What `GET /repos/o/r/commits/sha` answers with Accept: application/vnd.github.patch. */
  patch: string;
}

export interface FakePull {
  owner: string;
  repo: string;
  number: number;
  title: string;
  body: string;
  baseSha: string;
  commits: FakeCommit[];
}

export interface FakeComment {
  id: number;
  issue: string;
  body: string;
  user: { login: string; type: string };
}

export interface FakeCheckRun {
  id: number;
  repo: string;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  output: { title?: string; summary?: string; text?: string };
}

export interface Fault {
  method?: string;
  path: RegExp;
  /** How many matching requests fail. */
  times: number;
  status: number;
  headers?: Record<string, string>;
  message?: string;
  /** Do what the request asks first, then answer with the failure (the client cannot tell it was done). */
  applied?: boolean;
}

export interface HoldOptions {
  /** How many matching requests are held (default: all until released). */
  times?: number;
  /** Apply the request, then hold its answer (default: hold it before anything is done). */
  applied?: boolean;
}

interface Hold {
  method?: string;
  path: RegExp;
  times: number;
  applied: boolean;
  waiting: Array<() => void>;
  released: boolean;
}

export interface FakeGitHub {
  url: string;
  appId: number;
  requests: RecordedRequest[];
  comments: FakeComment[];
  checkRuns: FakeCheckRun[];
  reactions: Array<{ commentId: number; content: string }>;
  addPull(pull: FakePull): void;
  /** Changes the commits of a pull request (a push). */
  setCommits(owner: string, repo: string, number: number, commits: FakeCommit[]): void;
  fail(fault: Fault): void;
  /** Holds matching requests until `release` is called; `reached` resolves when one arrives. */
  hold(method: string, path: RegExp, options?: HoldOptions): { reached: Promise<void>; release: () => void };
  /** Requests held now (not answered, not released). */
  held(): number;
  /** Faults and holds that took effect so far. */
  injected: { failed: number; appliedThenFailed: number; held: number; appliedThenHeld: number };
  /** Requests that got an answer `status` (e.g. 201 for creations). */
  count(method: string, path: RegExp, status?: number): number;
  close(): Promise<void>;
}

const BOT_USER = { login: "rproc-review[bot]", type: "Bot" };

function decodeSegment(s: string): unknown {
  return JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
}

function checkJwt(auth: string | undefined, key: KeyObject, appId: number): string | null {
  const m = /^bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/i.exec(auth ?? "");
  if (!m) return "expected a Bearer JWT";
  const [, header, payload, signature] = m as unknown as [string, string, string, string];
  const ok = verify(
    "RSA-SHA256",
    Buffer.from(`${header}.${payload}`),
    key,
    Buffer.from(signature, "base64url"),
  );
  if (!ok) return "the JWT signature does not verify with the App's public key";
  const claims = decodeSegment(payload) as { iss?: unknown; exp?: number };
  if (String(claims.iss) !== String(appId)) return `the JWT is for app ${String(claims.iss)}`;
  if (typeof claims.exp !== "number" || claims.exp * 1000 < Date.now()) return "the JWT has expired";
  return null;
}

export async function startFakeGitHub(options: { appId: number; publicKeyPem: string }): Promise<FakeGitHub> {
  const publicKey = createPublicKey(options.publicKeyPem);
  const pulls = new Map<string, FakePull>();
  const tokens = new Set<string>();
  const faults: Fault[] = [];
  const holds: Hold[] = [];
  const requests: RecordedRequest[] = [];
  const comments: FakeComment[] = [];
  const checkRuns: FakeCheckRun[] = [];
  const reactions: Array<{ commentId: number; content: string; id: number }> = [];
  let nextId = 1000;
  const injected = { failed: 0, appliedThenFailed: 0, held: 0, appliedThenHeld: 0 };
  const matches = (rule: { method?: string; path: RegExp }, method: string, path: string) =>
    (rule.method === undefined || rule.method === method) && rule.path.test(path);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const body: unknown = text === "" ? null : JSON.parse(text);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const path = url.pathname;
    const record = (status: number) => requests.push({ method, path, query: url.searchParams, status, body });
    const hold = holds.find((h) => !h.released && h.times > 0 && matches(h, method, path));
    if (hold) {
      hold.times--;
      if (hold.applied) injected.appliedThenHeld++;
      else injected.held++;
    }
    const fault = faults.find((f) => f.times > 0 && matches(f, method, path));
    if (fault) {
      fault.times--;
      if (fault.applied) injected.appliedThenFailed++;
      else injected.failed++;
    }
    const gone = () => res.destroyed || res.writableEnded || req.socket.destroyed;
    const wait = async (h: Hold) => {
      await new Promise<void>((resolve) => h.waiting.push(resolve));
    };
    const send = async (status: number, data: unknown, headers: Record<string, string> = {}) => {
      let answer = { status, data, headers };
      if (fault?.applied) {
        const message = fault.message ?? `injected ${fault.status} after applying the request`;
        answer = { status: fault.status, data: { message }, headers: fault.headers ?? {} };
      }
      if (hold?.applied) await wait(hold);
      record(gone() ? 0 : answer.status);
      if (gone()) return;
      const isText = typeof answer.data === "string";
      res.writeHead(answer.status, {
        "content-type": isText ? "text/plain; charset=utf-8" : "application/json; charset=utf-8",
        ...answer.headers,
      });
      res.end(isText ? answer.data : JSON.stringify(answer.data));
    };

    if (hold && !hold.applied) {
      await wait(hold);
      // The client gave up while the request was held: it never reached GitHub's application.
      if (gone()) return void record(0);
    }

    if (fault && !fault.applied) {
      return send(fault.status, { message: fault.message ?? `injected ${fault.status}` }, fault.headers);
    }

    if (method === "POST" && /^\/app\/installations\/(\d+)\/access_tokens$/.test(path)) {
      const why = checkJwt(req.headers.authorization, publicKey, options.appId);
      if (why) return send(401, { message: why });
      const token = `ghs_fake${String(nextId++).padStart(32, "0")}`;
      tokens.add(token);
      const expires = new Date(Date.now() + 3600_000).toISOString();
      return send(201, { token, expires_at: expires, permissions: {}, repository_selection: "all" });
    }

    const auth = /^(?:token|bearer) (\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (!auth || !tokens.has(auth)) return send(401, { message: "Bad credentials" });

    const repoPath = /^\/repos\/([^/]+)\/([^/]+)\/(.+)$/.exec(path);
    if (!repoPath) return send(404, { message: "Not Found" });
    const [, owner, repo, rest] = repoPath as unknown as [string, string, string, string];
    const full = `${owner}/${repo}`;
    /** The first group of `re` when the request is `verb` on a matching path, else null. */
    const at = (verb: string, re: RegExp): string | null =>
      method === verb ? (re.exec(rest)?.[1] ?? null) : null;

    const a1 = at("GET", /^pulls\/(\d+)$/);
    if (a1 !== null) {
      const pull = pulls.get(`${full}#${a1}`);
      if (!pull) return send(404, { message: "Not Found" });
      return send(200, {
        number: pull.number,
        title: pull.title,
        body: pull.body,
        state: "open",
        html_url: `https://github.com/${full}/pull/${pull.number}`,
        user: { login: "author" },
        created_at: "2026-01-02T03:04:05Z",
        head: { sha: pull.commits.at(-1)?.sha ?? pull.baseSha, ref: "topic" },
        base: { sha: pull.baseSha, ref: "main" },
      });
    }
    const a2 = at("GET", /^pulls\/(\d+)\/commits$/);
    if (a2 !== null) {
      const pull = pulls.get(`${full}#${a2}`);
      if (!pull) return send(404, { message: "Not Found" });
      return send(
        200,
        pull.commits.map((c, i) => ({
          sha: c.sha,
          parents: [{ sha: pull.commits[i - 1]?.sha ?? pull.baseSha }],
          commit: { message: c.patch.split("\n")[3] ?? "" },
        })),
      );
    }
    const a3 = at("GET", /^commits\/([0-9a-f]+)$/);
    if (a3 !== null) {
      const commit = [...pulls.values()].flatMap((p) => p.commits).find((c) => c.sha === a3);
      if (!commit) return send(404, { message: "No commit found" });
      if (!String(req.headers.accept).includes("patch")) return send(415, { message: "ask for the patch" });
      return send(200, commit.patch);
    }
    const a4 = at("GET", /^commits\/([0-9a-f]+)\/check-runs$/);
    if (a4 !== null) {
      const name = url.searchParams.get("check_name");
      const runs = checkRuns.filter(
        (r) => r.repo === full && r.head_sha === a4 && (name === null || r.name === name),
      );
      return send(200, { total_count: runs.length, check_runs: runs });
    }
    if (rest === "check-runs" && method === "POST") {
      const b = body as Omit<FakeCheckRun, "id" | "repo">;
      const run: FakeCheckRun = { ...b, id: nextId++, repo: full, conclusion: b.conclusion ?? null };
      checkRuns.push(run);
      return send(201, run);
    }
    const a5 = at("PATCH", /^check-runs\/(\d+)$/);
    if (a5 !== null) {
      const run = checkRuns.find((r) => r.id === Number(a5) && r.repo === full);
      if (!run) return send(404, { message: "Not Found" });
      Object.assign(run, body);
      return send(200, run);
    }
    const issueNo = /^issues\/(\d+)\/comments$/.exec(rest)?.[1];
    if (issueNo !== undefined) {
      const issue = `${full}#${issueNo}`;
      if (method === "GET")
        return send(
          200,
          comments.filter((c) => c.issue === issue),
        );
      if (method === "POST") {
        const comment: FakeComment = {
          id: nextId++,
          issue,
          body: String((body as { body?: unknown }).body),
          user: BOT_USER,
        };
        comments.push(comment);
        return send(201, comment);
      }
    }
    const a6 = at("PATCH", /^issues\/comments\/(\d+)$/);
    if (a6 !== null) {
      const comment = comments.find((c) => c.id === Number(a6));
      if (!comment) return send(404, { message: "Not Found" });
      comment.body = String((body as { body?: unknown }).body);
      return send(200, comment);
    }
    const a7 = at("POST", /^issues\/comments\/(\d+)\/reactions$/);
    if (a7 !== null) {
      const commentId = Number(a7);
      const content = String((body as { content?: unknown }).content);
      const existing = reactions.find((r) => r.commentId === commentId && r.content === content);
      if (existing) return send(200, { id: existing.id, content, user: BOT_USER });
      const reaction = { commentId, content, id: nextId++ };
      reactions.push(reaction);
      return send(201, { id: reaction.id, content, user: BOT_USER });
    }
    return send(404, { message: `Not Found: ${method} ${path}` });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: `fake crashed: ${String(e)}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    appId: options.appId,
    requests,
    comments,
    checkRuns,
    reactions,
    addPull: (pull) => pulls.set(`${pull.owner}/${pull.repo}#${pull.number}`, pull),
    setCommits(owner, repo, number, commits) {
      const pull = pulls.get(`${owner}/${repo}#${number}`);
      if (!pull) throw new Error(`no pull ${owner}/${repo}#${number}`);
      pull.commits = commits;
    },
    fail: (fault) => faults.push({ ...fault }),
    hold(method, path, options = {}) {
      const h: Hold = {
        method,
        path,
        times: options.times ?? Number.POSITIVE_INFINITY,
        applied: options.applied === true,
        waiting: [],
        released: false,
      };
      let reached: () => void = () => {};
      const promise = new Promise<void>((resolve) => {
        reached = resolve;
      });
      const push = h.waiting.push.bind(h.waiting);
      h.waiting.push = (...fns) => {
        reached();
        return push(...fns);
      };
      holds.push(h);
      return {
        reached: promise,
        release: () => {
          h.released = true;
          for (const w of h.waiting.splice(0)) w();
        },
      };
    },
    held: () => holds.reduce((n, h) => n + h.waiting.length, 0),
    injected,
    count: (method, path, status) =>
      requests.filter(
        (r) => r.method === method && path.test(r.path) && (status === undefined || r.status === status),
      ).length,
    async close() {
      for (const h of holds) {
        h.released = true;
        for (const w of h.waiting.splice(0)) w();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
