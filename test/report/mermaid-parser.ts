/** mermaid's own parser, on Node with a jsdom window and document as globals (mermaid 11 on Node 20). */
import { JSDOM } from "jsdom";

let parser: ((text: string) => Promise<unknown>) | null = null;

export async function mermaidParse(text: string): Promise<unknown> {
  if (parser === null) {
    const dom = new JSDOM("<!doctype html><html><body></body></html>");
    const g = globalThis as Record<string, unknown>;
    g.window = dom.window;
    g.document = dom.window.document;
    const { default: mermaid } = await import("mermaid");
    parser = (t: string) => mermaid.parse(t);
  }
  return parser(text);
}

/** Every ```mermaid block of a markdown text. */
export function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1] as string);
}
