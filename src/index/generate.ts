/**
 * Synthetic list archives for benchmarks and tests: copies of a few real-looking series (each copy with its own
 * message ids, author address, identifiers and code, so copies stay separate chains), interleaved with review
 * replies (quoted-printable, non-ASCII names), as one mboxrd stream. Every `modelledEvery`-th copy moves its
 * first driver file to drivers/remoteproc/remoteproc_core.c, so that some chains touch modelled code.
 */

/** One mail of a source series: headers and body as text, without an mbox separator line. */
export interface SourceMail {
  text: string;
}

export interface GenerateOptions {
  /** Generate at least this many mails. */
  mails: number;
  /** Every n-th copy touches modelled code (0: none). */
  modelledEvery?: number;
  /** Replies per copy of a series. */
  replies?: number;
}

const SEPARATOR = "From mboxrd@z Thu Jan  1 00:00:00 1970\n";

function mboxrdQuote(text: string): string {
  return text.replace(/^(>*From )/gm, ">$1");
}

function header(text: string, name: string): string | null {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, "im").exec(text);
  return m ? (m[1] as string).trim() : null;
}

function qp(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let out = "";
  let line = 0;
  for (const b of bytes) {
    const ch =
      b === 0x0a
        ? "\n"
        : (b >= 33 && b <= 126 && b !== 61) || b === 32
          ? String.fromCharCode(b)
          : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
    if (ch === "\n") line = 0;
    else if (line + ch.length > 73) {
      out += "=\n";
      line = 0;
    }
    out += ch;
    line += ch === "\n" ? 0 : ch.length;
  }
  return out;
}

function reply(copy: number, n: number, to: string, subject: string, quoted: string): string {
  const id = `r${n}.${copy}.${to.replace(/[<>]/g, "")}`;
  const body = [
    `On Mon, 5 Oct 2026, the author wrote:`,
    ...quoted
      .split("\n")
      .slice(0, 12)
      .map((l) => `> ${l}`),
    "",
    `Thanks, the lifetime of this object looks right to me now — Jürgen's point about the unbind order stands.`,
    "",
    `Reviewed-by: Zoë Reviewer <zoe.reviewer${copy % 97}@example.net>`,
    "",
  ].join("\n");
  return [
    `From: =?utf-8?q?Zo=C3=AB_Reviewer?= <zoe.reviewer${copy % 97}@example.net>`,
    `Date: Mon, 5 Oct 2026 10:${String(n % 60).padStart(2, "0")}:00 +0200`,
    `Subject: Re: ${subject}`,
    `Message-ID: <${id}>`,
    `In-Reply-To: ${to}`,
    `References: ${to}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    qp(body),
  ].join("\n");
}

/** Copy `k` of one mail: its own ids and addresses, identifiers, and (when `modelled`) a modelled path. */
function variant(text: string, k: number, modelled: boolean): string {
  let t = text;
  if (modelled) t = t.replace(/drivers\/foo\/foo_core\.c/g, "drivers/remoteproc/remoteproc_core.c");
  // Added lines get a per-copy comment, so that no two copies share their code identity.
  t = t.replace(/^\+(?!\+\+ )(.*)$/gm, (_, line: string) => `+${line} /* ${k} */`);
  return t
    .replace(/<([^<>\s@]+)@([^<>\s]+)>/g, (_, local: string, domain: string) => `<${local}.${k}@${domain}>`)
    .replace(/\bfoo/g, `foo${k}`)
    .replace(/\bbar/g, `bar${k}`);
}

/** Yields the archive as mbox text, one mail (with its separator line) per chunk. */
export function* generateArchive(
  series: readonly (readonly SourceMail[])[],
  opts: GenerateOptions,
): Generator<string> {
  const every = opts.modelledEvery ?? 0;
  const replies = opts.replies ?? 2;
  let written = 0;
  for (let k = 1; written < opts.mails; k++) {
    for (const s of series) {
      const modelled = every > 0 && k % every === 0;
      const copies = s.map((m) => variant(m.text, k, modelled));
      for (const c of copies) {
        yield `${SEPARATOR}${mboxrdQuote(c.endsWith("\n") ? c : `${c}\n`)}\n`;
        written++;
      }
      const lead = copies[copies.length > 1 ? 1 : 0] ?? "";
      const to = header(lead, "Message-ID") ?? `<copy${k}@example.org>`;
      const subject = header(lead, "Subject") ?? "[PATCH] copy";
      const quoted = lead.slice(lead.indexOf("\n\n") + 2);
      for (let n = 0; n < replies; n++) {
        yield `${SEPARATOR}${mboxrdQuote(reply(k, n, to, subject, quoted))}\n`;
        written++;
      }
    }
  }
}

export interface TinyMailsOptions {
  /** "[PATCH i/N]" subjects (one series); else "[PATCH]" without counters. */
  numbered: boolean;
  /** Each mail from its own author (as many series as mails). */
  authors?: boolean;
  /** Send the mail of this index twice. */
  duplicate?: number;
}

/**
 * `n` tiny patch mails (about 240 bytes each, a one-line change to their own file) as one mbox: the input
 * of the ingest scale test and bench (issue 20, defect 11).
 */
export function tinyMails(n: number, opts: TinyMailsOptions): Uint8Array {
  const parts: string[] = [];
  const one = (i: number): string => {
    const subject = opts.numbered ? `[PATCH ${i}/${n}] f: change ${i}` : `[PATCH] f: change ${i}`;
    const from = opts.authors ? `Author ${i} <a${i}@example.com>` : "Ann Author <ann@example.com>";
    return `${SEPARATOR}From: ${from}\nSubject: ${subject}\nMessage-ID: <tiny-${i}@example.com>\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\nChange ${i}.\n---\ndiff --git a/f${i}.c b/f${i}.c\n--- a/f${i}.c\n+++ b/f${i}.c\n@@ -1 +1 @@\n-a\n+b\n`;
  };
  for (let i = 1; i <= n; i++) {
    parts.push(one(i));
    if (opts.duplicate === i) parts.push(one(i).replace(`<tiny-${i}@`, `<tiny-${i}-again@`));
  }
  return new TextEncoder().encode(parts.join(""));
}
