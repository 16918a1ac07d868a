/**
 * printf-style formatting of interpreted values (C11 7.21.6.1 for the conversions the kernel's C uses: d i u
 * x X o c s p %, flags - + space # 0, width and precision, length hh h l ll z t j). A conversion it does not
 * know is an Unsupported error, never a guess.
 */
import type { Value } from "./memory.ts";
import { Unsupported } from "./values.ts";

export function formatC(fmt: string, args: readonly Value[], cstring: (p: Value) => string): string {
  let out = "";
  let a = 0;
  const next = (): Value => {
    const v = args[a++];
    if (v === undefined) throw new Unsupported(`printf format "${fmt}" needs more arguments`);
    return v;
  };
  const re = /%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?(hh|h|ll|l|z|t|j)?([diuxXocsp%])/gy;
  let i = 0;
  while (i < fmt.length) {
    const pct = fmt.indexOf("%", i);
    if (pct < 0) {
      out += fmt.slice(i);
      break;
    }
    out += fmt.slice(i, pct);
    re.lastIndex = pct;
    const m = re.exec(fmt);
    if (m === null) throw new Unsupported(`printf conversion at "${fmt.slice(pct, pct + 6)}"`);
    i = re.lastIndex;
    const flags = m[1] ?? "";
    const conv = m[5] as string;
    if (conv === "%") {
      out += "%";
      continue;
    }
    const widthText = m[2];
    let width = widthText === "*" ? Number(num(next())) : widthText === undefined ? 0 : Number(widthText);
    let left = flags.includes("-");
    if (width < 0) {
      left = true;
      width = -width;
    }
    const precText = m[3];
    const prec = precText === "*" ? Number(num(next())) : precText === undefined ? null : Number(precText);
    const len = m[4] ?? "";
    let body: string;
    let sign = "";
    let prefix = "";
    if (conv === "s") {
      const s = cstring(next());
      body = prec === null ? s : s.slice(0, prec);
    } else if (conv === "c") {
      body = String.fromCharCode(Number(BigInt.asUintN(8, num(next()))));
    } else if (conv === "p") {
      const v = next();
      body = `0x${BigInt.asUintN(64, num(v)).toString(16)}`;
    } else {
      const bits = len === "hh" ? 8 : len === "h" ? 16 : len === "" ? 32 : 64;
      const raw = num(next());
      const signed = conv === "d" || conv === "i";
      const v = signed ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw);
      const mag = v < 0n ? -v : v;
      if (v < 0n) sign = "-";
      else if (signed && flags.includes("+")) sign = "+";
      else if (signed && flags.includes(" ")) sign = " ";
      const radix = conv === "x" || conv === "X" ? 16 : conv === "o" ? 8 : 10;
      body = mag.toString(radix);
      if (conv === "X") body = body.toUpperCase();
      if (prec !== null) body = prec === 0 && mag === 0n ? "" : body.padStart(prec, "0");
      if (flags.includes("#") && mag !== 0n) {
        if (conv === "x") prefix = "0x";
        else if (conv === "X") prefix = "0X";
        else if (conv === "o" && !body.startsWith("0")) body = `0${body}`;
      }
    }
    const total = sign.length + prefix.length + body.length;
    if (total >= width) out += sign + prefix + body;
    else if (left) out += sign + prefix + body + " ".repeat(width - total);
    else if (flags.includes("0") && prec === null && conv !== "s" && conv !== "c")
      out += sign + prefix + "0".repeat(width - total) + body;
    else out += " ".repeat(width - total) + sign + prefix + body;
  }
  return out;
}

function num(v: Value): bigint {
  if (v.k === "int") return v.v;
  if (v.k === "ptr") return v.addr;
  throw new Unsupported(`printf argument of kind ${v.k}`);
}
