/**
 * The one error family for everything a user can get wrong. Library code throws these; the CLI turns
 * them into a one-line message and an exit code, the HTTP service into a 4xx. Anything else that escapes
 * is a bug and is reported as such.
 */
export type UserErrorKind = "usage" | "input";

/**
 * The CLI's exit statuses, as `rproc-review --help` and the README list them: nothing to report; a finding
 * of a class named in --fail-on (or an image that does not load); a command line that makes no sense; input
 * that does not exist or cannot be read or parsed; with --fail-on, some scenarios could not be reviewed, so
 * the review cannot say; a bug (EX_SOFTWARE of sysexits.h).
 */
export const EXIT = { ok: 0, findings: 1, usage: 2, input: 3, cannotSay: 4, internal: 70 } as const;

export class UserError extends Error {
  readonly kind: UserErrorKind;
  /** What the error is about: a file, a field, an input spec. Shown before the message. */
  readonly subject: string | undefined;

  constructor(kind: UserErrorKind, message: string, options?: { subject?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = kind === "usage" ? "UsageError" : "InputError";
    this.kind = kind;
    this.subject = options?.subject;
  }

  /** Exit status of the CLI: 2 for usage errors, 3 for bad input. */
  get exitCode(): number {
    return this.kind === "usage" ? EXIT.usage : EXIT.input;
  }

  /** One line, as the CLI prints it. */
  oneLine(): string {
    const text = this.message.replace(/\s*\n\s*/g, " ");
    return this.subject === undefined ? text : `${this.subject}: ${text}`;
  }
}

/** A command line that does not make sense (unknown id, missing option, bad value). Exit 2. */
export class UsageError extends UserError {
  constructor(message: string, options?: { subject?: string; cause?: unknown }) {
    super("usage", message, options);
  }
}

/** Input that cannot be used (missing or unreadable file, malformed mbox, corrupted image, unknown series). Exit 3. */
export class InputError extends UserError {
  constructor(message: string, options?: { subject?: string; cause?: unknown }) {
    super("input", message, options);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
