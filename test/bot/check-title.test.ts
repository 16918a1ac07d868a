import { describe, expect, it } from "vitest";
import { checkTitle } from "../../src/bot/jobs.ts";

describe("checkTitle", () => {
  it("keeps a short title and cuts a long one after a comma or a space, with an ellipsis", () => {
    expect(checkTitle("v15 → v16: 3 fixed")).toBe("v15 → v16: 3 fixed");
    const long = `v15 → v16: ${Array.from({ length: 30 }, (_, i) => `${i} things`).join(", ")}`;
    const t = checkTitle(long);
    expect(t.length).toBeLessThanOrEqual(200);
    expect(t).toMatch(/\d+ things…$/);
    expect(long.startsWith(t.slice(0, -1))).toBe(true);
    expect(checkTitle("x".repeat(300))).toBe(`${"x".repeat(199)}…`);
  });
});
