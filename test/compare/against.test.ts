import { describe, expect, it } from "vitest";
import { type BuiltinManifest, defaultComparison } from "../../src/compare/against.ts";
import type { Series } from "../../src/series/types.ts";

/** Just the fields the choice reads. */
function series(over: {
  major: number;
  resend?: boolean;
  cover?: string;
  patchIds?: string[];
  mentions?: string[];
}): Series {
  return {
    version: {
      label: `v${over.major}`,
      major: over.major,
      minor: null,
      resend: over.resend ?? false,
      rfc: false,
      tags: [],
    },
    cover: over.cover === undefined ? null : { messageId: over.cover },
    patches: (over.patchIds ?? ["p1"]).map((patchId, i) => ({
      messageId: `${over.cover ?? "x"}-${i}`,
      patchId,
    })),
    mentions: over.mentions ?? [],
  } as unknown as Series;
}

const manifests: BuiltinManifest[] = [
  { id: "v15", cover: { messageId: "c15" }, patches: [{ messageId: "c15-0", patchId: "a" }] },
  { id: "v16", cover: { messageId: "c16" }, patches: [{ messageId: "c16-0", patchId: "b" }] },
];

describe("the version a series is compared with by default", () => {
  it("is the built-in version with the same code (a RESEND)", () => {
    expect(
      defaultComparison(series({ major: 16, resend: true, cover: "r16", patchIds: ["b"] }), manifests),
    ).toBe("v16");
  });

  it("is the newest built-in version whose mails the series points at", () => {
    expect(defaultComparison(series({ major: 20, cover: "c20", mentions: ["c15"] }), manifests)).toBe("v15");
  });

  it("is the nearest older built-in version by number without manifests, else mainline", () => {
    expect(defaultComparison(series({ major: 16, cover: "n16" }))).toBe("v15");
    expect(defaultComparison(series({ major: 17, cover: "n17" }))).toBe("v16-resend");
    expect(defaultComparison(series({ major: 16, resend: true, cover: "n16r" }))).toBe("v16");
    expect(defaultComparison(series({ major: 2, cover: "n2" }))).toBe("mainline");
  });

  it("compares a built-in series with older built-ins only", () => {
    expect(defaultComparison(series({ major: 15, cover: "c15", patchIds: ["a"] }), manifests)).toBe("v14");
  });
});

describe("a changelog that names the version it follows", () => {
  it("picks that built-in version when code and mails do not say", () => {
    const s = series({ major: 20, cover: "c20" });
    (s as { cover: unknown }).cover = {
      messageId: "c20",
      changelog: [{ text: "x", heading: "Updates from version V14", refersTo: "v14", relation: "since" }],
    };
    expect(defaultComparison(s, manifests)).toBe("v14");
  });
});
