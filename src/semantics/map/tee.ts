/**
 * Rules for tee and tee.*: the series adds drivers/remoteproc/remoteproc_tee.c in full, so the whole file is
 * parsed with tree-sitter and each fact is read from the functions that carry it.
 */
import type { Node, Parser } from "web-tree-sitter";
import type { TeeFacts, TeeFn, TeeLockFn } from "../facts.ts";
import { TeeFn as TeeFnEnum, TeeLockFn as TeeLockFnEnum } from "../facts.ts";
import {
  bodyOf,
  type CFile,
  calleeName,
  callsIn,
  InvokeInterpreter,
  indexFile,
  lineOf,
  reaches,
} from "./c.ts";
import { definedName } from "./cscope.ts";
import { consume, evidenceOf, RPROC_H, setTo, TEE_C, TEE_H, unknownAs } from "./derive.ts";
import type { Derived, Evidence } from "./types.ts";
import { type FileView, fullText, type SeriesView, sortedLines } from "./view.ts";

export type TeeDerived = { [K in keyof TeeFacts]: Derived<TeeFacts[K]> };

/** What the TEE facts are when a rule cannot read the file (shape only; status says "unknown"). */
const UNREAD: TeeFacts = {
  parseFwLoads: false,
  parseFwReleasesOnError: false,
  zeroSizeTable: "map-fails",
  invokeErrorResult: Object.fromEntries(
    TeeFnEnum.options.map((f) => [f, "propagate"]),
  ) as TeeFacts["invokeErrorResult"],
  releaseSkipsDetached: false,
  releaseOnlyWhenOffline: false,
  presenceChecks: [],
  ctxStorage: "devm",
  ctxLock: "none",
  lockedCalls: Object.fromEntries(
    TeeLockFnEnum.options.map((f) => [f, []]),
  ) as unknown as TeeFacts["lockedCalls"],
  entryAlloc: "devm-rproc-dev",
  entryLookup: "rproc-field",
  deviceLink: false,
  moduleGet: false,
  removeClosesSessions: false,
  removeFreesEntries: false,
  rscTableBits: "low32",
};

const INVOKE = "tee_client_invoke_func";
const LOCKS: Record<string, "spinlock" | "mutex"> = {
  spin_lock: "spinlock",
  spin_lock_irq: "spinlock",
  spin_lock_irqsave: "spinlock",
  spin_lock_bh: "spinlock",
  mutex_lock: "mutex",
  mutex_lock_interruptible: "mutex",
  mutex_lock_killable: "mutex",
};
const UNLOCK = /^(?:spin_unlock(?:_irq|_irqrestore|_bh)?|mutex_unlock)$/;

class TeeReader {
  readonly read = new Set<Node>();
  private readonly commands = new Map<string, Set<string>>();

  constructor(
    readonly file: CFile,
    readonly view: FileView,
  ) {}

  fn(name: string): Node | undefined {
    const node = this.file.functions.get(name);
    if (node) this.read.add(node);
    return node;
  }

  ev(node: Node | undefined): Evidence[] {
    if (node === undefined) return [];
    const line = this.view.lines.get(lineOf(node));
    return line ? evidenceOf(line) : [];
  }

  /** TA commands a function issues (macro names passed in its body), through the file's functions too. */
  commandsOf(name: string, seen = new Set<string>()): Set<string> {
    const cached = this.commands.get(name);
    if (cached) return cached;
    const out = new Set<string>();
    const fn = this.file.functions.get(name);
    if (fn === undefined || seen.has(name)) return out;
    seen.add(name);
    const invokes = reaches(this.file, name, INVOKE) || callsIn(fn).some((c) => calleeName(c) === INVOKE);
    if (invokes) {
      for (const id of fn.descendantsOfType("identifier")) {
        const m = id ? /^TA_\w*CMD_(\w+)$/.exec(id.text) : null;
        if (m?.[1]) out.add(m[1]);
      }
    }
    for (const c of callsIn(fn)) {
      const callee = calleeName(c);
      if (callee !== null && callee !== name) for (const cmd of this.commandsOf(callee, seen)) out.add(cmd);
    }
    this.commands.set(name, out);
    return out;
  }

  issues(name: string, kind: RegExp): boolean {
    return [...this.commandsOf(name)].some((c) => kind.test(c));
  }
}

/** File-scope `static struct <type> [*]name;` declarations: name, pointer or not, struct type, node. */
function staticStructs(file: CFile): Array<{ name: string; pointer: boolean; type: string; node: Node }> {
  const out: Array<{ name: string; pointer: boolean; type: string; node: Node }> = [];
  for (const node of file.others) {
    const m = /^static\s+struct\s+(\w+)\b/.exec(node.text);
    if (node.type !== "declaration" || !m?.[1]) continue;
    const d = node.childForFieldName("declarator");
    if (d === null || d.type === "function_declarator" || d.type === "init_declarator") continue;
    const pointer = d.type === "pointer_declarator";
    const id = pointer ? d.childForFieldName("declarator") : d;
    if (id?.type === "identifier") out.push({ name: id.text, pointer, type: m[1], node });
  }
  return out;
}

/**
 * The file-scope variable holding the driver-global context: the static struct whose TEE context the invokes
 * use (`tee_client_invoke_func(<var>.ctx, …)`), else one whose type is named like a context.
 */
function contextVariable(file: CFile): { name: string; pointer: boolean; node: Node } | null {
  const candidates = staticStructs(file);
  for (const fn of file.functions.values()) {
    for (const call of callsIn(fn)) {
      if (calleeName(call) !== INVOKE) continue;
      let arg = call.childForFieldName("arguments")?.namedChild(0) ?? null;
      while (arg !== null && arg.type === "field_expression") arg = arg.childForFieldName("argument");
      const used = candidates.find((c) => c.name === arg?.text);
      if (used) return used;
    }
  }
  return candidates.find((c) => /ctx|context/.test(c.type)) ?? null;
}

/** The functions a driver struct installs as .probe and .remove, else the usual names. */
function driverCallbacks(file: CFile): { probe: string; remove: string } {
  const pick = (member: string, fallback: string): string => {
    for (const node of file.others) {
      const m = new RegExp(`\\.${member}\\s*=\\s*(\\w+)`).exec(node.text);
      if (node.type === "declaration" && m?.[1] && file.functions.has(m[1])) return m[1];
    }
    return fallback;
  };
  return { probe: pick("probe", "rproc_tee_probe"), remove: pick("remove", "rproc_tee_remove") };
}

function exits(node: Node): boolean {
  return (
    node.descendantsOfType(["return_statement", "goto_statement"]).length > 0 ||
    /^(?:return|goto)\b/.test(node.text)
  );
}

function ifsBefore(fn: Node, limit: number): Node[] {
  return fn.descendantsOfType("if_statement").filter((n): n is Node => n !== null && n.startIndex < limit);
}

function firstCall(fn: Node, pred: (name: string) => boolean): Node | undefined {
  return callsIn(fn).find((c) => {
    const name = calleeName(c);
    return name !== null && pred(name);
  });
}

function invokeErrorResult(
  r: TeeReader,
  presence: RegExp | null,
): {
  results: Derived<TeeFacts["invokeErrorResult"]>;
  presence: Derived<TeeFn[]>;
} {
  const interp = new InvokeInterpreter(r.file, presence, new Set<string>(TeeFnEnum.options));
  const results = {} as TeeFacts["invokeErrorResult"];
  const checks: TeeFn[] = [];
  const evidence: Evidence[] = [];
  const checkEvidence: Evidence[] = [];
  let unknown = false;
  for (const name of TeeFnEnum.options) {
    const fn = r.fn(name);
    const a = interp.analyse(name);
    const invoke = fn ? firstCall(fn, (n) => n === INVOKE || reaches(r.file, n, INVOKE)) : undefined;
    evidence.push(...r.ev(invoke ?? fn));
    if (a.result === null || a.result === "unknown") {
      unknown = true;
      results[name] = "propagate";
    } else results[name] = a.result;
    if (a.checked) {
      checks.push(name);
      checkEvidence.push(...r.ev(fn));
    }
  }
  return {
    results: unknown ? unknownAs(results, evidence) : setTo(results, evidence),
    // No check anywhere: the evidence is the functions read and found without one.
    presence: setTo(checks, checkEvidence.length > 0 ? checkEvidence : evidence),
  };
}

function parseFwFacts(
  r: TeeReader,
): Pick<TeeDerived, "parseFwLoads" | "parseFwReleasesOnError" | "zeroSizeTable"> {
  const fn = r.fn("rproc_tee_parse_fw");
  if (fn === undefined) {
    return {
      parseFwLoads: unknownAs(false, []),
      parseFwReleasesOnError: unknownAs(false, []),
      zeroSizeTable: unknownAs("map-fails", []),
    };
  }
  const calls = callsIn(fn);
  const load = calls.find((c) => r.issues(calleeName(c) ?? "", /LOAD/));
  const rsc = calls.find((c) => r.issues(calleeName(c) ?? "", /RSC/));
  const release = calls.find((c) => r.issues(calleeName(c) ?? "", /RELEASE/));
  for (const c of calls) {
    const callee = calleeName(c);
    if (callee) r.fn(callee);
  }
  const loads = load !== undefined && (rsc === undefined || load.startIndex < rsc.startIndex);
  const map = calls.find((c) => /^ioremap/.test(calleeName(c) ?? ""));
  const size = map?.childForFieldName("arguments")?.namedChild(1)?.text;
  const sizeCheck =
    map !== undefined && size !== undefined
      ? ifsBefore(fn, map.startIndex).find((i) =>
          (i.childForFieldName("condition")?.text ?? "").includes(size),
        )
      : undefined;
  return {
    parseFwLoads: setTo(loads, r.ev(load ?? rsc ?? fn)),
    parseFwReleasesOnError: setTo(release !== undefined, r.ev(release ?? fn)),
    zeroSizeTable:
      map === undefined
        ? unknownAs("map-fails", r.ev(fn))
        : setTo(sizeCheck ? "no-table" : "map-fails", r.ev(sizeCheck ?? map)),
  };
}

function releaseFacts(r: TeeReader): Pick<TeeDerived, "releaseSkipsDetached" | "releaseOnlyWhenOffline"> {
  const fn = r.fn("rproc_tee_release_fw");
  if (fn === undefined)
    return { releaseSkipsDetached: unknownAs(false, []), releaseOnlyWhenOffline: unknownAs(false, []) };
  const invoke = firstCall(fn, (n) => n === INVOKE || reaches(r.file, n, INVOKE));
  const ifs = ifsBefore(fn, invoke?.startIndex ?? fn.endIndex);
  const find = (re: RegExp): Node | undefined =>
    ifs.find(
      (i) =>
        re.test(i.childForFieldName("condition")?.text ?? "") &&
        exits(i.childForFieldName("consequence") ?? i),
    );
  const detached = find(/==\s*RPROC_DETACHED\b/);
  const offline = find(/!=\s*RPROC_OFFLINE\b/);
  return {
    releaseSkipsDetached: setTo(detached !== undefined, r.ev(detached ?? fn)),
    releaseOnlyWhenOffline: setTo(offline !== undefined, r.ev(offline ?? fn)),
  };
}

/** An unlock in a branch that leaves the function (`if (…) { unlock; return …; }`): the lock stays held after it. */
function earlyExitUnlock(call: Node, fn: Node | undefined): boolean {
  for (let n = call.parent; n !== null && n.id !== fn?.id; n = n.parent) {
    if (n.parent?.type === "if_statement" && n.parent.childForFieldName("consequence")?.id === n.id)
      return exits(n);
  }
  return false;
}

function lockFacts(r: TeeReader): Pick<TeeDerived, "ctxLock" | "lockedCalls"> {
  const kinds = new Set<"spinlock" | "mutex">();
  const locked = {} as TeeFacts["lockedCalls"];
  const evidence: Evidence[] = [];
  const callbacks = driverCallbacks(r.file);
  const actual = (name: TeeLockFn): string =>
    name === "rproc_tee_probe" ? callbacks.probe : name === "rproc_tee_remove" ? callbacks.remove : name;
  for (const name of TeeLockFnEnum.options as readonly TeeLockFn[]) {
    const fn = r.fn(actual(name));
    const calls: string[] = [];
    let held = false;
    for (const c of fn ? callsIn(fn) : []) {
      const callee = calleeName(c) ?? "";
      const kind = LOCKS[callee];
      if (kind !== undefined) {
        kinds.add(kind);
        held = true;
        evidence.push(...r.ev(c));
      } else if (UNLOCK.test(callee)) held = earlyExitUnlock(c, fn) ? held : false;
      else if (held && callee !== "" && !calls.includes(callee)) calls.push(callee);
    }
    locked[name] = calls;
  }
  const lock: TeeFacts["ctxLock"] = kinds.size === 0 ? "none" : kinds.size === 1 ? [...kinds][0]! : "none";
  for (const node of r.file.others)
    if (/DEFINE_(?:SPINLOCK|MUTEX)|spinlock_t|struct\s+mutex/.test(node.text)) r.read.add(node);
  const ev = evidence.length > 0 ? evidence : r.ev(r.file.functions.get("rproc_tee_register"));
  return {
    ctxLock: kinds.size > 1 ? unknownAs(lock, ev) : setTo(lock, ev),
    // A locking function the file does not define cannot be read: its calls are not "none".
    lockedCalls: TeeLockFnEnum.options.every((n) => r.file.functions.has(actual(n)))
      ? setTo(locked, ev)
      : unknownAs(locked, ev),
  };
}

function lifetimeFacts(
  r: TeeReader,
  ctx: ReturnType<typeof contextVariable>,
): Pick<
  TeeDerived,
  | "ctxStorage"
  | "entryAlloc"
  | "entryLookup"
  | "deviceLink"
  | "moduleGet"
  | "removeClosesSessions"
  | "removeFreesEntries"
> {
  const callbacks = driverCallbacks(r.file);
  const probe = r.fn(callbacks.probe);
  const register = r.fn("rproc_tee_register");
  const remove = r.fn(callbacks.remove);
  if (ctx) r.read.add(ctx.node);
  let ctxStorage: Derived<TeeFacts["ctxStorage"]>;
  if (ctx === null) ctxStorage = unknownAs("devm", []);
  else if (!ctx.pointer) ctxStorage = setTo("static", r.ev(ctx.node));
  else {
    const alloc = probe
      ? probe
          .descendantsOfType("assignment_expression")
          .find(
            (a) =>
              a?.childForFieldName("left")?.text === ctx.name &&
              /^devm_/.test(a.childForFieldName("right")?.text ?? ""),
          )
      : undefined;
    ctxStorage = alloc ? setTo("devm", r.ev(alloc)) : unknownAs("devm", r.ev(ctx.node));
  }
  const regCalls = register ? callsIn(register) : [];
  const allocCall = regCalls.find((c) => /^(?:devm_)?k[mz]alloc$/.test(calleeName(c) ?? ""));
  const entryAlloc = allocCall
    ? setTo<TeeFacts["entryAlloc"]>(
        calleeName(allocCall)?.startsWith("devm_") ? "devm-rproc-dev" : "kzalloc",
        r.ev(allocCall),
      )
    : unknownAs<TeeFacts["entryAlloc"]>("kzalloc", r.ev(register));
  const link = regCalls.find(
    (c) => calleeName(c) === "device_link_add" && /DL_FLAG_AUTOREMOVE_CONSUMER/.test(c.text),
  );
  const moduleGet = regCalls.find((c) => calleeName(c) === "try_module_get");
  const removeCalls = remove ? callsIn(remove) : [];
  const closes = removeCalls.find((c) => calleeName(c) === "tee_client_close_session");
  const frees = removeCalls.find((c) => /^(?:devm_)?kfree$/.test(calleeName(c) ?? ""));
  return {
    ctxStorage,
    entryAlloc,
    entryLookup: entryLookup(r),
    deviceLink: setTo(link !== undefined, r.ev(link ?? register)),
    moduleGet: setTo(moduleGet !== undefined, r.ev(moduleGet ?? register)),
    removeClosesSessions: setTo(closes !== undefined, r.ev(closes ?? remove)),
    removeFreesEntries: setTo(frees !== undefined, r.ev(frees ?? remove)),
  };
}

/** How the TEE functions find the per-rproc entry: the initialiser of their `struct rproc_tee *` local. */
function entryLookup(r: TeeReader): Derived<TeeFacts["entryLookup"]> {
  for (const name of TeeFnEnum.options) {
    const fn = r.file.functions.get(name);
    const body = fn ? bodyOf(fn) : null;
    for (const decl of body?.namedChildren ?? []) {
      if (decl?.type !== "declaration") continue;
      const initDecl = decl.descendantsOfType("init_declarator")[0];
      const init = initDecl?.childForFieldName("value");
      // The per-rproc entry: a struct pointer local initialised from the rproc (a field, or a lookup helper).
      if (
        !init ||
        initDecl?.childForFieldName("declarator")?.type !== "pointer_declarator" ||
        !/^struct\s/.test(decl.text)
      )
        continue;
      if (!/\brproc\b/.test(init.text)) continue;
      if (init.type === "field_expression") return setTo("rproc-field", r.ev(init));
      if (init.type === "call_expression") {
        const helper = r.fn(calleeName(init) ?? "");
        if (helper && /\blist_for_each_entry\w*\s*\(/.test(helper.text))
          return setTo("list-walk", r.ev(init));
      }
      return unknownAs("rproc-field", r.ev(init));
    }
  }
  return unknownAs("rproc-field", []);
}

/** Functions that name a TA command themselves (not through a callee), with the command matching `kind`. */
function issuersOf(r: TeeReader, kind: RegExp): Node[] {
  return [...r.file.functions.values()].filter((fn) =>
    fn
      .descendantsOfType("identifier")
      .some((id) => id !== null && kind.test(/^TA_\w*CMD_(\w+)$/.exec(id.text)?.[1] ?? "")),
  );
}

function rscTableBits(r: TeeReader): Derived<TeeFacts["rscTableBits"]> {
  for (const fn of issuersOf(r, /RSC/)) {
    r.read.add(fn);
    const high = fn
      .descendantsOfType("field_expression")
      .find((f) => f !== null && /\.\s*b$/.test(f.text) && /value/.test(f.text));
    return setTo(high ? "full64" : "low32", r.ev(high ?? fn));
  }
  return unknownAs("low32", []);
}

/** Marks the lines of every node a rule read, plus inert top-level lines (includes, defines, types). */
function consumeRead(r: TeeReader, view: FileView): void {
  const mark = (node: Node): void => {
    for (let row = node.startPosition.row; row <= node.endPosition.row; row++)
      consume(view.lines.get(row + 1));
  };
  for (const node of r.read) mark(node);
  const readNames = new Set(
    [...r.read].map((n) => (n.type === "function_definition" ? definedName(n) : null)),
  );
  for (const [, l] of sortedLines(view)) {
    const exported = /^EXPORT_SYMBOL(?:_GPL)?\((\w+)\);/.exec(l.text.trim());
    if (exported?.[1] && readNames.has(exported[1])) consume(l);
  }
  for (const node of r.file.others) {
    if (/^(?:preproc_include|preproc_def|struct_specifier|comment)$/.test(node.type)) mark(node);
    else if (node.type === "declaration" && /\.(?:probe|remove)\s*=/.test(node.text)) mark(node);
  }
  // Helpers the read functions call (argument packing, lookups) are read with them.
  for (const [name, fn] of r.file.functions) {
    if (
      [...r.read].some(
        (n) => n.type === "function_definition" && callsIn(n).some((c) => calleeName(c) === name),
      )
    )
      mark(fn);
  }
}

/** Header lines that declare what remoteproc_tee.c defines, and the struct rproc field the lookup uses. */
function consumeHeaders(view: SeriesView, lookup: TeeFacts["entryLookup"]): void {
  const header = view.files.get(TEE_H);
  // Prototypes and type declarations (outside any function body) describe what remoteproc_tee.c defines; the
  // configuration switch and the stubs for a kernel without the driver are behaviour of their own.
  for (const [, l] of header ? sortedLines(header) : []) {
    const t = l.text.trim();
    if (/^#(?:if|else|elif|endif)\b/.test(t) && /CONFIG_|^#else|^#endif \/\* CONFIG/.test(t)) continue;
    if (l.fn === null || l.fn.startsWith("struct ")) consume(l);
  }
  const rproc = view.files.get(RPROC_H);
  if (lookup === "rproc-field")
    for (const [, l] of rproc ? sortedLines(rproc) : [])
      if (l.added !== null && /\brproc_tee\b|rproc_tee_itf/.test(l.text)) consume(l);
}

export interface TeeResult {
  present: Derived<boolean>;
  facts: TeeDerived | null;
}

export function deriveTee(parser: Parser, view: SeriesView): TeeResult {
  const file = view.files.get(TEE_C);
  if (file === undefined || (file.deleted && file.lines.size === 0))
    return { present: { value: false, status: "baseline", evidence: [] }, facts: null };
  const text = fullText(file);
  const first = sortedLines(file).find(([, l]) => l.added !== null)?.[1];
  if (text === null) {
    // The series edits a remoteproc_tee.c that v6.15 does not have: nothing here can be read.
    const all = Object.fromEntries(
      Object.entries(UNREAD).map(([k, v]) => [k, unknownAs(v, first ? evidenceOf(first) : [])]),
    );
    return { present: unknownAs(true, first ? evidenceOf(first) : []), facts: all as TeeDerived };
  }
  const tree = parser.parse(text);
  if (tree === null) throw new Error("tree-sitter returned no tree");
  const cfile = indexFile(tree);
  const r = new TeeReader(cfile, file);
  const ctx = contextVariable(cfile);
  const presence = ctx ? new RegExp(`!\\s*${ctx.name}\\b(?!\\s*(?:\\.|->)\\s*\\w+\\s*\\()`) : null;
  const invoke = invokeErrorResult(r, presence);
  const lifetime = lifetimeFacts(r, ctx);
  const facts: TeeDerived = {
    ...parseFwFacts(r),
    invokeErrorResult: invoke.results,
    ...releaseFacts(r),
    presenceChecks: invoke.presence,
    ...lockFacts(r),
    ...lifetime,
    rscTableBits: rscTableBits(r),
  };
  consumeRead(r, file);
  consumeHeaders(view, facts.entryLookup.value);
  tree.delete();
  return { present: setTo(true, first ? evidenceOf(first) : []), facts };
}
