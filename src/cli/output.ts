/**
 * What the CLI prints. Subjects, names, paths and notes come from mails and diffs that anyone can write, so
 * text output never carries their control characters to the terminal: an escape sequence could recolour,
 * hide or rewrite what the reader sees (issue 20, defect 8). Text shows each one visibly instead (`^[` for
 * ESC, as `cat -v` does; `<U+202E>` for C1 controls and bidirectional overrides); JSON escapes them, which
 * changes no value. The CLI prints no colour, so NO_COLOR holds whatever it is set to.
 */

// C0 controls but tab and newline, DEL, C1 controls, and the bidirectional embeddings, overrides and
// isolates (the "Trojan Source" characters), which reorder what a terminal shows.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const visible = (c: string): string => {
  const code = c.charCodeAt(0);
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code === 0x7f) return "^?";
  return `<U+${code.toString(16).toUpperCase().padStart(4, "0")}>`;
};

/** `text` with every control character shown as text (tab and newline kept). */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, visible);
}

/** One line for a terminal: control characters shown as text, newlines and tabs as spaces. */
export function terminalLine(text: string): string {
  return terminalText(text.replace(/[\t\n]/g, " "));
}

/**
 * JSON as JSON.stringify writes it, with the characters it leaves raw (C1 controls, bidirectional
 * controls) escaped as \uXXXX: the same value, inert on a terminal.
 */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`.replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Prints text for people on stdout (a report, a table, a summary), control characters shown as text. */
export function printText(text: string): void {
  process.stdout.write(terminalText(text));
}

/** Prints a value as JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(jsonText(value));
}

/** Prints a message for people on stderr (an error, a warning, a note), control characters shown as text. */
export function printError(text: string): void {
  process.stderr.write(terminalText(text));
}

/** Cuts `line` to `width` columns (code points; the last one an ellipsis when cut). */
export function fitWidth(line: string, width: number): string {
  const chars = [...line];
  if (chars.length <= width) return line;
  return width <= 1 ? chars.slice(0, width).join("") : `${chars.slice(0, width - 1).join("")}…`;
}

export interface StatusLine {
  /** Whether it is shown at all (a terminal): without it, the caller need not compute its text. */
  readonly live: boolean;
  /** Replaces the status line (at most ten times a second unless `force`). */
  update(text: string, force?: boolean): void;
  /** Clears it: the next output starts on a clean line. */
  done(): void;
}

/**
 * A progress line on stderr, rewritten in place: only on a terminal that can erase a line (a TTY, TERM not
 * "dumb"), cut to its width so it never wraps (a wrapped line cannot be erased), and never in a pipe or log.
 */
export function statusLine(stream: NodeJS.WriteStream = process.stderr): StatusLine {
  if (stream.isTTY !== true || process.env.TERM === "dumb")
    return { live: false, update: () => {}, done: () => {} };
  let shown = false;
  let last = Number.NEGATIVE_INFINITY;
  return {
    live: true,
    update(text, force = false) {
      const now = performance.now();
      if (!force && now - last < 100) return;
      last = now;
      const width = Math.max((stream.columns || 80) - 1, 1);
      stream.write(`\r\x1b[K${fitWidth(terminalLine(text), width)}`);
      shown = true;
    },
    done() {
      if (shown) stream.write("\r\x1b[K");
      shown = false;
    },
  };
}
