import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { STICKY_MARKER } from "../../src/bot/jobs.ts";
import { SqliteStore } from "../../src/node/sqlite-store.ts";
import {
  commit,
  deliver,
  eventually,
  type Harness,
  harness,
  jobCounts,
  PKCS1_KEY,
  PKCS8_KEY,
  SECRET,
  testEngine,
} from "./helpers.ts";

interface Example {
  name: string;
  examples: Array<Record<string, unknown>>;
}
const examples = createRequire(import.meta.url)("@octokit/webhooks-examples") as Example[];

type PullRequestPayload = {
  action: string;
  number: number;
  installation?: { id: number };
  repository: { name: string; owner: { login: string } };
  pull_request: { number: number; head: { sha: string } };
};

/** The real example of a pull_request "opened" delivery with an installation (Codertocat/Hello-World#2). */
function openedExample(): PullRequestPayload {
  const set = examples.find((e) => e.name === "pull_request");
  const found = set?.examples.find((p) => p.action === "opened" && p.installation !== undefined);
  if (!found) throw new Error("no pull_request opened example with an installation");
  return structuredClone(found) as unknown as PullRequestPayload;
}

function synchronize(base: PullRequestPayload, headSha: string): PullRequestPayload {
  const p = structuredClone(base);
  p.action = "synchronize";
  p.pull_request.head.sha = headSha;
  return p;
}

/** The real issue_comment "created" example, moved onto the pull request with the given body. */
function commentExample(body: string, association = "OWNER", id = 5001): Record<string, unknown> {
  const set = examples.find((e) => e.name === "issue_comment");
  const found = set?.examples.find((p) => p.action === "created" && p.installation !== undefined);
  if (!found) throw new Error("no issue_comment created example with an installation");
  const p = structuredClone(found) as {
    issue: { number: number; pull_request?: unknown };
    comment: { id: number; body: string; author_association: string };
  };
  p.issue.number = openedExample().number;
  p.issue.pull_request = { url: "https://api.github.com/repos/Codertocat/Hello-World/pulls/2" };
  p.comment.id = id;
  p.comment.body = body;
  p.comment.author_association = association;
  return p as unknown as Record<string, unknown>;
}

const PR = openedExample();
const OWNER = PR.repository.owner.login;
const REPO = PR.repository.name;
const HEAD = PR.pull_request.head.sha;
const HEAD2 = "b".repeat(40);

function addExamplePull(h: Harness): void {
  h.fake.addPull({
    owner: OWNER,
    repo: REPO,
    number: PR.number,
    title: "[PATCH v2] remoteproc: tee support",
    body: "Changes since v1: none",
    baseSha: "a".repeat(40),
    commits: [commit("1".repeat(40), "remoteproc: add tee"), commit(HEAD, "remoteproc: use tee")],
  });
}

const COMMENTS = /\/issues\/\d+\/comments$/;
const CHECK_RUNS = /\/check-runs$/;

let h: Harness | null = null;
afterEach(async () => {
  if (h) {
    const logs = h.logs.join("\n");
    await h.close();
    h = null;
    // No log line, in any test, shows a secret.
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain("ghs_fake");
    expect(logs).not.toMatch(/BEGIN (RSA )?PRIVATE KEY/);
  }
});

describe("bot over HTTP", () => {
  it("answers /healthz", async () => {
    h = await harness(testEngine());
    const s = await h.start();
    const res = await fetch(`${s.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", jobs: { pending: 0, running: 0, done: 0, failed: 0 } });
  });

  it("turns a pull request delivery into one sticky comment and one check run, also when it repeats", async () => {
    const engine = testEngine();
    h = await harness(engine, PKCS8_KEY);
    addExamplePull(h);
    const s = await h.start();
    const id = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
    const first = await deliver(s.url, "pull_request", PR, { id });
    expect(first).toEqual({ status: 202, body: { status: "queued", job: 1, enqueued: true } });
    const fake = h.fake;
    await eventually("the check run", () => fake.checkRuns.length === 1);
    const again = await deliver(s.url, "pull_request", PR, { id });
    expect(again).toEqual({ status: 200, body: { status: "duplicate", job: 1 } });
    await eventually("the job done", async () => (await jobCounts(s.url)).done === 1);

    expect(fake.comments).toHaveLength(1);
    const [comment] = fake.comments;
    expect(comment?.body.startsWith(STICKY_MARKER)).toBe(true);
    expect(comment?.body).toContain("patches: remoteproc: add tee, remoteproc: use tee");
    expect(comment?.body).toContain("against: mainline");
    expect(fake.checkRuns).toEqual([
      expect.objectContaining({
        name: "rproc-review",
        head_sha: HEAD,
        status: "completed",
        conclusion: "neutral",
        output: { title: "v2: 2 patches", summary: "against mainline" },
      }),
    ]);
    expect(await jobCounts(s.url)).toEqual({ pending: 0, running: 0, done: 1, failed: 0 });
    expect(engine.reviews).toHaveLength(1);
  });

  it("edits the sticky comment in place on a push and reviews against the previous revision", async () => {
    const engine = testEngine();
    h = await harness(engine);
    addExamplePull(h);
    const s = await h.start();
    await deliver(s.url, "pull_request", PR);
    const fake = h.fake;
    await eventually("the first check run", () => fake.checkRuns.length === 1);
    fake.setCommits(OWNER, REPO, PR.number, [
      commit("3".repeat(40), "remoteproc: add tee v3"),
      commit(HEAD2, "x"),
    ]);
    expect((await deliver(s.url, "pull_request", synchronize(PR, HEAD2))).status).toBe(202);
    await eventually("the second check run", () => fake.checkRuns.length === 2);

    expect(fake.comments).toHaveLength(1);
    expect(fake.comments[0]?.body).toContain("patches: remoteproc: add tee v3, x");
    expect(fake.comments[0]?.body).toContain(`against: v2@${HEAD.slice(0, 7)}`);
    expect(fake.count("POST", COMMENTS, 201)).toBe(1);
    expect(fake.count("PATCH", /\/issues\/comments\/\d+$/, 200)).toBe(1);
    expect(fake.checkRuns.map((r) => r.head_sha)).toEqual([HEAD, HEAD2]);
    expect(engine.reviews.map((r) => r.against)).toEqual(["mainline", `v2@${HEAD.slice(0, 7)}`]);

    // A force-push back to the first head: reviewed again, the comment follows, its check run is updated.
    fake.setCommits(OWNER, REPO, PR.number, [
      commit("1".repeat(40), "remoteproc: add tee"),
      commit(HEAD, "y"),
    ]);
    await deliver(s.url, "pull_request", synchronize(PR, HEAD));
    await eventually("the third review", async () => (await jobCounts(s.url)).done === 3);
    expect(fake.comments).toHaveLength(1);
    expect(fake.comments[0]?.body).toContain("patches: remoteproc: add tee, y");
    expect(fake.checkRuns.map((r) => r.head_sha)).toEqual([HEAD, HEAD2]);
    expect(fake.count("PATCH", /\/check-runs\/\d+$/, 200)).toBe(1);
  });

  it("posts exactly once when GitHub fails twice first (5xx, then 429 with Retry-After)", async () => {
    h = await harness(testEngine());
    addExamplePull(h);
    const fake = h.fake;
    fake.fail({ method: "POST", path: COMMENTS, times: 2, status: 502 });
    fake.fail({
      method: "POST",
      path: CHECK_RUNS,
      times: 2,
      status: 429,
      headers: { "retry-after": "1" },
      message: "You have exceeded a secondary rate limit",
    });
    const s = await h.start();
    await deliver(s.url, "pull_request", PR);
    await eventually("the job done", async () => (await jobCounts(s.url)).done === 1);

    expect(fake.count("POST", COMMENTS, 502)).toBe(2);
    expect(fake.count("POST", CHECK_RUNS, 429)).toBe(2);
    expect(fake.comments).toHaveLength(1);
    expect(fake.checkRuns).toHaveLength(1);
  });

  it("posts one comment and one check run when GitHub applies the POSTs and answers 502", async () => {
    h = await harness(testEngine());
    addExamplePull(h);
    const fake = h.fake;
    // GitHub does the work, then answers as if it had failed; octokit's retry plugin would post again.
    fake.fail({ method: "POST", path: COMMENTS, times: 2, status: 502, applied: true });
    fake.fail({ method: "POST", path: CHECK_RUNS, times: 2, status: 502, applied: true });
    const s = await h.start();
    await deliver(s.url, "pull_request", PR);
    await eventually("the job done", async () => (await jobCounts(s.url)).done === 1);

    expect(fake.count("POST", COMMENTS, 502)).toBe(1);
    expect(fake.count("POST", CHECK_RUNS, 502)).toBe(1);
    expect(fake.count("POST", COMMENTS, 201) + fake.count("POST", CHECK_RUNS, 201)).toBe(0);
    expect(fake.comments).toHaveLength(1);
    expect(fake.comments[0]?.body).toContain("patches: remoteproc: add tee, remoteproc: use tee");
    expect(fake.checkRuns).toHaveLength(1);
    expect(fake.checkRuns[0]).toMatchObject({ head_sha: HEAD, external_id: "rproc-review:outbox:2" });
    const adopted = h.logs.map((l) => JSON.parse(l)).filter((l) => l.event === "github.adopted");
    expect(adopted.map((l) => l.what)).toEqual([
      `comment ${STICKY_MARKER} on ${OWNER}/${REPO}#${PR.number}`,
      `check run rproc-review on ${OWNER}/${REPO}@${HEAD}`,
    ]);
  });

  it("adopts what a POST created when GitHub applied it and never answered", async () => {
    h = await harness(testEngine());
    addExamplePull(h);
    const fake = h.fake;
    fake.hold("POST", COMMENTS, { times: 1, applied: true });
    fake.hold("POST", CHECK_RUNS, { times: 1, applied: true });
    const s = await h.start({ RPROC_REQUEST_TIMEOUT_MS: "500" });
    await deliver(s.url, "pull_request", PR);
    await eventually("the job done", async () => (await jobCounts(s.url)).done === 1);
    expect(fake.comments).toHaveLength(1);
    expect(fake.checkRuns).toHaveLength(1);
    expect(fake.count("POST", COMMENTS)).toBe(0);
    expect(h.logs.filter((l) => JSON.parse(l).event === "github.adopted")).toHaveLength(2);
  });

  it("retries the job when GitHub keeps failing beyond the client's retries", async () => {
    h = await harness(testEngine());
    addExamplePull(h);
    const fake = h.fake;
    // One client retry per request, so five 503s on creating the comment fail the first attempts of the job.
    fake.fail({ method: "POST", path: COMMENTS, times: 5, status: 503 });
    const s = await h.start({ RPROC_GITHUB_RETRIES: "1" });
    await deliver(s.url, "pull_request", PR);
    await eventually("the job done", async () => (await jobCounts(s.url)).done === 1);

    expect(fake.count("POST", COMMENTS, 503)).toBe(5);
    expect(fake.comments).toHaveLength(1);
    expect(fake.checkRuns).toHaveLength(1);
    // The pull request was read once: a retried job only re-delivers what its outbox still holds.
    expect(fake.count("GET", /\/pulls\/\d+\/commits$/)).toBe(1);
    expect(h.logs.some((l) => JSON.parse(l).event === "job.retry")).toBe(true);
  });

  it("rejects forged deliveries with 401 and writes nothing", async () => {
    h = await harness(testEngine());
    addExamplePull(h);
    const s = await h.start();
    const forged = [
      await deliver(s.url, "pull_request", PR, { signature: null }),
      await deliver(s.url, "pull_request", PR, { signature: `sha256=${"0".repeat(64)}` }),
      await deliver(s.url, "pull_request", PR, { signature: "sha1=abc" }),
      await deliver(s.url, "pull_request", PR, { signature: "" }),
    ];
    for (const r of forged) expect(r.status).toBe(401);
    expect(forged[0]?.body.error).toBe("missing X-Hub-Signature-256");
    expect(forged[1]?.body.error).toBe("bad signature");
    await h.stop();

    const store = new SqliteStore(h.dbPath);
    try {
      expect(await store.stats()).toEqual({ deliveries: 0, jobs: 0, versions: 0, runs: 0, outbox: 0 });
    } finally {
      store.close();
    }
    expect(h.fake.requests).toEqual([]);
  });

  it("refuses a payload over GitHub's 25 MB with 413, before reading it whole", async () => {
    h = await harness(testEngine());
    const s = await h.start();
    const huge = "x".repeat(25 * 1024 * 1024 + 1);
    const r = await deliver(s.url, "pull_request", null, { rawBody: huge, signature: "sha256=00" });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/^payload too large/);
  });

  it("rejects a body changed after signing", async () => {
    h = await harness(testEngine());
    const s = await h.start();
    const { Webhooks } = await import("@octokit/webhooks");
    const signature = await new Webhooks({ secret: SECRET }).sign(JSON.stringify(PR));
    const tampered = JSON.stringify({ ...PR, action: "synchronize" });
    const r = await deliver(s.url, "pull_request", PR, { signature, rawBody: tampered });
    expect(r).toEqual({ status: 401, body: { error: "bad signature" } });
    expect(await jobCounts(s.url)).toEqual({ pending: 0, running: 0, done: 0, failed: 0 });
  });

  it("records but ignores events it does not handle, and answers 400 to a malformed payload", async () => {
    h = await harness(testEngine());
    const s = await h.start();
    const closed = { ...structuredClone(PR), action: "closed" };
    expect(await deliver(s.url, "pull_request", closed)).toEqual({
      status: 202,
      body: { status: "ignored", reason: "pull_request closed does not change the series" },
    });
    expect((await deliver(s.url, "ping", { zen: "Keep it logically awesome." })).body.status).toBe("ignored");
    const bad = await deliver(s.url, "pull_request", { action: "opened" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^malformed pull_request payload: repository/);
    expect(await jobCounts(s.url)).toEqual({ pending: 0, running: 0, done: 0, failed: 0 });
  });
});

describe("comment commands", () => {
  async function started(): Promise<{ url: string; h: Harness }> {
    const hh = await harness(testEngine());
    h = hh;
    addExamplePull(hh);
    const s = await hh.start();
    return { url: s.url, h: hh };
  }

  it("answers help with a reaction and a reply", async () => {
    const { url, h } = await started();
    expect((await deliver(url, "issue_comment", commentExample("/rproc-review help"))).status).toBe(202);
    await eventually("the reply", () => h.fake.comments.length === 1);
    expect(h.fake.reactions).toEqual([expect.objectContaining({ commentId: 5001, content: "+1" })]);
    expect(h.fake.comments[0]?.body).toContain("<!-- rproc-review:reply:5001 -->");
    expect(h.fake.comments[0]?.body).toContain("`/rproc-review diff <A> [<B>]`");
  });

  it("answers a command it does not understand", async () => {
    const { url, h } = await started();
    await deliver(url, "issue_comment", commentExample("Please\n/rproc-review frobnicate now"));
    await eventually("the reply", () => h.fake.comments.length === 1);
    expect(h.fake.reactions).toEqual([expect.objectContaining({ content: "confused" })]);
    expect(h.fake.comments[0]?.body).toContain(
      "I did not understand `/rproc-review frobnicate now`: unknown command `frobnicate`",
    );
  });

  it("ignores commands from authors whose association is not allowed, and comments without a command", async () => {
    const { url } = await started();
    const r = await deliver(url, "issue_comment", commentExample("/rproc-review run", "NONE"));
    expect(r).toEqual({
      status: 202,
      body: { status: "ignored", reason: "author association NONE may not give commands" },
    });
    const plain = await deliver(url, "issue_comment", commentExample("LGTM", "OWNER", 5002));
    expect(plain.body.reason).toBe("the comment has no /rproc-review command");
    // Quoted or inside a code block, a command line is only talked about.
    const quoted = "> /rproc-review run\n\nWhy?\n```\n/rproc-review help\n```\n/rproc-reviewer run";
    const talk = await deliver(url, "issue_comment", commentExample(quoted, "OWNER", 5003));
    expect(talk.body.reason).toBe("the comment has no /rproc-review command");
    expect(await jobCounts(url)).toEqual({ pending: 0, running: 0, done: 0, failed: 0 });
  });

  it("runs named scenarios again into the sticky comment, and rejects unknown ones", async () => {
    const { url, h } = await started();
    await deliver(url, "issue_comment", commentExample("/rproc-review run recovery", "MEMBER"));
    await eventually("the check run", () => h.fake.checkRuns.length === 1);
    expect(h.fake.comments).toHaveLength(1);
    expect(h.fake.comments[0]?.body).toContain(STICKY_MARKER);
    expect(h.fake.comments[0]?.body).toContain("scenarios: recovery");
    expect(h.fake.checkRuns[0]?.head_sha).toBe(HEAD);

    await deliver(url, "issue_comment", commentExample("/rproc-review run nosuch", "MEMBER", 5003));
    await eventually("the reply", () => h.fake.comments.length === 2);
    expect(h.fake.comments[1]?.body).toContain("unknown scenario `nosuch` (known: boot, recovery)");
  });

  it("compares versions with diff, B defaulting to the series under review", async () => {
    const { url, h } = await started();
    await deliver(url, "issue_comment", commentExample("/rproc-review diff mainline"));
    await eventually("the reply", () => h.fake.comments.length === 1);
    expect(h.fake.comments[0]?.body).toContain("diff from mainline to v2");

    await deliver(url, "issue_comment", commentExample("/rproc-review diff v9", "OWNER", 5004));
    await eventually("the second reply", () => h.fake.comments.length === 2);
    expect(h.fake.comments[1]?.body).toContain(
      "`v9` is neither a reviewed revision of this pull request nor a built-in version",
    );

    // Once reviewed, a revision is known by its label and by its head commit.
    await deliver(url, "pull_request", PR);
    await eventually("the review", () => h.fake.checkRuns.length === 1);
    await deliver(
      url,
      "issue_comment",
      commentExample(`/rproc-review diff v2 ${HEAD.slice(0, 7)}`, "OWNER", 5005),
    );
    await eventually("the third reply", () => h.fake.comments.length === 4);
    expect(h.fake.comments[3]?.body).toContain(`diff from v2 to ${HEAD.slice(0, 7)}`);
  });
});

describe("durability", () => {
  it("resumes pending jobs after a restart on the same database", async () => {
    const engine = testEngine();
    h = await harness(engine);
    addExamplePull(h);
    const fake = h.fake;
    const held = fake.hold("GET", /\/pulls\/\d+$/);
    const s1 = await h.start();
    await deliver(s1.url, "pull_request", PR);
    await deliver(s1.url, "issue_comment", commentExample("/rproc-review help"));
    await held.reached;
    await h.stop();
    expect(fake.comments).toEqual([]);
    expect(fake.checkRuns).toEqual([]);

    held.release();
    const s2 = await h.start();
    await eventually("both jobs done", async () => (await jobCounts(s2.url)).done === 2);
    expect(fake.comments.filter((c) => c.body.includes(STICKY_MARKER))).toHaveLength(1);
    expect(fake.comments.filter((c) => c.body.includes("rproc-review:reply:5001"))).toHaveLength(1);
    expect(fake.checkRuns).toHaveLength(1);
    expect(h.logs.some((l) => JSON.parse(l).event === "job.interrupted")).toBe(true);
  });

  it("takes a job again when the worker that leased it died", async () => {
    h = await harness(testEngine());
    addExamplePull(h);
    const store = new SqliteStore(h.dbPath);
    const payload = {
      installationId: 1,
      owner: OWNER,
      repo: REPO,
      number: PR.number,
      headSha: HEAD,
      trigger: "opened",
    };
    const now = Date.now();
    const job = { kind: "review", key: `review:${OWNER}/${REPO}#${PR.number}@${HEAD}`, payload } as const;
    await store.accept(
      { id: "d-1", event: "pull_request", action: "opened", repo: null, receivedAt: now },
      job,
    );
    // A worker takes it for 300 ms and is never heard of again.
    expect(await store.claim(now, 300)).toMatchObject({ attempts: 1 });
    expect(await store.claim(now, 300)).toBeNull();
    store.close();

    const s = await h.start();
    const fake = h.fake;
    await eventually("the job done", async () => (await jobCounts(s.url)).done === 1);
    expect(fake.comments).toHaveLength(1);
    expect(fake.checkRuns).toHaveLength(1);
    expect(h.logs.some((l) => l.includes('"event":"job.start"') && l.includes('"attempt":2'))).toBe(true);
  });

  it("finds its sticky comment and check run on GitHub when its database is lost", async () => {
    h = await harness(testEngine());
    addExamplePull(h);
    const fake = h.fake;
    const s1 = await h.start();
    await deliver(s1.url, "pull_request", PR);
    await eventually("the check run", () => fake.checkRuns.length === 1);
    await h.stop();
    rmSync(h.dbPath);

    const s2 = await h.start();
    await deliver(s2.url, "pull_request", { ...structuredClone(PR), action: "reopened" });
    await eventually("the job done", async () => (await jobCounts(s2.url)).done === 1);
    expect(fake.comments).toHaveLength(1);
    expect(fake.checkRuns).toHaveLength(1);
    expect(fake.count("PATCH", /\/issues\/comments\/\d+$/, 200)).toBe(1);
    expect(fake.count("PATCH", /\/check-runs\/\d+$/, 200)).toBe(1);
  });

  it("signs the App JWT with a PKCS#1 key as GitHub issues them", async () => {
    h = await harness(testEngine(), PKCS1_KEY);
    addExamplePull(h);
    const s = await h.start();
    await deliver(s.url, "pull_request", PR);
    const fake = h.fake;
    await eventually("the check run", () => fake.checkRuns.length === 1);
    expect(fake.count("POST", /\/app\/installations\/1\/access_tokens$/, 201)).toBeGreaterThanOrEqual(1);
    expect(fake.count("POST", /\/app\/installations\/1\/access_tokens$/, 401)).toBe(0);
  });
});
