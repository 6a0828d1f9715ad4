import { existsSync, type FSWatcher, watch } from "node:fs";

/**
 * Watches directories (recursively) and calls `onChange` once a burst of file events has been quiet for
 * `debounceMs`: saving a file or copying a tree of protos triggers one reload, not dozens.
 */
export class DirectoryWatcher {
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    dirs: readonly string[],
    private readonly onChange: () => void,
    private readonly onError: (err: Error) => void,
    private readonly debounceMs = 200,
    recursive = true,
  ) {
    for (const dir of new Set(dirs)) {
      if (!existsSync(dir)) continue;
      const w = watch(dir, { recursive }, () => this.schedule());
      w.on("error", (err) => this.onError(err));
      this.watchers.push(w);
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onChange();
    }, this.debounceMs);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
  }
}
