import { describe, expect, it } from "vitest";
import type { ExploreDiff } from "../../src/compare/explore.ts";
import type { VersionSide } from "../../src/compare/types.ts";
import {
  b4Checks,
  CHECK_RUN_TEXT_LIMIT,
  inlineScript,
  type ReviewReport,
  renderEmail,
  renderHtml,
  renderJson,
  renderMarkdown,
  reviewText,
  wrap,
} from "../../src/report/index.ts";
import { buildReport } from "../../src/review/index.ts";
import { cell, series, step } from "../compare/fixtures.ts";
import { mainlineSide, SCENARIOS, V16_NOTES, v15Side, v16Side } from "../compare/scenarios.ts";
import { mermaidBlocks, mermaidParse } from "./mermaid-parser.ts";

/** An exploration comparison as runReview makes it (v15 → v16 at depth 3, two of its rows). */
const EXPLORED: ExploreDiff = {
  depth: 3,
  a: { id: "v15", states: 164, transitions: 334, findings: 12 },
  b: { id: "v16", states: 123, transitions: 300, findings: 10 },
  introduced: [
    {
      kind: "double-release",
      at: "tee_client_invoke_func",
      detail: "RELEASE_FW for processor 0 with nothing loaded since the previous RELEASE_FW",
      events: ["image-tamper", "start", "start"],
      replay: "rproc-review replay --version v16 --events image-tamper,start,start",
      mainline: "inexpressible",
    },
  ],
  fixed: [
    {
      kind: "use-after-free",
      at: "rproc_tee_stop",
      detail: 'rproc->rproc_tee_itf of trproc "rproc_tee m4" freed in rproc_tee_remove',
      events: ["start", "tee-unbind"],
      replay: "rproc-review replay --version v15 --events start,tee-unbind",
      mainline: "inexpressible",
    },
  ],
  carried: [],
  unknown: null,
  kept: 6,
  unknownFacts: [],
};

/** A side whose cells raise nothing (to test what a review says when nothing is open). */
function clean(side: VersionSide): VersionSide {
  return { ...side, cells: side.cells.map((c) => ({ ...c, findings: [] })) };
}

const report = (): ReviewReport =>
  buildReport(v15Side(), v16Side(series("v16", V16_NOTES.cover, V16_NOTES.patches)), {
    mainline: mainlineSide(),
    scenarios: SCENARIOS,
  });

/** A report with many scenarios and long traces, to push the renderers past their limits. */
function bigReport(): ReviewReport {
  const a = v15Side();
  const b = v16Side(series("v16", V16_NOTES.cover, V16_NOTES.patches));
  const scenarios = [...SCENARIOS];
  for (let n = 0; n < 60; n++) {
    const id = `stress-${n}`;
    scenarios.push({ id, title: `stress ${n}` });
    const trace = (v: string) =>
      Array.from({ length: 400 }, (_, i) =>
        step(i % 3 === 0 ? "core" : i % 3 === 1 ? "tee" : "ta", `fn_${v}_${i}`, "call", `detail ${i}`),
      );
    a.cells.push(cell("v15", id, trace("a"), { factsRead: ["tee.ctxLock"] }));
    b.cells.push(cell("v16", id, trace("b"), { factsRead: ["tee.ctxLock"] }));
  }
  return buildReport(a, b, { mainline: mainlineSide(), scenarios });
}

describe("the exploration part of a report", () => {
  const explored = (): ReviewReport =>
    buildReport(v15Side(), v16Side(series("v16", V16_NOTES.cover, V16_NOTES.patches)), {
      mainline: mainlineSide(),
      scenarios: SCENARIOS,
      explore: EXPLORED,
    });

  it("fails the verdict on a finding only B raises and names it in every format", () => {
    const r = explored();
    expect(r.verdict.status).toBe("fail");
    expect(r.verdict.line).toContain("explore (depth 3): 1 introduced, 0 carried, 1 fixed");
    const md = renderMarkdown(r);
    expect(md).toContain("### Event interleavings (explore, depth 3)");
    expect(md).toContain(
      "| ❌ new | **double-release** in `tee_client_invoke_func`: RELEASE_FW for processor 0 with nothing loaded since the previous RELEASE_FW | `image-tamper, start, start` | mainline cannot run these events | `rproc-review replay --version v16 --events image-tamper,start,start` |",
    );
    expect(md).toContain("| ✅ gone | **use-after-free** in `rproc_tee_stop`");
    const mail = renderEmail(r, { date: new Date(0), from: "bot <bot@example.org>" });
    // The exploration's new finding is a root cause of its own, reproduced by its shortest sequence.
    expect(mail).toMatch(/RC\d+ introduced: double-release in tee_client_invoke_func\(\)/);
    expect(mail).toContain("rproc-review replay --version v16 --events image-tamper,start,start");
    const html = renderHtml(r, { mermaidScript: "" });
    expect(html).toContain("<h2>Event interleavings (explore, depth 3)</h2>");
    expect(html).toContain(
      "<code>rproc-review replay --version v16 --events image-tamper,start,start</code>",
    );
    expect(JSON.parse(renderJson(r)).explore).toEqual(EXPLORED);
  });

  it("marks no row new, gone or carried when the exploration is not judged, in markdown, HTML and text", () => {
    const x: ExploreDiff = {
      ...EXPLORED,
      carried: EXPLORED.introduced,
      unknown: "v16's posted C stopped in 2 explored sequences",
    };
    const r = buildReport(v15Side(), v16Side(series("v16", V16_NOTES.cover, V16_NOTES.patches)), {
      mainline: mainlineSide(),
      scenarios: SCENARIOS,
      explore: x,
    });
    expect(r.verdict.line).toContain("explore (depth 3): not judged, v16's posted C stopped");
    const md = renderMarkdown(r);
    expect(md).toContain("| ❔ only v16 | **double-release** in `tee_client_invoke_func`");
    expect(md).toContain("| ❔ only v15 | **use-after-free** in `rproc_tee_stop`");
    expect(md).toContain("| ❔ both | **double-release** in `tee_client_invoke_func`");
    const section = md.slice(md.indexOf("### Event interleavings"));
    for (const mark of ["❌ new", "✅ gone", "🔴 carried"]) expect(section).not.toContain(mark);
    const html = renderHtml(r, { mermaidScript: "" });
    const table = html.slice(
      html.indexOf("<h2>Event interleavings"),
      html.indexOf("</table>", html.indexOf("<h2>Event interleavings")),
    );
    expect(table).toContain("only v15");
    expect(table).not.toMatch(/class="(pass|fail)"/);
    const text = reviewText(r).join("\n");
    expect(text).toContain("Raised by both and not by mainline:");
    expect(text).not.toContain("still open in v16");
  });

  it("says when nothing differs, does not fail on findings mainline raises too, and is absent when not explored", () => {
    const same = { ...EXPLORED, introduced: [], fixed: [] };
    const r = buildReport(clean(v15Side()), clean(v15Side()), { explore: same });
    expect(renderMarkdown(r)).toContain("No finding is raised by only one of them.");
    const old = {
      ...EXPLORED,
      fixed: [],
      introduced: EXPLORED.introduced.map((f) => ({ ...f, mainline: "present" as const })),
    };
    expect(buildReport(clean(v15Side()), clean(v15Side()), { explore: old }).verdict.status).not.toBe("fail");
    // A finding both explorations raise and mainline does not is carried: still open, the verdict fails.
    const kept = { ...same, carried: EXPLORED.introduced };
    expect(buildReport(clean(v15Side()), clean(v15Side()), { explore: kept }).verdict.status).toBe("fail");
    const plain = report();
    expect(plain.explore).toBeUndefined();
    expect(renderMarkdown(plain)).not.toContain("Event interleavings");
  });
});

describe("report model", () => {
  it("fails when B introduces a finding and names the reproduce command for the scenarios that matter", () => {
    const r = report();
    expect(r.verdict.status).toBe("fail");
    expect(r.verdict.line).toContain("1 finding introduced");
    expect(r.verdict.line).toContain("1 difference the changelog does not mention");
    expect(r.reproduce.command).toBe(
      "rproc-review matrix --versions v15,v16 --scenarios boot-auth-fail,bind-unbind,start-error,remove",
    );
    expect(Object.keys(r.traces)).toEqual(["boot-auth-fail", "bind-unbind", "remove"]);
  });

  it("quotes input specs in the reproduce line", () => {
    const a = v15Side();
    a.spec = "../mails/v 15";
    expect(buildReport(a, v16Side()).reproduce.command).toContain("--versions '../mails/v 15,v16'");
  });

  it("passes when nothing differs and nothing is raised", () => {
    const a = clean(v15Side());
    const r = buildReport(a, { ...a, id: "v15-again" });
    expect(r.verdict.status).toBe("pass");
    expect(r.diff.counts.different).toBe(0);
  });

  it("fails when nothing differs but B still raises what A raised and mainline does not (carried)", () => {
    const a = v15Side();
    const r = buildReport(a, { ...a, id: "v15-again" }, { mainline: mainlineSide(), scenarios: SCENARIOS });
    expect(r.diff.counts.different).toBe(0);
    expect(r.diff.counts.carried).toBeGreaterThan(0);
    expect(r.verdict.status).toBe("fail");
    const carried = r.diff.scenarios.flatMap((x) => x.findings).filter((f) => f.class === "carried");
    expect(carried.every((f) => f.since === "v15")).toBe(true);
  });
});

describe("markdown", () => {
  it("has the verdict, matrix, evidence, changelog check and reproduce line", () => {
    const md = renderMarkdown(report());
    expect(md.split("\n")[0]).toMatch(/^## ❌ rproc-review: v15 → v16: 3 of 5 scenarios behave differently/);
    expect(md).toContain("| `boot-auth-fail` | -EIO, offline, 1 finding | -EIO, offline | **differs** |");
    expect(md).toContain(
      '[v16 patch 3] drivers/remoteproc/remoteproc_core.c:1850 rproc_boot() "remoteproc: core: release the firmware on errors"',
    );
    expect(md).toContain("v15: hand-read oracle");
    expect(md).toContain("❌ introduced: sleep-in-atomic in rproc_tee_register");
    expect(md).toContain(
      "### Findings v16 introduces (1 distinct)\n\n- ❌ **sleep-in-atomic** in `rproc_tee_register`, 1 scenario (bind-unbind): open session under spinlock",
    );
    expect(md).toMatch(/\*\*Behaviour differences no note mentions:\*\*\n- `remove`/);
    expect(md).toContain('cover letter: "Reworded the Kconfig help text."');
    expect(md).toContain("<details><summary>start-error: same</summary>");
    expect(md).toContain(
      "**Reproduce:** `rproc-review matrix --versions v15,v16 --scenarios boot-auth-fail,bind-unbind,start-error,remove`",
    );
  });

  it("draws two diagrams per differing scenario, each accepted by mermaid's parser", async () => {
    const blocks = mermaidBlocks(renderMarkdown(report()));
    expect(blocks).toHaveLength(6);
    for (const b of blocks) await expect(mermaidParse(b)).resolves.toMatchObject({ diagramType: "sequence" });
    expect(blocks[1]).toContain("T->>A: RELEASE_FW\n  A-->>T: ok");
  });

  it("stays below GitHub's check-run limit, trimming with a note", async () => {
    const md = renderMarkdown(bigReport());
    expect(md.length).toBeLessThanOrEqual(CHECK_RUN_TEXT_LIMIT);
    expect(md).toMatch(/✂️ Trimmed \d+ details sections/);
    expect(md).toContain("**Reproduce:**");
    for (const b of mermaidBlocks(md)) {
      expect(b.length).toBeLessThanOrEqual(50_000);
      await mermaidParse(b);
    }
  });

  it("trims details and diagrams before differences under a smaller limit", () => {
    const md = renderMarkdown(report(), { maxChars: 9500 });
    expect(md.length).toBeLessThanOrEqual(9500);
    expect(md).toMatch(/Trimmed 5 details sections, 2 diagram sections/);
    expect(md).not.toContain("### Details");
    expect(md).toContain("#### `remove`: platform driver removed");
    expect(mermaidBlocks(md)).toHaveLength(2);
  });

  it("cuts even the fixed sections when the limit is tiny, keeping the reproduce line", () => {
    const md = renderMarkdown(report(), { maxChars: 1500 });
    expect(md.length).toBeLessThanOrEqual(1500);
    expect(md).toMatch(/Cut at 1,500 characters/);
    expect(md.trimEnd().endsWith("--scenarios boot-auth-fail,bind-unbind,start-error,remove`")).toBe(true);
  });
});

describe("mail", () => {
  const mail = () =>
    renderEmail(report(), { date: new Date("2026-11-23T10:00:00Z"), from: "Bot <bot@example.net>" });
  const split = (m: string) => {
    const at = m.indexOf("\n\n");
    return { head: m.slice(0, at), body: m.slice(at + 2) };
  };

  it("replies to the cover letter with threading headers", () => {
    const { head } = split(mail());
    expect(head).toContain("Subject: Re: [PATCH v16 0/3] Make the widget frobnicate");
    expect(head).toContain("In-Reply-To: <v16-0@example.org>");
    expect(head).toContain("References: <older-thread@example.org> <v16-0@example.org>");
    expect(head).toMatch(/^Message-ID: <rproc-review\.[0-9a-f]{16}\.\d+@example\.net>$/m);
    expect(head).toContain("From: Bot <bot@example.net>");
    expect(head).toContain("Date: Mon, 23 Nov 2026 10:00:00 +0000");
    expect(head).toContain("Content-Type: text/plain; charset=utf-8");
  });

  it("reads like a robot report: greeting, bracketed context, root causes, tags, reproduce, footer", () => {
    const { body } = split(mail());
    expect(body.startsWith("Hi Ada,\n")).toBe(true);
    expect(body).toContain("[series: Make the widget frobnicate]");
    expect(body).toContain("url:        https://lore.kernel.org/r/v16-0@example.org");
    expect(body).toContain("base:       0123456789ab");
    expect(body).toMatch(/Root causes:\n {2}RC1 introduced: sleep-in-atomic in rproc_tee_register\(\)/);
    expect(body).toContain("  RC2 carried since v15: error-swallowed in rproc_tee_start()");
    expect(body).toContain("| Reported-by: Bot <bot@example.net>");
    expect(body).toMatch(
      /\| Closes: https:\/\/lore\.kernel\.org\/r\/rproc-review\.[0-9a-f]{16}\.\d+@example\.net\//,
    );
    expect(body).toContain("  RC1   rproc-review matrix --versions v16 --scenarios bind-unbind");
    expect(body).toContain("Full report: rproc-review diff v15 v16 --format html");
    expect(body).toMatch(/\n-- \nrproc-review \d+\.\d+\.\d+ runs each version on a model; it can be wrong\./);
    // The Closes: tag names this mail's own Message-ID.
    const id = /^Message-ID: <([^>]+)>/m.exec(mail())?.[1];
    expect(body).toContain(`| Closes: https://lore.kernel.org/r/${id}/`);
  });

  it("keeps body lines within 72 columns except commands, tags and URLs, and has no HTML", () => {
    const { body } = split(mail());
    const allowed =
      /^\s*(RC\d+(,RC\d+)* +)?(rproc-review (matrix|replay|diff) |b4 am |url: +https:\/\/|patch link: +https:\/\/|\| Closes: )/;
    for (const l of body.split("\n").filter((x) => x.length > 72)) expect(l).toMatch(allowed);
    expect(body).not.toMatch(/<\/?[a-z][a-z0-9]*(\s[^>]*)?>/i);
    const big = split(renderEmail(bigReport(), { date: new Date(0) })).body;
    for (const l of big.split("\n").filter((x) => x.length > 72)) expect(l).toMatch(allowed);
    expect(big.split("\n").length).toBeLessThan(100);
  });

  it("has no threading headers when B came without mails", () => {
    const m = renderEmail(buildReport(v15Side(), v16Side()), { date: new Date(0) });
    expect(m).not.toMatch(/^In-Reply-To:/m);
    expect(m).toMatch(/^Subject: rproc-review: v15 -> v16/m);
  });

  it("wraps words and puts an unbreakable URL on its own line", () => {
    expect(wrap("aaa bbb ccc", 7)).toEqual(["aaa bbb", "ccc"]);
    const url = `https://example.org/${"x".repeat(80)}`;
    expect(wrap(`see ${url} now`, 72)).toEqual(["see", url, "now"]);
  });
});

describe("json", () => {
  it("is the report as plain JSON", () => {
    const j = JSON.parse(renderJson(report())) as ReviewReport;
    expect(j.tool).toBe("rproc-review");
    expect(j.diff.scenarios.find((s) => s.scenario === "bind-unbind")?.findings[0]).toMatchObject({
      kind: "sleep-in-atomic",
      class: "introduced",
    });
    expect(j.changelog.unmentioned).toEqual(["remove"]);
    expect(j.b.series?.replyTo?.messageId).toBe("v16-0@example.org");
  });
});

describe("html", () => {
  const page = () =>
    renderHtml(report(), { mermaidScript: 'window.mermaid={initialize(){}};var s="</script>";' });

  it("is one page with the matrix, differences and diagrams, and the mermaid bundle inlined", async () => {
    const html = page();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain('<h1 class="fail">rproc-review: v15 → v16');
    expect(html).toContain('<a href="#s-boot-auth-fail"><code>boot-auth-fail</code></a>');
    expect(html).not.toMatch(/<script[^>]*\ssrc=/);
    expect(html).not.toMatch(/<link[^>]*stylesheet/);
    const diagrams = [...html.matchAll(/<pre class="mermaid">([\s\S]*?)<\/pre>/g)].map((m) =>
      (m[1] as string)
        .replace(/&gt;/g, ">")
        .replace(/&lt;/g, "<")
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, "&"),
    );
    expect(diagrams).toHaveLength(6);
    for (const d of diagrams) await mermaidParse(d);
  });

  it("cannot be closed early by the inlined script", () => {
    expect(inlineScript('a="</script><b>"')).toBe('a="<\\/script><b>"');
    expect(page().match(/<\/script>/g)).toHaveLength(2);
  });
});

describe("b4 check", () => {
  it("reports the whole review on the cover letter", () => {
    const [c] = b4Checks(report(), { message: { kind: "cover" }, alone: false });
    expect(c).toMatchObject({ tool: "rproc-review", status: "fail" });
    expect(c?.summary).toContain("1 finding introduced");
    // each root cause, then the scenarios one line each
    expect(c?.details).toMatch(/introduced: sleep-in-atomic .*in rproc_tee_register\(\)/);
    expect(c?.details).toMatch(/^ {2}- bind-unbind: step \d+: /m);
  });

  it("reports on a patch only what its own evidence explains", () => {
    const [p2] = b4Checks(report(), { message: { kind: "patch", index: 2 }, alone: false });
    expect(p2?.status).toBe("fail");
    expect(p2?.details).toMatch(/^ {2}- bind-unbind/m);
    expect(p2?.details).not.toMatch(/^ {2}- boot-auth-fail/m);
    const [p3] = b4Checks(report(), { message: { kind: "patch", index: 3 }, alone: false });
    expect(p3?.summary).toMatch(/^patch 3: 1 scenario behaves differently from v15/);
    expect(b4Checks(report(), { message: { kind: "patch", index: 1 }, alone: false })).toEqual([]);
  });

  it("says when the message was checked alone, and is empty when there is nothing to say", () => {
    const [alone] = b4Checks(report(), { message: { kind: "patch", index: 1 }, alone: true });
    expect(alone?.status).toBe("warn");
    expect(alone?.details).toMatch(/^checked alone/);
    const a = clean(v15Side());
    expect(
      b4Checks(buildReport(a, { ...a, id: "same" }), { message: { kind: "cover" }, alone: false }),
    ).toEqual([]);
  });
});
