/** The part of jsdom's API the Mermaid parser tests use (jsdom ships no types; this avoids @types/jsdom). */
declare module "jsdom" {
  export class JSDOM {
    constructor(html?: string);
    readonly window: Window & typeof globalThis;
  }
}
