/**
 * The HTML report opened in headless Chromium (Debian's chromium): every diagram must come out as a rendered
 * Mermaid sequence diagram, the page has every section the markdown has, and a screenshot shows it drawn.
 * Skipped, saying so, when no chromium is installed (in CI, where .ci/run installs it, a failure instead).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { loadMermaidScript } from "../../src/node/html.ts";
import { renderHtml, renderMarkdown } from "../../src/report/index.ts";
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
        // Every section the markdown has, the page has (headings without their counts).
        const section = (h: string) => h.replace(/\s*\(.*$/, "").trim();
        const mdSections = [...renderMarkdown(report).matchAll(/^### (.+)$/gm)]
          .map((m) => section(m[1] as string))
          .filter((h) => h !== "Sequence diagrams" && h !== "Details");
        const pageSections = [...stdout.matchAll(/<h2[^>]*>([^<]+)<\/h2>/g)].map((m) =>
          section(m[1] as string),
        );
        expect(mdSections.length).toBeGreaterThan(5);
        for (const h of mdSections) expect(pageSections).toContain(h);
        // Screenshots of the page as rendered and of the same page without mermaid: the diagrams are drawn in
        // the picture, not left as their source text, so the two differ.
        const shoot = async (file: string, text: string) => {
          const src = join(dir, `${file}.html`);
          const shot = join(dir, `${file}.png`);
          await writeFile(src, text);
          await promisify(execFile)(
            CHROMIUM,
            [
              "--headless",
              "--no-sandbox",
              "--disable-gpu",
              "--disable-background-networking",
              "--hide-scrollbars",
              "--window-size=1280,12000",
              "--virtual-time-budget=15000",
              `--screenshot=${shot}`,
              `file://${src}`,
            ],
            { timeout: 60_000 },
          );
          const png = await readFile(shot);
          expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
          expect(png.readUInt32BE(16)).toBe(1280);
          return png;
        };
        const drawn = await shoot("drawn", html);
        // without mermaid's bundle and its start (the bundle alone starts on load)
        const unstarted = html.replace(
          /<script>(?:(?!<\/script>)[\s\S])*<\/script>\s*<script>mermaid\.initialize[\s\S]*?<\/script>/,
          "",
        );
        expect(unstarted).not.toBe(html);
        const plain = await shoot("plain", unstarted);
        expect(drawn.equals(plain)).toBe(false);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    90_000,
  );
});
