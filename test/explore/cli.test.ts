import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";

const run = (...args: string[]) => runCli(args);

describe("explore and replay commands", () => {
  it("explore prints each finding with its shortest sequence and a replay command that prints the same trace", async () => {
    const explored = await run("explore", "--versions", "v14", "--depth", "2", "--json");
    expect(explored.code).toBe(0);
    const json = JSON.parse(explored.out) as {
      versions: {
        version: string;
        findings: {
          events: string[];
          replay: string;
          trace: unknown[];
          finding: { kind: string; at: string };
        }[];
      }[];
    };
    const f = json.versions[0]?.findings.find(
      (x) => x.finding.kind === "leak" && x.finding.at === "request_firmware",
    );
    expect(f?.replay).toBe("rproc-review replay --version v14 --events image-tamper,start");
    const replayed = await run(...(f?.replay.split(" ").slice(1) ?? []), "--json");
    expect(replayed.code).toBe(0);
    expect((JSON.parse(replayed.out) as { trace: unknown[] }).trace).toEqual(f?.trace);
    const text = await run("replay", "--version", "v14", "--events", "image-tamper,start");
    expect(text.out).toMatch(/^v14: image-tamper, start\ntrace:\n/);
    expect(text.out).toMatch(/findings:\n {2}leak in request_firmware/);
  });

  it("explores several versions in worker threads and keeps their order", async () => {
    const r = await run("explore", "--versions", "v16,v13", "--depth", "1", "--threads", "2");
    expect(r.code).toBe(0);
    expect(r.out.indexOf("v16: depth 1")).toBeGreaterThanOrEqual(0);
    expect(r.out.indexOf("v16: depth 1")).toBeLessThan(r.out.indexOf("v13: depth 1"));
    expect(r.out).toMatch(/use-after-free in rproc_tee_unregister/);
  });

  it("explores a series read from an input and a variant; their replay commands name the input and the file", async () => {
    // A series whose TEE driver runs from C (explored and replayed on its C; the mapper fixture's C defers
    // its probe, so it would have nothing to replay).
    const mbox = fileURLToPath(new URL("../fixtures/fxtee/fxtee-v5.mbox", import.meta.url));
    const variant = fileURLToPath(
      new URL("../../examples/variants/v14-load-fw-unwinds.json", import.meta.url),
    );
    const r = await run("explore", "--versions", mbox, "--variant", variant, "--depth", "2", "--json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as {
      versions: {
        version: string;
        findings: { replay: string; trace: unknown[]; classification: unknown }[];
      }[];
    };
    expect(json.versions.map((v) => v.version)).toEqual(["v5", "v14-load-fw-unwinds"]);
    const [series, design] = json.versions;
    expect(series?.findings[0]?.replay).toMatch(
      new RegExp(`^rproc-review replay --version ${mbox} --events `),
    );
    expect(design?.findings[0]?.replay).toMatch(
      new RegExp(`^rproc-review replay --variant ${variant} --events `),
    );
    // A later version: classified against mainline and the built-in versions, oldest first.
    expect(series?.findings[0]?.classification).toMatchObject({ status: "introduced" });
    for (const f of [series?.findings[0], design?.findings[0]]) {
      const replayed = await run(
        ...(f?.replay.split(" ").slice(1) ?? []).map((w) => (w === '""' ? "" : w)),
        "--json",
      );
      expect(replayed.code).toBe(0);
      expect((JSON.parse(replayed.out) as { trace: unknown[] }).trace).toEqual(f?.trace);
    }
    expect((await run("replay", "--version", "v14", "--variant", variant, "--events", "start")).code).toBe(2);
    expect((await run("replay", "--version", "v14,v15", "--events", "start")).code).toBe(2);
  });

  it("searches a design once when another version has the same facts, and classifies it for each", async () => {
    const r = await run("explore", "--versions", "v14,v15", "--depth", "2", "--json");
    expect(r.code).toBe(0);
    const [v14, v15] = (
      JSON.parse(r.out) as {
        versions: { version: string; sameFactsAs?: string; states: number; findings: { replay: string }[] }[];
      }
    ).versions;
    expect(v14?.sameFactsAs).toBeUndefined();
    expect(v15?.sameFactsAs).toBe("v14");
    expect(v15?.states).toBe(v14?.states);
    expect(v15?.findings.map((f) => f.replay.replace("v15", "v14"))).toEqual(
      v14?.findings.map((f) => f.replay),
    );
    const text = await run("explore", "--versions", "v14,v15", "--depth", "1");
    expect(text.out).toMatch(/^v15: the design facts of v14, so its search holds/m);
  });

  it("--audit tears down after every transition and passes on v16", async () => {
    const r = await run("explore", "--versions", "v16", "--depth", "2", "--audit", "--json");
    expect(r.code).toBe(0);
    const [v16] = (JSON.parse(r.out) as { versions: { transitions: number; teardowns: number }[] }).versions;
    expect(v16?.teardowns).toBe((v16?.transitions ?? 0) + 1);
  });

  it("answers usage errors with exit 2 and keeps --version for the program elsewhere", async () => {
    expect((await run("explore", "--versions", "v99")).code).toBe(2);
    expect((await run("explore", "--events", "start,boom", "--versions", "v14")).code).toBe(2);
    expect((await run("replay", "--version", "v14", "--events", "tee-bind")).err).toMatch(/makes no sense/);
    expect((await run("replay", "--events", "start")).code).toBe(2);
    expect((await run("--version")).out).toMatch(/^\d+\.\d+\.\d+/);
  });
});
