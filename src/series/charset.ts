/**
 * Archives hold mails whose declared charset cannot be right: "unknown-8bit", "x-unknown", labels no
 * decoder knows, or "us-ascii" over 8-bit bytes. When such a single-part text mail's body is valid UTF-8
 * (what git send-email writes), declare it as UTF-8 before MIME parsing, so names and code survive.
 */

const ASCII_LABELS = new Set([
  "us-ascii",
  "ascii",
  "ansi_x3.4-1968",
  "iso646-us",
  "unknown-8bit",
  "x-unknown",
]);
const latin1 = (bytes: Uint8Array): string => {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
};

function known(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}

function headerEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    if (bytes[i + 1] === 0x0a) return i + 1;
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return i + 2;
  }
  return -1;
}

export function repairCharset(bytes: Uint8Array): Uint8Array {
  const end = headerEnd(bytes);
  if (end < 0) return bytes;
  const head = latin1(bytes.subarray(0, end)).replace(/\r?\n[ \t]+/g, " ");
  const type = /^content-type:[ \t]*text\/plain\b([^\n]*)/im.exec(head);
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(type?.[1] ?? "");
  const cte = /^content-transfer-encoding:[ \t]*(\S+)/im.exec(head)?.[1]?.toLowerCase() ?? "7bit";
  if (!type || !charset || !["7bit", "8bit", "binary"].includes(cte)) return bytes;
  const label = (charset[1] as string).toLowerCase();
  if (!ASCII_LABELS.has(label) && known(label)) return bytes;
  const body = bytes.subarray(end);
  if (body.every((b) => b < 0x80)) return bytes;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return bytes;
  }
  const raw = latin1(bytes.subarray(0, end));
  const fixed = raw.replace(
    /^(content-type:[ \t]*text\/plain(?:[^\n]|\r?\n[ \t])*?;\s*charset\s*=\s*)"?[^";\s]+"?/im,
    (_, prefix: string) => `${prefix}utf-8`,
  );
  const out = new Uint8Array(fixed.length + body.length);
  for (let i = 0; i < fixed.length; i++) out[i] = fixed.charCodeAt(i);
  out.set(body, fixed.length);
  return out;
}
