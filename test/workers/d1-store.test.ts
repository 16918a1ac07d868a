import { applyD1Migrations, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { type D1Like, D1Store } from "../../src/bot/d1-store.ts";

const db = env.DB as unknown as D1Like;

beforeAll(async () => {
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
});

describe("the D1 store", () => {
  it("queues a delivery once, leases its job, retries and completes it", async () => {
    const store = new D1Store(db, { maxAttempts: 3 });
    const delivery = { id: "d-1", event: "pull_request", action: "opened", repo: "o/r", receivedAt: 1000 };
    const job = { kind: "review" as const, key: "review:o/r#1@abc", payload: { n: 1 } };
    const first = await store.accept(delivery, job);
    expect(first).toMatchObject({ status: "accepted", enqueued: true });
    expect(await store.accept(delivery, job)).toEqual({
      status: "duplicate",
      jobId: first.jobId,
      enqueued: false,
    });
    // Another delivery for the same key maps to the same job without a second one.
    const other = await store.accept({ ...delivery, id: "d-2" }, job);
    expect(other).toEqual({ status: "accepted", jobId: first.jobId, enqueued: false });

    const claimed = await store.claim(2000, 500);
    expect(claimed).toMatchObject({ id: first.jobId, kind: "review", payload: { n: 1 }, attempts: 1 });
    expect(await store.claim(2100, 500)).toBeNull();
    if (!claimed) throw new Error("claimed");
    expect(await store.retry(claimed, "boom", 3000, 2200)).toBe("pending");
    expect(await store.claim(2900, 500)).toBeNull();
    const again = await store.claim(3000, 500);
    expect(again?.attempts).toBe(2);
    // A lease that expired is taken over; the stale holder cannot complete it.
    const taken = await store.claim(3600, 500);
    expect(taken?.id).toBe(first.jobId);
    if (!again || !taken) throw new Error("claimed");
    await store.complete(again, 3700);
    expect((await store.counts()).running).toBe(1);
    await store.complete(taken, 3800);
    expect(await store.counts()).toEqual({ pending: 0, running: 0, done: 1, failed: 0 });
  });

  it("fails a job whose lease expired on its last attempt, and never leases it again", async () => {
    const store = new D1Store(db, { maxAttempts: 2 });
    const delivery = { id: "p-1", event: "pull_request", action: "opened", repo: "o/p", receivedAt: 1000 };
    const { jobId } = await store.accept(delivery, { kind: "review", key: "review:o/p#1@x", payload: {} });
    expect((await store.claim(2000, 500))?.id).toBe(jobId);
    // The worker died: the lease expires and the job is taken over once more, its last attempt.
    expect((await store.claim(2600, 500))?.attempts).toBe(2);
    // It died again: failed with the reason, not leased a third time.
    expect(await store.claim(3200, 500)).toBeNull();
    const counts = await store.counts();
    expect(counts.failed).toBe(1);
    expect(counts.running).toBe(0);
  });

  it("keeps versions and outbox items as the SQLite store does", async () => {
    const store = new D1Store(db);
    const series = { id: "v3", title: "t", patches: [{ index: 1, title: "p", patchId: "x" }] } as never;
    const v = await store.saveVersion({ seriesKey: "o/r#2", headSha: "abcdef1234", series }, 10);
    expect(await store.findVersion("o/r#2", "abcdef1")).toMatchObject({ id: v.id, label: "v3" });
    expect(await store.previousVersion("o/r#2", "abcdef1234")).toBeNull();
    const { jobId } = await store.accept(
      { id: "d-3", event: "issue_comment", action: "created", repo: "o/r", receivedAt: 1 },
      { kind: "command", key: "command:o/r:3", payload: {} },
    );
    if (jobId === null) throw new Error("job");
    const run = {
      versionId: v.id,
      against: null,
      scenarios: null,
      conclusion: "success",
      cells: [],
      facts: null,
    };
    await store.writeOutbox(jobId, [{ kind: "comment", body: { a: 1 } }], run, 20);
    await store.writeOutbox(jobId, [{ kind: "comment", body: { a: 2 } }], run, 30);
    const items = await store.outbox(jobId);
    expect(items).toEqual([
      { id: items[0]?.id, seq: 0, kind: "comment", body: { a: 1 }, status: "pending", githubId: null },
    ]);
    await store.markSent(items[0]?.id ?? 0, 77, 40);
    expect((await store.outbox(jobId))[0]).toMatchObject({ status: "sent", githubId: 77 });
    expect((await store.stats()).runs).toBe(1);
  });
});
