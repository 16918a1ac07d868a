import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { InputError, UsageError } from "../../src/errors.ts";
import { loadInput } from "../../src/node/inputs.ts";
import { fetchPullRequest } from "../../src/series/index.ts";
import { runCli } from "../helpers/cli.ts";
import { fixture, patchBody } from "./helpers.ts";

let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "rproc-series-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function rejects(p: Promise<unknown>, type: typeof InputError | typeof UsageError): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(type);
  return (e as InputError).oneLine();
}

describe("git:<repo dir>:<a>..<b>", () => {
  let repo = "";
  let base = "";
  beforeAll(async () => {
    repo = join(tmp, "repo");
    const git = simpleGit(tmp);
    await git.raw(["init", "-q", "-b", "main", repo]);
    const g = simpleGit(repo);
    await g.addConfig("user.name", "Ann Author").addConfig("user.email", "ann@example.com");
    await writeFile(join(repo, "widget.c"), "int widget_probe(void)\n{\n\treturn 0;\n}\n");
    await g.add(".").commit("acme: initial widget");
    base = (await g.revparse(["HEAD"])).trim();
    await writeFile(join(repo, "widget.c"), "int widget_probe(void)\n{\n\tready = 1;\n\treturn 0;\n}\n");
    await g.add(".").commit("acme: mark the widget ready\n\nSigned-off-by: Ann Author <ann@example.com>");
    await writeFile(join(repo, "widget.h"), "int widget_probe(void);\n");
    await g.add(".").commit("acme: add a header\n\nSigned-off-by: Ann Author <ann@example.com>");
  });

  it("reads a commit range as a series with its base", async () => {
    const s = await loadInput(`git:${repo}:${base}..HEAD`);
    expect(s.base).toBe(base);
    expect(s.version.label).toBe("v1");
    expect(s.patches.map((p) => [p.index, p.total, p.title])).toEqual([
      [1, 2, "acme: mark the widget ready"],
      [2, 2, "acme: add a header"],
    ]);
    expect(s.patches[1]?.files.map((f) => [f.path, f.status])).toEqual([["widget.h", "added"]]);
    expect(s.patches[0]?.trailers[0]?.person?.email).toBe("ann@example.com");
  });

  it("refuses an unknown ref, an empty range and a missing directory", async () => {
    expect(await rejects(loadInput(`git:${repo}:nope..HEAD`), InputError)).toMatch(
      /git cannot read the range nope\.\.HEAD/,
    );
    expect(await rejects(loadInput(`git:${repo}:HEAD..HEAD`), InputError)).toMatch(/holds no commits/);
    expect(await rejects(loadInput(`git:${join(tmp, "none")}:a..b`), InputError)).toMatch(
      /no such directory/,
    );
    expect(await rejects(loadInput(`git:${repo}`), UsageError)).toMatch(/expected git:<repo dir>:<a>\.\.<b>/);
  });
});

describe("paths", () => {
  it("refuses a missing path and an mbox holding two series, listing them", async () => {
    expect(await rejects(loadInput(join(tmp, "missing.mbox")), InputError)).toMatch(
      /no such file or directory/,
    );
    const both = join(tmp, "both.mbox");
    await writeFile(
      both,
      (await readFile(fixture("bar-v3.mbox"), "utf8")) + (await readFile(fixture("foo-v2.mbox"), "utf8")),
    );
    const msg = await rejects(loadInput(both), InputError);
    expect(msg).toMatch(/holds 2 different series/);
    expect(msg).toContain('v3 "foo: core: boot diagnostics" (2/2 patches)');
    expect(msg).toContain('v2 "foo: secure loading of coprocessor images" (3/3 patches)');
    expect(msg).toContain(`${both}@<id>`);
    expect((await loadInput(`${both}@v2`)).title).toBe("foo: secure loading of coprocessor images");
    expect((await loadInput(`${both}@v3`)).title).toBe("foo: core: boot diagnostics");
    expect(await rejects(loadInput(`${both}@v9`), InputError)).toMatch(/holds no series v9; it holds v3 /);
    // A path that exists as written is a path, whatever it ends with.
    const odd = join(tmp, "odd@v2");
    await writeFile(odd, await readFile(fixture("bar-v3.mbox"), "utf8"));
    expect((await loadInput(odd)).id).toBe("v3");
  });
});

describe("pr:owner/repo#n against a local GitHub API", () => {
  let server: Server;
  let baseUrl = "";
  const seen: string[] = [];
  const commitPatch = (sha: string, subject: string, added: string[]) =>
    `From ${sha} Mon Sep 17 00:00:00 2001\nFrom: Ann Author <ann@example.com>\nDate: Mon, 2 Nov 2026 10:00:00 +0000\nSubject: [PATCH] ${subject}\n\n${patchBody("", added)}`;
  const patches: Record<string, string> = {
    a1: commitPatch("a1", "acme: mark ready", ["\tw->ready = true;"]),
    b2: commitPatch("b2", "acme: count probes", ["\tw->probes++;"]),
    e4: "From e4 Mon Sep 17 00:00:00 2001\nFrom: Ann Author <ann@example.com>\nSubject: [PATCH] empty\n\n---\n-- \n2.47.0\n",
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      seen.push(`${req.method} ${url.pathname}${url.search} ${req.headers.accept ?? ""}`);
      const json = (body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(200, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === "/repos/acme/widget/pulls/7") {
        return json({
          number: 7,
          title: "acme: widget readiness v3",
          body: "Third round.\n\nChanges since v2:\n- count probes\n\nbase-commit: 0123456789abcdef0123456789abcdef01234567\n",
          html_url: "https://github.com/acme/widget/pull/7",
          created_at: "2026-11-02T10:00:00Z",
          user: { login: "ann" },
          head: { sha: "b2" },
          base: { sha: "fedcba9876543210fedcba9876543210fedcba98" },
        });
      }
      if (url.pathname === "/repos/acme/widget/pulls/7/commits") {
        if (url.searchParams.get("page") === "2") {
          return json([
            { sha: "m3", parents: [{ sha: "a1" }, { sha: "x" }] },
            { sha: "e4", parents: [{ sha: "m3" }] },
            { sha: "b2", parents: [{ sha: "e4" }] },
          ]);
        }
        return json([{ sha: "a1", parents: [{ sha: "0" }] }], {
          link: `<${baseUrl}/repos/acme/widget/pulls/7/commits?per_page=100&page=2>; rel="next"`,
        });
      }
      const commit = /^\/repos\/acme\/widget\/commits\/(\w+)$/.exec(url.pathname);
      const patch = commit ? patches[commit[1] as string] : undefined;
      if (patch && /^application\/vnd\.github(?:\.v3)?\.patch$/.test(req.headers.accept ?? "")) {
        res.writeHead(200, { "content-type": "text/x-patch" });
        return res.end(patch);
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Not Found" }));
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((ok) => server.close(ok));
  });

  it("reads the commits (paginated) as the patches of a series", async () => {
    const s = await fetchPullRequest("pr:acme/widget#7", { baseUrl });
    expect(s.origin).toBe("pr:acme/widget#7");
    expect(s.version.label).toBe("v3");
    expect(s.title).toBe("acme: widget readiness v3");
    expect(s.base).toBe("0123456789abcdef0123456789abcdef01234567");
    expect(s.cover?.changelog.map((n) => [n.refersTo, n.text])).toEqual([["v2", "count probes"]]);
    expect(s.patches.map((p) => [p.index, p.total, p.title])).toEqual([
      [1, 2, "acme: mark ready"],
      [2, 2, "acme: count probes"],
    ]);
    expect(s.warnings.map((w) => w.message)).toEqual([
      "pr:acme/widget#7@m3: a merge commit; skipped",
      "pr:acme/widget#7@e4: a commit without changes; skipped",
    ]);
    expect(seen).toContain("GET /repos/acme/widget/commits/a1 application/vnd.github.v3.patch");
    expect(seen.some((l) => l.startsWith("GET /repos/acme/widget/pulls/7/commits?per_page=100&page=2"))).toBe(
      true,
    );
  });

  it("goes through loadInput with GITHUB_API_URL and turns a 404 into an InputError", async () => {
    vi.stubEnv("GITHUB_API_URL", baseUrl);
    try {
      const s = await loadInput("pr:acme/widget#7");
      expect(s.patches).toHaveLength(2);
      expect(await rejects(loadInput("pr:acme/widget#8"), InputError)).toBe(
        "GitHub answered 404 for pr:acme/widget#8: not found",
      );
    } finally {
      vi.unstubAllEnvs();
    }
    expect(await rejects(fetchPullRequest("pr:acme#1", { baseUrl }), UsageError)).toMatch(
      /expected pr:owner\/repo#number/,
    );
  });
});

const cli = (...args: string[]) => runCli(args);

describe("rproc-review series", () => {
  it("prints JSON with series, patches and the chain", async () => {
    const r = await cli(
      "series",
      fixture("foo-v2-resend"),
      fixture("foo-v1"),
      fixture("foo-v2.mbox"),
      "--json",
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.series).toMatchObject({
      title: "foo: secure loading of coprocessor images",
      version: "v2",
      resend: true,
      base: "5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9",
      changeId: null,
      cover: {
        messageId: "20261110083000.999-1-juergen.weiss@example.com",
        subject: "[RESEND PATCH v2 0/3] foo: secure loading of coprocessor images",
      },
    });
    expect(doc.patches[1]).toMatchObject({
      index: 2,
      total: 3,
      subject: "[RESEND PATCH v2 2/3] foo: add secure loading service client",
      messageId: "20261110083000.999-3-juergen.weiss@example.com",
      files: ["drivers/foo/foo_secure.c", "include/linux/foo/foo_secure.h"],
      fileChanges: [
        { path: "drivers/foo/foo_secure.c", oldPath: null, status: "added", additions: 45, deletions: 0 },
        {
          path: "include/linux/foo/foo_secure.h",
          oldPath: null,
          status: "added",
          additions: 10,
          deletions: 0,
        },
      ],
    });
    expect(doc.patches[1].changelog).toHaveLength(2);
    expect(doc.chain.map((e: { id: string; sameCodeAs: string | null }) => [e.id, e.sameCodeAs])).toEqual([
      ["v1", null],
      ["v2", null],
      ["v2-resend", "v2"],
    ]);
    expect(doc.inputs.map((i: { id: string }) => i.id)).toEqual(["v1", "v2", "v2-resend"]);
  });

  it("prints text: version, base, patches with files, changelog, warnings, chain", async () => {
    const r = await cli("series", fixture("bar-v3.mbox"), fixture("bar-v4.mbox"));
    expect(r.code).toBe(0);
    expect(r.out).toContain("version:  v4");
    expect(r.out).toContain("modified drivers/foo/foo_core.c (+3 -1)");
    expect(r.out).toContain("- (vs v3) say which step failed");
    expect(r.out).toMatch(/chain \(oldest first\):\n {2}v3 .*first\n {2}v4 .*follows v3 \(similarity\)/);
  });

  it("exits 3 with a one-line message naming a bad input", async () => {
    const r = await cli("series", join(tmp, "nothing-here"));
    expect(r.code).toBe(3);
    expect(r.err).toBe(`rproc-review: ${join(tmp, "nothing-here")}: no such file or directory (input)\n`);
  });
});
