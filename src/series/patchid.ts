import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { FileChange } from "./types.ts";

const encoder = new TextEncoder();

/** SHA-256 of a text's UTF-8 bytes, in hex. */
export type Sha256Hex = (text: string) => string;

/** The portable SHA-256 (@noble/hashes): runs on Workers and Node alike. */
export const portableSha256Hex: Sha256Hex = (text) => bytesToHex(sha256(encoder.encode(text)));

let sha256Impl: Sha256Hex = portableSha256Hex;

/**
 * Hashes with the runtime's own SHA-256 from now on: src/node/hash.ts registers node:crypto's, several times
 * faster on an archive's patches than the portable one and the same digest (test/series/patchid.test.ts).
 */
export function useSha256(impl: Sha256Hex): void {
  sha256Impl = impl;
}

export function sha256Hex(text: string): string {
  return sha256Impl(text);
}

/**
 * Code identity of a patch, in the spirit of `git patch-id`: a hash of the paths and of the hunk lines
 * (kind and text) with all whitespace removed. Index lines, blob ids, hunk line numbers and the
 * function names after `@@` do not count, so a resend or a rebase without code change hashes the same.
 */
export function patchId(patch: { files: readonly FileChange[] }): string {
  const parts: string[] = [];
  for (const file of patch.files) {
    parts.push(
      `\u0001${file.oldPath ?? "/dev/null"}\u0000${file.newPath ?? "/dev/null"}\u0000${file.status}`,
    );
    for (const hunk of file.hunks) {
      parts.push("\u0002");
      for (const line of hunk.lines) {
        const kind = line.kind === "add" ? "+" : line.kind === "del" ? "-" : " ";
        parts.push(kind + line.text.replace(/\s+/g, ""));
      }
    }
  }
  return sha256Hex(parts.join("\n")).slice(0, 40);
}

/** Code identity of a whole series: its patch-ids in order. */
export function seriesCodeId(patches: readonly { patchId: string }[]): string {
  return sha256Hex(patches.map((p) => p.patchId).join("\n")).slice(0, 40);
}

/**
 * A storage key for one posting of a series: its id ("v16-resend") plus a hash of the lead Message-ID
 * (cover letter, else first patch) and of the code, so a force-pushed pull request gets a new key.
 */
export function seriesKey(series: {
  id: string;
  cover: { messageId: string } | null;
  patches: readonly { messageId: string; patchId: string }[];
}): string {
  const lead = series.cover?.messageId ?? series.patches[0]?.messageId ?? "";
  return `${series.id}-${sha256Hex(`${lead}\n${seriesCodeId(series.patches)}`).slice(0, 16)}`;
}
