import { describe, expect, it } from "vitest";
import { mermaidText, sequenceDiagram } from "../../src/report/index.ts";
import type { TraceStep } from "../../src/scenarios/result.ts";
import { step } from "../compare/fixtures.ts";
import { mermaidParse } from "./mermaid-parser.ts";

const trace: TraceStep[] = [
  step("core", "rproc_boot", "call"),
  step("stm32", "stm32_rproc_prepare", "call"),
  step("tee", "rproc_tee_parse_fw", "call", 'fw=rproc.elf; size 4096 #1 <x> {y} % `z` "q"'),
  step("ta", "LOAD_FW", "invoke", "OFF -> LOADED"),
  step("tee", "rproc_tee_parse_fw", "return", "0"),
  step("core", "rproc_start", "state", "offline -> running"),
  step("platform", "copro", "start"),
  step("core", "rproc_boot", "return", "0"),
];

describe("sequence diagrams", () => {
  it("are accepted by mermaid's parser, with the four participants, findings and the divergence", async () => {
    const d = sequenceDiagram(trace, {
      findings: [{ kind: "leak", at: "rproc_boot", step: 7 }],
      divergence: { step: 3, other: "v15" },
    });
    await expect(mermaidParse(d.text)).resolves.toMatchObject({ diagramType: "sequence" });
    expect(d.text).toContain("participant C as Linux core");
    expect(d.text).toContain("participant T as TEE driver");
    expect(d.text).toContain("participant A as OP-TEE TA");
    expect(d.text).toContain("participant P as coprocessor");
    expect(d.text).toContain("T->>A: LOAD_FW\n  A-->>T: OFF → LOADED");
    // Returns go back to the caller: parse_fw returns from the TEE driver to the core, not from the TA.
    expect(d.text).toContain("T-->>C: rproc_tee_parse_fw returns 0");
    expect(d.text).not.toMatch(/A-->>T: rproc_tee_parse_fw/);
    expect(d.text).toContain("Note over C: ⚠ leak in rproc_boot");
    expect(d.text).toContain("Note over C,P: first divergence from v15");
    expect(d.trimmed).toBe(0);
  });

  it("draws calls from caller to callee, TA commands from the normal world, each step once", async () => {
    const t: TraceStep[] = [
      step("core", "rproc_boot", "call"),
      step("tee", "rproc_tee_load_fw", "call"),
      step("tee", "tee_client_invoke_func", "call", "LOAD_FW"),
      step("platform", "memWrite", "action", "tee writes 8 bytes at pa 0x38000000"),
      step("ta", "LOAD_FW", "invoke", "LOAD_FW: SUCCESS"),
      step("tee", "tee_client_invoke_func", "return", "0"),
      step("tee", "rproc_tee_load_fw", "return", "-EIO"),
      step("platform", "nsRead", "action", "read of 140 bytes"),
      step("core", "rproc_boot", "return", "-EIO"),
    ];
    const d = sequenceDiagram(t).text;
    await mermaidParse(d);
    const arrows = d.split("\n").filter((l) => l.includes(">>"));
    expect(arrows).toEqual([
      "  C->>T: rproc_tee_load_fw()",
      // the request leaves with the TEE client call, the secure world writes, then answers
      "  T->>A: LOAD_FW",
      "  A->>P: tee writes 8 bytes at pa 0x38000000",
      "  A-->>T: LOAD_FW: SUCCESS",
      "  T-->>C: rproc_tee_load_fw returns -EIO",
      "  C->>P: read of 140 bytes",
    ]);
  });

  it("draws only the window around the divergence, saying what it elides", async () => {
    const long: TraceStep[] = [];
    for (let i = 0; i < 200; i++) long.push(step("core", `a_${i}`, "call"), step("tee", `b_${i}`, "call"));
    const d = sequenceDiagram(long, { divergence: { step: 200, other: "v15" } }).text;
    await mermaidParse(d);
    expect(d).toMatch(/Note over C,P: … \d+ earlier lines elided/);
    expect(d).toMatch(/Note over C,P: … \d+ later lines elided/);
    expect(d).toContain("first divergence from v15");
    expect(d.split("\n").length).toBeLessThan(70);
  });

  it("collapses repeated exchanges", async () => {
    const loop: TraceStep[] = [];
    for (let i = 0; i < 20; i++)
      loop.push(step("core", "rproc_kick", "call"), step("platform", "mbox", "send"));
    const d = sequenceDiagram(loop);
    await mermaidParse(d.text);
    expect(d.text.match(/C->>P: mbox send/g)?.length).toBe(1);
    expect(d.text).toMatch(/message ×20/);
    const ping: TraceStep[] = [];
    for (let i = 0; i < 10; i++)
      ping.push(step("core", "rproc_boot", "call"), step("tee", "rproc_tee_start", "call"));
    const p = sequenceDiagram(ping).text;
    await mermaidParse(p);
    expect(p).toMatch(/exchange ×\d+/);
    expect(p.match(/C->>T: rproc_tee_start\(\)/g)?.length).toBeLessThanOrEqual(2);
  });

  it("trims to the block limit with a note, and stays parseable", async () => {
    const long: TraceStep[] = [];
    for (let i = 0; i < 3000; i++) long.push(step(i % 2 ? "core" : "tee", `fn_${i}`, "call", `detail ${i}`));
    const full = sequenceDiagram(long);
    expect(full.text.length).toBeLessThanOrEqual(50_000);
    expect(full.trimmed).toBeGreaterThan(0);
    const small = sequenceDiagram(long, { maxChars: 2000 });
    expect(small.text.length).toBeLessThanOrEqual(2000);
    expect(small.text).toMatch(/more lines trimmed/);
    await mermaidParse(small.text);
  });

  it("keeps message text free of what mermaid would read as syntax", () => {
    expect(mermaidText("a; b # c <br> {d} -> e")).toBe("a b c br d → e");
    expect(mermaidText("")).toBe("-");
  });
});
