/**
 * A series applied to a kernel tree (Node-only: runs git, reads files). The tree is never written: the
 * base files (blobs of the series' base-commit when the tree is a git repository that has it, else the
 * files as they are) are copied into a temporary git repository that borrows the tree's objects (so a
 * three-way merge finds the blobs a patch names), the patches are applied there one by one with
 * `git apply --3way`, and the temporary repository is removed.
 */
import { spawn } from "node:child_process";
import { lstat, mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { InputError } from "../errors.ts";
import type { FileChange, Series } from "../series/types.ts";
import {
  type AppliedFile,
  applyWithoutTree,
  assembleReport,
  checkPath,
  type LeftOut,
  type MissingFilePolicy,
  MODELLED_FILES,
  type PatchOutcome,
  renderDiff,
  reportedFiles,
  type TreeBase,
  type TreeReport,
} from "../tree/index.ts";
import { movedHunks } from "../tree/moved.ts";
import { pathsOf } from "../tree/paths.ts";

export const KERNEL_TREE_ENV = "RPROC_REVIEW_KERNEL_TREE";

export interface KernelTreeChoice {
  dir: string;
  /** Where it was named: --kernel-tree, the git: input's repository, the environment, the current directory. */
  from: "option" | "git-input" | "env" | "cwd";
}

interface GitRun {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Environment variables that would point git at another repository, index or object store. */
const REDIRECTING =
  /^GIT_(?:DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|NAMESPACE|COMMON_DIR|CEILING_DIRECTORIES|PREFIX)$/;

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!REDIRECTING.test(k)) env[k] = v;
  env.LC_ALL = "C";
  env.GIT_TERMINAL_PROMPT = "0";
  return env;
}

/** For the temporary repository: no user or system configuration, attributes or hooks. */
function isolatedEnv(home: string): NodeJS.ProcessEnv {
  return {
    ...cleanEnv(),
    HOME: home,
    XDG_CONFIG_HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: "rproc-review",
    GIT_AUTHOR_EMAIL: "rproc-review@localhost",
    GIT_COMMITTER_NAME: "rproc-review",
    GIT_COMMITTER_EMAIL: "rproc-review@localhost",
    GIT_AUTHOR_DATE: "2000-01-01T00:00:00Z",
    GIT_COMMITTER_DATE: "2000-01-01T00:00:00Z",
  };
}

function git(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, input?: string): Promise<GitRun> {
  return new Promise((done, fail) => {
    const child = spawn("git", args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e: NodeJS.ErrnoException) =>
      fail(
        e.code === "ENOENT"
          ? new InputError("git is not installed: it is needed to apply a series to a kernel tree")
          : e,
      ),
    );
    child.on("close", (code) =>
      done({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") }),
    );
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  });
}

async function gitOk(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await git(args, cwd, env);
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${r.stderr.trim()}`);
  return r.stdout.toString("utf8");
}

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() === true;
}

/** A directory that holds the remoteproc sources: drivers/remoteproc/ or include/linux/remoteproc.h. */
export async function isKernelTree(dir: string): Promise<boolean> {
  if (await isDir(join(dir, "drivers", "remoteproc"))) return true;
  return (await stat(join(dir, "include", "linux", "remoteproc.h")).catch(() => null))?.isFile() === true;
}

/** The top of the git work tree `dir` is in, when `dir` is that top; else null. */
async function gitTop(dir: string): Promise<string | null> {
  const r = await git(["rev-parse", "--show-toplevel"], dir, cleanEnv()).catch(() => null);
  if (r === null || r.code !== 0) return null;
  const top = r.stdout.toString("utf8").trim();
  return top !== "" && (await realpath(top)) === (await realpath(dir)) ? top : null;
}

/**
 * The kernel tree to use: `--kernel-tree DIR`, else the repository of a `git:` input, else
 * $RPROC_REVIEW_KERNEL_TREE, else the current directory (or the top of its git work tree) when it is a
 * kernel tree; null when none. A directory named explicitly that is not a kernel tree is an error.
 */
export async function resolveKernelTree(opts: {
  option?: string | undefined;
  input?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}): Promise<KernelTreeChoice | null> {
  const env = opts.env ?? process.env;
  const named = async (dir: string, from: KernelTreeChoice["from"], what: string) => {
    const full = resolve(dir);
    if (!(await isDir(full))) throw new InputError(`no such directory (${what})`, { subject: dir });
    if (!(await isKernelTree(full)))
      throw new InputError(
        `not a kernel tree (${what}): it has no drivers/remoteproc/ nor include/linux/remoteproc.h`,
        {
          subject: dir,
        },
      );
    return { dir: full, from };
  };
  if (opts.option !== undefined && opts.option !== "") return named(opts.option, "option", "--kernel-tree");
  const gitInput = opts.input?.startsWith("git:") ? /^git:(.+):[^:\s]+?\.\.[^:\s]+$/.exec(opts.input) : null;
  if (gitInput?.[1] !== undefined && (await isKernelTree(resolve(gitInput[1]))))
    return { dir: resolve(gitInput[1]), from: "git-input" };
  const fromEnv = env[KERNEL_TREE_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return named(fromEnv, "env", KERNEL_TREE_ENV);
  const cwd = resolve(opts.cwd ?? process.cwd());
  if (await isKernelTree(cwd)) return { dir: cwd, from: "cwd" };
  // A subdirectory of a kernel git tree: its top.
  const top = await workTreeTop(cwd);
  if (top !== null && (await isKernelTree(top))) return { dir: top, from: "cwd" };
  return null;
}

/**
 * The top of the git work tree `dir` is in: the nearest directory from `dir` up that has a .git (a directory,
 * or a file for a worktree or submodule), as `git rev-parse --show-toplevel` finds it with the redirecting
 * variables cleared; null when none. Without spawning git: every review that names no tree asks this.
 */
async function workTreeTop(dir: string): Promise<string | null> {
  for (let d = dir; ; ) {
    if ((await lstat(join(d, ".git")).catch(() => null)) !== null) return d;
    const up = dirname(d);
    if (up === d) return null;
    d = up;
  }
}

interface BaseFiles {
  base: TreeBase;
  /** Raw bytes of every looked-at file the base has. */
  bytes: Map<string, Buffer>;
  /** The tree's object directory, when it is a git repository. */
  objects: string | null;
}

function short(sha: string): string {
  return sha.slice(0, 12);
}

/** Blobs `<commit>:<path>` of a repository, through one `git cat-file --batch`. */
async function readBlobs(
  dir: string,
  commit: string,
  paths: readonly string[],
): Promise<Map<string, Buffer>> {
  const r = await git(
    ["cat-file", "--batch"],
    dir,
    cleanEnv(),
    paths.map((p) => `${commit}:${p}\n`).join(""),
  );
  if (r.code !== 0) throw new Error(`git cat-file --batch failed in ${dir}: ${r.stderr.trim()}`);
  const out = new Map<string, Buffer>();
  let at = 0;
  for (const path of paths) {
    const nl = r.stdout.indexOf(0x0a, at);
    if (nl < 0) throw new Error(`git cat-file --batch in ${dir}: output ends early at ${path}`);
    const header = r.stdout.subarray(at, nl).toString("utf8");
    at = nl + 1;
    const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (m === null) continue; // "<spec> missing" (or ambiguous): the base has no such file
    const size = Number(m[2]);
    if (m[1] === "blob") out.set(path, Buffer.from(r.stdout.subarray(at, at + size)));
    at += size + 1;
  }
  return out;
}

async function readWorktree(dir: string, paths: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const p of paths) {
    const full = join(dir, p);
    const info = await lstat(full).catch(() => null);
    if (info?.isFile()) out.set(p, await readFile(full));
  }
  return out;
}

async function readBase(series: Series, tree: string, paths: readonly string[]): Promise<BaseFiles> {
  const top = await gitTop(tree);
  if (top === null) {
    const reason =
      series.base === null
        ? "the series names no base-commit"
        : `not a git repository, so the series' base-commit ${short(series.base)} cannot be looked up`;
    return {
      base: { kind: "worktree", tree, git: false, head: null, reason },
      bytes: await readWorktree(tree, paths),
      objects: null,
    };
  }
  const env = cleanEnv();
  const objectsRel = (await gitOk(["rev-parse", "--git-path", "objects"], tree, env)).trim();
  const objects = isAbsolute(objectsRel) ? objectsRel : resolve(tree, objectsRel);
  if (series.base !== null && /^[0-9a-f]{4,40}$/i.test(series.base)) {
    const r = await git(["rev-parse", "--verify", "--quiet", `${series.base}^{commit}`], tree, env);
    const commit = r.code === 0 ? r.stdout.toString("utf8").trim() : "";
    if (commit !== "")
      return {
        base: { kind: "commit", tree, commit, named: series.base },
        bytes: await readBlobs(tree, commit, paths),
        objects,
      };
  }
  const head = await git(["rev-parse", "--verify", "--quiet", "HEAD"], tree, env);
  const reason =
    series.base === null
      ? "the series names no base-commit"
      : `the series' base-commit ${short(series.base)} is not in this repository`;
  return {
    base: {
      kind: "worktree",
      tree,
      git: true,
      head: head.code === 0 ? head.stdout.toString("utf8").trim() : null,
      reason,
    },
    bytes: await readWorktree(tree, paths),
    objects,
  };
}

/** What `git apply -v --3way` said about each file, and why it failed when it did. */
function readApplyOutput(stderr: string): {
  files: Map<string, AppliedFile>;
  errors: string[];
  noBlobs: boolean;
} {
  const files = new Map<string, AppliedFile>();
  const errors: string[] = [];
  let noBlobs = false;
  let current: AppliedFile | null = null;
  for (const line of stderr.split("\n")) {
    const checking = /^Checking patch (.+)\.\.\.$/.exec(line);
    if (checking?.[1] !== undefined) {
      const path = checking[1].includes(" => ") ? (checking[1].split(" => ")[1] as string) : checking[1];
      current = { path, method: "direct", notes: [] };
      files.set(path, current);
      continue;
    }
    if (/^Applied patch to '.+' (?:cleanly|with conflicts)\.$/.test(line) && current !== null) {
      current.method = "three-way";
      if (line.endsWith("with conflicts.")) errors.push(`three-way merge of ${current.path} has conflicts`);
      continue;
    }
    if (line.startsWith("error: repository lacks the necessary blob")) {
      noBlobs = true;
      continue;
    }
    if (/^Hunk #\d+ succeeded at /.test(line) && current !== null) current.notes.push(line);
    else if (line === "error: while searching for:")
      continue; // the context lines follow, unprefixed
    else if (line.startsWith("error: ")) errors.push(line.slice("error: ".length));
    else if (line.startsWith("warning: ") && current !== null) current.notes.push(line);
  }
  return { files, errors: condense([...new Set(errors)]), noBlobs };
}

/** git's one line per missing file, grouped: "not in the tree: a, b, c". */
function condense(errors: readonly string[]): string[] {
  const missing: string[] = [];
  const existing: string[] = [];
  const rest: string[] = [];
  for (const e of errors) {
    const m = /^(.+): does not exist in index$/.exec(e);
    const x = /^(.+): already exists in (?:index|working directory)$/.exec(e);
    if (m?.[1] !== undefined) missing.push(m[1]);
    else if (x?.[1] !== undefined) existing.push(x[1]);
    else rest.push(e);
  }
  return [
    ...(missing.length > 0 ? [`not in the tree: ${missing.join(", ")}`] : []),
    ...(existing.length > 0 ? [`already exists: ${existing.join(", ")}`] : []),
    ...rest,
  ];
}

export interface ApplyTreeOptions {
  policy?: MissingFilePolicy;
}

/**
 * Applies the series to a kernel tree (or, with `tree` null, gives the files it creates whole). Patches
 * apply in order; one that fails leaves nothing of itself and the next is applied without it.
 */
export async function applySeriesToTree(
  series: Series,
  tree: string | null,
  opts: ApplyTreeOptions = {},
): Promise<TreeReport> {
  if (tree === null) return applyWithoutTree(series);
  const policy = opts.policy ?? "leave-out";
  const paths = new Set<string>(MODELLED_FILES);
  for (const p of series.patches)
    for (const f of p.files)
      for (const path of pathsOf(f)) paths.add(checkPath(path, `patch ${p.index}/${series.total}`));
  for (const p of reportedFiles(series)) paths.add(p);
  const sorted = [...paths].sort();
  const base = await readBase(series, resolve(tree), sorted);

  const work = await mkdtemp(join(tmpdir(), "rproc-review-tree-"));
  try {
    const repo = join(work, "repo");
    const home = join(work, "home");
    await mkdir(repo);
    await mkdir(home);
    const env = isolatedEnv(home);
    await gitOk(["init", "-q"], repo, env);
    if (base.objects !== null)
      await writeFile(join(repo, ".git", "objects", "info", "alternates"), `${base.objects}\n`);
    for (const [p, bytes] of base.bytes) {
      await mkdir(dirname(join(repo, p)), { recursive: true });
      await writeFile(join(repo, p), bytes);
    }
    const commit = (message: string) =>
      gitOk(
        ["-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "--no-verify", "-m", message],
        repo,
        env,
      );
    await gitOk(["add", "-A"], repo, env);
    await commit("base");

    const present = new Set(base.bytes.keys());
    const createdBy = new Map<string, number>();
    const patches: PatchOutcome[] = [];
    for (const patch of series.patches) {
      const kept: FileChange[] = [];
      const leftOut: LeftOut[] = [];
      for (const change of patch.files) {
        if (change.status === "binary") {
          leftOut.push({ path: change.path, why: "binary diff" });
          continue;
        }
        const old = change.oldPath;
        if (policy === "leave-out" && change.status !== "added" && (old === null || !present.has(old))) {
          const creator = old === null ? undefined : createdBy.get(old);
          leftOut.push({
            path: change.path,
            why:
              creator !== undefined ? `created by patch ${creator}, which did not apply` : "not in the tree",
          });
          continue;
        }
        kept.push(change);
      }
      const files = [...new Set(kept.flatMap(pathsOf))];
      const outcome: PatchOutcome = {
        index: patch.index,
        title: patch.title,
        status: "nothing-to-apply",
        reason: null,
        files,
        applied: [],
        leftOut,
      };
      patches.push(outcome);
      if (kept.length === 0) continue;
      const diffFile = join(work, `patch-${patch.index}.diff`);
      await writeFile(diffFile, renderDiff(kept));
      // The files as they are before this patch: where a hunk applied by offset is read there.
      const before = new Map<string, string>();
      for (const c of kept)
        if (c.oldPath !== null && present.has(c.oldPath))
          before.set(c.path, await readFile(join(repo, c.oldPath), "utf8").catch(() => ""));
      const r = await git(["apply", "--3way", "-v", diffFile], repo, env);
      const said = readApplyOutput(r.stderr);
      if (r.code === 0) {
        outcome.status = "applied";
        outcome.applied = kept.map((c) => {
          const f = said.files.get(c.path) ?? { path: c.path, method: "direct" as const, notes: [] };
          const moved = movedHunks(before.get(c.path) ?? "", c, f.notes);
          return moved.length > 0 ? { ...f, moved } : f;
        });
        await commit(`patch ${patch.index}`);
        for (const c of kept) {
          if (c.oldPath !== null) present.delete(c.oldPath);
          if (c.newPath !== null) present.add(c.newPath);
        }
      } else {
        outcome.status = "failed";
        for (const c of kept)
          if (c.status === "added" && c.newPath !== null) createdBy.set(c.newPath, patch.index);
        const errors =
          said.errors.length > 0 ? said.errors : [r.stderr.trim() || `git apply exited with ${r.code}`];
        outcome.reason =
          errors.join("; ") +
          (said.noBlobs && errors.some((e) => e.endsWith("patch does not apply"))
            ? " (no three-way merge: the tree lacks the blobs the patch was made against)"
            : "");
        await gitOk(["reset", "-q", "--hard", "HEAD"], repo, env);
        await gitOk(["clean", "-q", "-f", "-d"], repo, env);
      }
    }
    const baseTexts = new Map<string, string>();
    const finalTexts = new Map<string, string>();
    const decoder = new TextDecoder("utf-8");
    for (const [p, b] of base.bytes) baseTexts.set(p, decoder.decode(b));
    for (const p of present) {
      if (!paths.has(p)) continue;
      const info = await lstat(join(repo, p)).catch(() => null);
      if (info?.isFile()) finalTexts.set(p, decoder.decode(await readFile(join(repo, p))));
    }
    return assembleReport(series, { base: base.base, policy, patches, baseTexts, finalTexts });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
