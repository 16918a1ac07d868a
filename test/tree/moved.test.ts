/**
 * src/tree/moved.ts on C of our own: a hunk git applies by offset is named when the section above where it
 * landed is not the one its @@ line names (git's cpp rule: goto labels are not sections), taking the earlier
 * hunks' growth off git's line number; hunks that stayed in their function are not named.
 */
import { describe, expect, it } from "vitest";
import type { FileChange, Hunk } from "../../src/series/types.ts";
import { describeMoved, movedHunks, sectionAbove } from "../../src/tree/moved.ts";

const PRE = [
  "static int alpha(int x)", // 1
  "{", // 2
  "\tif (x)", // 3
  "\t\tgoto out;", // 4
  "\tx++;", // 5
  "out:", // 6
  "\treturn x;", // 7
  "}", // 8
  "", // 9
  "static int beta(int x)", // 10
  "{", // 11
  "\tx--;", // 12
  "out:", // 13
  "\treturn x;", // 14
  "}", // 15
  "",
].join("\n");

function hunk(section: string, oldLines: number, newLines: number): Hunk {
  return {
    header: `@@ -1,${oldLines} +1,${newLines} @@ ${section}`,
    oldStart: 1,
    oldLines,
    newStart: 1,
    newLines,
    section,
    lines: [],
  };
}

function change(hunks: Hunk[], path = "drivers/remoteproc/fx.c"): FileChange {
  return { oldPath: path, newPath: path, path, status: "modified", hunks } as FileChange;
}

describe("hunks applied inside another function", () => {
  it("git's section above a line skips goto labels in C, not in other files", () => {
    const lines = PRE.split("\n");
    expect(sectionAbove(lines, 7, "a.c")).toBe("static int alpha(int x)");
    expect(sectionAbove(lines, 7, "Kconfig")).toBe("out:");
    expect(sectionAbove(lines, 14, "a.h")).toBe("static int beta(int x)");
    expect(sectionAbove(lines, 1, "a.c")).toBe("");
  });

  it("names a hunk written in beta that landed in alpha's identical tail, with its offset", () => {
    const c = change([hunk("static int beta(int x)", 3, 4)]);
    const moved = movedHunks(PRE, c, ["Hunk #1 succeeded at 6 (offset -7 lines)."]);
    expect(moved).toEqual([
      { hunk: 1, section: "static int beta(int x)", landed: "static int alpha(int x)", offset: -7 },
    ]);
    expect(describeMoved([{ index: 2, applied: [{ path: c.path, moved }] }], 3)).toEqual([
      'patch 2/3: hunk #1 of drivers/remoteproc/fx.c, written in "static int beta(int x)", applied 7 lines higher in "static int alpha(int x)": the C that ran has it there, not where the series wrote it',
    ]);
  });

  it("a hunk that stayed in its function is not named, nor one without a section or a note of git's", () => {
    const c = change([hunk("static int beta(int x)", 3, 4), hunk("", 3, 3)]);
    expect(movedHunks(PRE, c, ["Hunk #1 succeeded at 13 (offset 5 lines)."])).toEqual([]);
    expect(movedHunks(PRE, c, ["Hunk #2 succeeded at 6 (offset 2 lines)."])).toEqual([]);
    expect(movedHunks(PRE, c, ["warning: something else"])).toEqual([]);
    // git truncates long sections: what the @@ line carries is compared.
    expect(
      movedHunks(PRE, change([hunk("static int be", 3, 4)]), ["Hunk #1 succeeded at 13 (offset 1 line)."]),
    ).toEqual([]);
  });

  it("git counts a hunk's line with the earlier hunks applied: their growth is taken off", () => {
    // Hunk 1 added 6 lines above; git says hunk 2 is at 19, which is 13 (beta's out:) before the patch.
    const c = change([hunk("static int alpha(int x)", 2, 8), hunk("static int beta(int x)", 3, 3)]);
    expect(movedHunks(PRE, c, ["Hunk #2 succeeded at 19 (offset 9 lines)."])).toEqual([]);
    expect(movedHunks(PRE, c, ["Hunk #2 succeeded at 12 (offset 2 lines)."])).toEqual([
      { hunk: 2, section: "static int beta(int x)", landed: "static int alpha(int x)", offset: 2 },
    ]);
  });
});
