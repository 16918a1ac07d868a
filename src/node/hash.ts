/**
 * Node's own SHA-256 for the core's hashing (patch-ids, code ids, series keys): imported for its effect by the
 * Node modules that read mail (inputs.ts, archive.ts). Workers keep the portable one.
 */
import { createHash } from "node:crypto";
import { type Sha256Hex, useSha256 } from "../series/patchid.ts";

/** SHA-256 of the text's UTF-8 bytes (lone surrogates as U+FFFD, as TextEncoder encodes them), in hex. */
export const nodeSha256Hex: Sha256Hex = (text) => createHash("sha256").update(text, "utf8").digest("hex");

useSha256(nodeSha256Hex);
