/**
 * The mapper runs a posted rproc_pa_to_va() against the model's walk (src/semantics/map/pa_to_va.ts): bodies
 * written in other ways that answer the same pass; each way of answering differently is named.
 */
import { describe, expect, it } from "vitest";
import { cParser } from "../../src/node/c-parser.ts";
import { checkPaToVa } from "../../src/semantics/map/pa_to_va.ts";

const SIG = "void *rproc_pa_to_va(struct rproc *rproc, phys_addr_t pa, size_t len, bool *is_iomem)";

/** The fixture series' body with `cond` deciding the skip and `ret` the answer. */
const body = (
  cond = "!c->va || pa < c->dma || pa + len > c->dma + c->len",
  ret = "c->va + (pa - c->dma)",
  io = true,
) => `${SIG}
{
	struct rproc_mem_entry *c;

	list_for_each_entry(c, &rproc->carveouts, node) {
		if (${cond})
			continue;
		${io ? "if (is_iomem)\n\t\t\t*is_iomem = c->is_iomem;" : ""}
		return ${ret};
	}
	return NULL;
}`;

describe("a posted rproc_pa_to_va() run against the model's walk", () => {
  it("passes bodies written differently that answer the same (an early return, a signed offset and a break)", async () => {
    const parser = await cParser();
    expect(checkPaToVa(parser, body())).toEqual({ same: true, probes: 105 });
    const other = `${SIG}
{
	struct rproc_mem_entry *e;
	void *found = NULL;

	list_for_each_entry(e, &rproc->carveouts, node) {
		long long off = (long long)pa - (long long)e->dma;

		if (e->va == NULL || off < 0 || off + len > e->len)
			continue;
		found = (char *)e->va + off;
		if (is_iomem != NULL)
			*is_iomem = e->is_iomem;
		break;
	}
	return found;
}`;
    expect(checkPaToVa(parser, other)).toMatchObject({ same: true });
  });

  it("names the first probe where a body answers differently", async () => {
    const parser = await cParser();
    const cases: [string, string, RegExp][] = [
      [
        "no offset",
        body(undefined, "c->va"),
        /at pa 0x10000001, len 0x0 it returns carveout 0 \+ 0x0 where the model returns carveout 0 \+ 0x1/,
      ],
      [
        "off by one at the end",
        body("!c->va || pa < c->dma || pa + len >= c->dma + c->len"),
        /it returns NULL where the model returns carveout 0 \+ 0x/,
      ],
      [
        "an unmapped carveout taken",
        body("pa < c->dma || pa + len > c->dma + c->len"),
        /at pa 0x10000040, len 0x0 it returns NULL where the model returns carveout 0 \+ 0x40|where the model returns carveout 2/,
      ],
      [
        "is_iomem never set",
        body(undefined, undefined, false),
        /it sets is_iomem (true|false) where the model says/,
      ],
    ];
    for (const [what, text, why] of cases) {
      const r = checkPaToVa(parser, text);
      expect({ what, same: r.same }).toEqual({ what, same: false });
      if (!r.same) expect({ what, why: r.why }).toEqual({ what, why: expect.stringMatching(why) });
    }
  });

  it("a body that cannot run here (an API the check does not give, a member it does not lay out) says so", async () => {
    const parser = await cParser();
    const api = checkPaToVa(parser, body("!c->va || !fx_region_ok(c, pa, len)"));
    expect(api).toMatchObject({ same: false, why: expect.stringMatching(/ended unknown: .*fx_region_ok/) });
    const member = checkPaToVa(parser, body("!c->va || pa < c->pa || pa + len > c->pa + c->len"));
    expect(member).toMatchObject({ same: false, why: expect.stringMatching(/has no member pa/) });
  });
});
