/**
 * Which function (or struct, or initialised table) each line of a hunk belongs to: the hunk header names the
 * scope the hunk starts in; a C parse of the hunk text finds the definitions that start inside it.
 */
import type { Node, Parser } from "web-tree-sitter";

/** Name of a function definition, a struct/enum definition ("struct x") or an initialised variable. */
export function definedName(node: Node): string | null {
  if (node.type === "function_definition") {
    let d = node.childForFieldName("declarator");
    while (d !== null && d.type !== "function_declarator") d = d.childForFieldName("declarator");
    const id = d?.childForFieldName("declarator");
    return id?.type === "identifier" ? id.text : null;
  }
  if (node.type === "struct_specifier" || node.type === "enum_specifier" || node.type === "union_specifier") {
    const name = node.childForFieldName("name");
    const kind = node.type.replace("_specifier", "");
    return name !== null && node.childForFieldName("body") !== null ? `${kind} ${name.text}` : null;
  }
  if (node.type === "declaration") {
    for (const init of node.childrenForFieldName("declarator")) {
      if (init.type !== "init_declarator") continue;
      if (init.childForFieldName("value")?.type !== "initializer_list") continue;
      let d = init.childForFieldName("declarator");
      while (d !== null && d.type !== "identifier") d = d.childForFieldName("declarator");
      if (d !== null) return d.text;
    }
    const spec = node.childForFieldName("type");
    if (spec !== null) return definedName(spec);
  }
  return null;
}

/** The scope a hunk header's section names, or null (a prototype, a non-C line). */
export function scopeName(section: string): string | null {
  return headerScope(section)?.name ?? null;
}

/** The scope a hunk header's section names, and whether it is data (a type, an initialised table). */
function headerScope(section: string): { name: string; data: boolean } | null {
  const s = section.trim();
  if (s === "" || s.endsWith(";")) return null;
  const agg = /^(?:typedef\s+)?(struct|enum|union)\s+(\w+)\s*\{/.exec(s);
  if (agg) return { name: `${agg[1]} ${agg[2]}`, data: true };
  const table = /(\w+)\s*(?:\[\s*\w*\s*\])?\s*=\s*\{?\s*$/.exec(s);
  if (table?.[1] !== undefined) return { name: table[1], data: true };
  const fn = /(\w+)\s*\(/.exec(s);
  return fn?.[1] !== undefined ? { name: fn[1], data: false } : null;
}

/** Top-level definitions (name, first row, last row) of a C text. */
export function topDefinitions(
  parser: Parser,
  text: string,
): Array<{ name: string; start: number; end: number; data: boolean }> {
  const tree = parser.parse(text);
  if (tree === null) return [];
  const out: Array<{ name: string; start: number; end: number; data: boolean }> = [];
  const visit = (node: Node): void => {
    for (const child of node.namedChildren) {
      if (child === null) continue;
      const name = definedName(child);
      if (name !== null && child.endPosition.row > child.startPosition.row) {
        out.push({
          name,
          start: child.startPosition.row,
          end: child.endPosition.row,
          data: child.type !== "function_definition",
        });
      } else if (child.type === "ERROR" || child.type.startsWith("preproc_")) visit(child);
    }
  };
  visit(tree.rootNode);
  tree.delete();
  return out;
}

/**
 * Scope of each line of one side of a hunk. Lines before the first definition that starts in the hunk belong
 * to the header's scope until a closing brace in column 0 ends it; lines inside a definition belong to it.
 * The names of data scopes (types, initialised tables: no code runs in them) are added to `data`.
 */
export function scopesOf(
  parser: Parser,
  section: string,
  lines: readonly string[],
  data?: Set<string>,
): Array<string | null> {
  const defs = topDefinitions(parser, lines.join("\n")).filter((d) => /^\S/.test(lines[d.start] ?? ""));
  const out: Array<string | null> = [];
  const header = headerScope(section);
  if (header?.data) data?.add(header.name);
  let open: string | null = header?.name ?? null;
  for (let row = 0; row < lines.length; row++) {
    const def = defs.find((d) => row >= d.start && row <= d.end);
    if (def !== undefined) {
      if (def.data) data?.add(def.name);
      out.push(def.name);
      open = null;
      continue;
    }
    out.push(open);
    if (open !== null && /^\}/.test(lines[row] ?? "")) open = null;
  }
  return out;
}
