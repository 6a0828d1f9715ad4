import { type Dirent, type FSWatcher, readdirSync, realpathSync, statSync, watch } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** Directories not worth a watch: they never hold what the gateway loads, and can be huge. */
const SKIPPED = new Set([".git", "node_modules"]);
/** A bound on the walk (a symbolic link to "/" must not freeze the gateway); past it, onError says so. */
const MAX_DIRS = 4096;

interface Armed {
  readonly watcher: FSWatcher;
  /** The directory's identity when armed: a directory replaced by rename has the same path, not the same inode. */
  readonly inode: string;
  /** Names that matter in this directory; undefined: all of them. */
  names: Set<string> | undefined;
}

/**
 * Watches directories (recursively) and calls `onChange` once a burst of file events has been quiet for
 * `debounceMs`: saving a file or copying a tree of protos triggers one reload, not dozens.
 *
 * Every directory of the trees is watched on its own (never a file: a file saved by rename, as `mv`,
 * `sed -i`, rsync and editors' safe write do, is a new inode that a file watch would not follow), and
 * after each burst the watches are re-armed: new directories are watched, and a directory replaced by
 * rename (same path, new inode) is watched again. Symbolic links are followed to the directory of their
 * target, and the parent of each watched directory is watched for that directory's name, so that a
 * Kubernetes ConfigMap update (a `..data` link swapped to a new `..2026_...` directory) and a whole
 * directory replaced by rename are both seen. `onError` receives what the operating system refuses
 * (e.g. ENOSPC: too many inotify watches).
 */
export class DirectoryWatcher {
  private readonly roots: string[];
  private readonly armed = new Map<string, Armed>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private tooMany = false;

  constructor(
    dirs: readonly string[],
    private readonly onChange: () => void,
    private readonly onError: (err: Error) => void,
    private readonly debounceMs = 200,
  ) {
    this.roots = [...new Set(dirs.map((d) => resolve(d)))];
    this.arm();
  }

  /** Watches what the trees hold now, and stops watching what they no longer hold. */
  private arm(): void {
    const wanted = new Map<string, Set<string> | undefined>();
    const want = (dir: string, name?: string) => {
      if (wanted.has(dir) && wanted.get(dir) === undefined) return;
      if (name === undefined) wanted.set(dir, undefined);
      else wanted.set(dir, new Set([...(wanted.get(dir) ?? []), name]));
    };
    const visited = new Set<string>();
    const walk = (dir: string) => {
      let real: string;
      try {
        real = realpathSync(dir);
      } catch {
        return; // gone meanwhile; its parent's watch brings us back
      }
      if (visited.has(real)) return;
      if (visited.size >= MAX_DIRS) {
        if (!this.tooMany)
          this.onError(new Error(`more than ${MAX_DIRS} directories: ${dir} and others not watched`));
        this.tooMany = true;
        return;
      }
      visited.add(real);
      want(dir);
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (SKIPPED.has(entry.name)) continue;
        const full = join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.isSymbolicLink()) followLink(full);
      }
    };
    // A link to a file: a write through it lands in the target's directory. A link to a directory: its tree.
    const followLink = (link: string) => {
      try {
        const target = realpathSync(link);
        if (statSync(target).isDirectory()) walk(target);
        else want(dirname(target));
      } catch {
        // a dangling link: nothing to watch behind it
      }
    };
    for (const root of this.roots) {
      want(dirname(root), basename(root));
      walk(root);
    }

    for (const [dir, armed] of this.armed) {
      if (!wanted.has(dir) || inodeOf(dir) !== armed.inode) {
        armed.watcher.close();
        this.armed.delete(dir);
      }
    }
    for (const [dir, names] of wanted) {
      const armed = this.armed.get(dir);
      if (armed) armed.names = names;
      else this.watchDir(dir, names);
    }
  }

  private watchDir(dir: string, names: Set<string> | undefined): void {
    const inode = inodeOf(dir);
    if (inode === undefined) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: true }, (_event, name) => {
        const armed = this.armed.get(dir);
        // A parent directory matters only for the watched directory's own name.
        if (!armed?.names || name === null || armed.names.has(String(name))) this.schedule();
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") this.onError(err as Error);
      return;
    }
    watcher.on("error", (err) => {
      // A watched directory that was removed ends its watch; re-arming finds what replaced it.
      watcher.close();
      if (this.armed.get(dir)?.watcher === watcher) this.armed.delete(dir);
      if (inodeOf(dir) === undefined) this.schedule();
      else this.onError(err);
    });
    this.armed.set(dir, { watcher, inode, names });
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      // Re-arm before reloading: whatever changes after the reload has read the files is then seen.
      this.arm();
      this.onChange();
    }, this.debounceMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const armed of this.armed.values()) armed.watcher.close();
    this.armed.clear();
  }
}

/** "dev:ino" of a directory, or undefined if there is none at that path. */
function inodeOf(dir: string): string | undefined {
  try {
    const s = statSync(dir);
    return s.isDirectory() ? `${s.dev}:${s.ino}` : undefined;
  } catch {
    return undefined;
  }
}
