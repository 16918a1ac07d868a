/**
 * Escaping of text that comes from a mail or a pull request (titles, subjects, names, paths, changelog
 * notes, details) for the format it is put into, so that it is shown as written and does nothing: no
 * markup, comment, link, image or mention in markdown, no element in HTML, no statement in Mermaid. The
 * renderers (markdown.ts, html.ts, mermaid.ts, email.ts) pass input text through these and nothing else.
 */

const ZERO_WIDTH_SPACE = "\u200b";
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/**
 * Text in a markdown line or table cell: one line (control characters and line breaks become spaces, so it
 * cannot open a block), markdown and HTML punctuation backslash-escaped (`<!--` cannot hide what follows,
 * `[x](u)`, `[x][r]` and `![x](u)` are no link or image, `|` ends no cell), and `@` followed by a
 * zero-width space so that `@name` notifies nobody.
 */
export function markdownText(s: string): string {
  return (
    s
      .replace(CONTROL, " ")
      .replace(/[\\`*<>&|~]/g, (c) => `\\${c}`)
      // A bracket opens a link or an image only when `(`, `[` or `:` follows its closing one.
      .replace(/\](?=[([:])/g, "\\]")
      .replace(/@/g, `@${ZERO_WIDTH_SPACE}`)
  );
}

/** A markdown code span: nothing inside is markup; backticks and line breaks, which would end it, are replaced. */
export function markdownCode(s: string): string {
  return `\`${s.replace(/`/g, "'").replace(CONTROL, " ")}\``;
}

/** Text in HTML element content or a quoted attribute. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A Mermaid message or note: no statement separator, comment, entity, HTML or arrow, one line. */
export function mermaidLabel(s: string): string {
  return s
    .replace(/->/g, "→")
    .replace(/[;#<>{}%\\`"]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** A value for one mail header line: control characters and line breaks (header injection) become spaces. */
export function headerValue(s: string): string {
  return s.replace(CONTROL, " ");
}
