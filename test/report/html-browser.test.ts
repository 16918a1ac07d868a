/**
 * The HTML report opened in headless Chromium (Debian's chromium): every diagram must come out as a rendered
 * Mermaid sequence diagram. Skipped, saying so, when no chromium is installed.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { loadMermaidScript } from "../../src/node/html.ts";
import { renderHtml } from "../../src/report/index.ts";
import { buildReport } from "../../src/review/index.ts";
import { series } from "../compare/fixtures.ts";
import { mainlineSide, SCENARIOS, V16_NOTES, v15Side, v16Side } from "../compare/scenarios.ts";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === "true")
  throw new Error(`CI=true but there is no chromium at ${CHROMIUM}: .ci/run installs Debian's chromium`);
if (!haveChromium)
  console.warn(`skipping the browser rendering test: no chromium at ${CHROMIUM} (set CHROMIUM)`);

describe("HTML report in a browser", () => {
  it.skipIf(!haveChromium)(
    "renders every diagram as a sequence diagram",
    async () => {
      const report = buildReport(v15Side(), v16Side(series("v16", V16_NOTES.cover, V16_NOTES.patches)), {
        mainline: mainlineSide(),
        scenarios: SCENARIOS,
      });
      const html = renderHtml(report, { mermaidScript: await loadMermaidScript() });
      const diagrams = html.match(/<pre class="mermaid">/g)?.length ?? 0;
      expect(diagrams).toBe(6);
      const dir = await mkdtemp(join(tmpdir(), "rproc-html-"));
      try {
        const page = join(dir, "report.html");
        await writeFile(page, html);
        const { stdout } = await promisify(execFile)(
          CHROMIUM,
          [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=15000",
            "--dump-dom",
            `file://${page}`,
          ],
          { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
        );
        // the inlined bundle is in the dump too; count only the rendered SVG roots
        expect(stdout.match(/aria-roledescription="sequence"/g)?.length).toBe(diagrams);
        expect(stdout).not.toMatch(/aria-roledescription="error"/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    90_000,
  );
});
