import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

/**
 * Watching sees every way a file gets saved (issue #21, point 5), through a real gateway: each way of
 * replacing a proto is followed by an in-place write, which must be seen too (a watch bound to the old
 * file or directory would miss it).
 */

/** A proto whose one route is GET /v1/<mark>/{name}: the route table says which version is loaded. */
const proto = (mark: string) => `syntax = "proto3";
package extra.v1;
import "google/api/annotations.proto";
message PingRequest { string name = 1; }
service ExtraService {
  rpc Ping(PingRequest) returns (PingRequest) { option (google.api.http) = { get: "/v1/${mark}/{name}" }; }
}
`;
const LIVE = { timeout: 10_000, interval: 50 };

let gw: RunningGateway | undefined;
let work: string;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  rmSync(work, { recursive: true, force: true });
});

const paths = async (): Promise<string[]> => {
  const res = await fetch(`${gw!.url}/_protogate/routes`);
  return ((await res.json()) as { routes: Array<{ path: string }> }).routes.map((r) => r.path);
};
const loaded = (mark: string) => expect.poll(paths, LIVE).toContain(`/v1/${mark}/{name}`);

/** A layout under `root`, the file to write in place afterwards, and the replacement under test. */
interface Case {
  setup(root: string): void;
  /** Replaces the proto so that it gives /v1/<mark>; returns the path an in-place write then changes. */
  replace(root: string, mark: string): string;
}

const cases: Array<[string, Case]> = [
  [
    "an in-place write",
    {
      setup: (root) => writeFileSync(join(root, "extra.proto"), proto("first")),
      replace(root, mark) {
        writeFileSync(join(root, "extra.proto"), proto(mark));
        return join(root, "extra.proto");
      },
    },
  ],
  [
    "a rename over the file (mv, editors' safe write, rsync)",
    {
      setup: (root) => writeFileSync(join(root, "extra.proto"), proto("first")),
      replace(root, mark) {
        writeFileSync(join(root, "extra.proto.tmp"), proto(mark));
        renameSync(join(root, "extra.proto.tmp"), join(root, "extra.proto"));
        return join(root, "extra.proto");
      },
    },
  ],
  [
    "sed -i",
    {
      setup: (root) => writeFileSync(join(root, "extra.proto"), proto("first")),
      replace(root, mark) {
        execFileSync("sed", ["-i", `s#/v1/[a-z]*/#/v1/${mark}/#`, join(root, "extra.proto")]);
        return join(root, "extra.proto");
      },
    },
  ],
  [
    "a delete and re-create",
    {
      setup: (root) => writeFileSync(join(root, "extra.proto"), proto("first")),
      replace(root, mark) {
        rmSync(join(root, "extra.proto"));
        writeFileSync(join(root, "extra.proto"), proto(mark));
        return join(root, "extra.proto");
      },
    },
  ],
  [
    "a subdirectory renamed",
    {
      setup(root) {
        mkdirSync(join(root, "extra", "v1"), { recursive: true });
        writeFileSync(join(root, "extra", "v1", "extra.proto"), proto("first"));
      },
      replace(root, mark) {
        const [current] = readdirSync(root);
        renameSync(join(root, current!), join(root, `moved-${mark}`));
        writeFileSync(join(root, `moved-${mark}`, "v1", "extra.proto"), proto(mark));
        return join(root, `moved-${mark}`, "v1", "extra.proto");
      },
    },
  ],
  [
    "the proto directory itself replaced by rename",
    {
      setup: (root) => writeFileSync(join(root, "extra.proto"), proto("first")),
      replace(root, mark) {
        mkdirSync(`${root}.new`);
        writeFileSync(join(`${root}.new`, "extra.proto"), proto(mark));
        renameSync(root, `${root}.old-${mark}`);
        renameSync(`${root}.new`, root);
        return join(root, "extra.proto");
      },
    },
  ],
  [
    "a Kubernetes ConfigMap update (..data symlink swap)",
    {
      // What the kubelet writes: files are links through ..data, which points at a timestamped directory.
      setup(root) {
        mkdirSync(join(root, "..2026_11_30_first"));
        writeFileSync(join(root, "..2026_11_30_first", "extra.proto"), proto("first"));
        symlinkSync("..2026_11_30_first", join(root, "..data"));
        symlinkSync("..data/extra.proto", join(root, "extra.proto"));
      },
      // An update: a new directory, a new link renamed over ..data, the old directory removed.
      replace(root, mark) {
        const old = readlinkSync(join(root, "..data"));
        mkdirSync(join(root, `..2026_11_30_${mark}`));
        writeFileSync(join(root, `..2026_11_30_${mark}`, "extra.proto"), proto(mark));
        symlinkSync(`..2026_11_30_${mark}`, join(root, "..data_tmp"));
        renameSync(join(root, "..data_tmp"), join(root, "..data"));
        rmSync(join(root, old), { recursive: true });
        return join(root, "..data", "extra.proto");
      },
    },
  ],
];

describe("watching proto directories", () => {
  it.each(cases)("should see %s, and a later in-place write", async (_name, c) => {
    work = mkdtempSync(join(tmpdir(), "protogate-watch-"));
    const root = join(work, "protos");
    mkdirSync(root);
    c.setup(root);
    gw = await startGateway({ protos: [root], watch: true });
    await loaded("first");

    // twice: the watch re-armed after the first replacement must hold for the second
    for (const round of ["one", "two"]) {
      const file = c.replace(root, `replaced${round}`);
      await loaded(`replaced${round}`);
      writeFileSync(file, proto(`later${round}`));
      await loaded(`later${round}`);
    }
  });
});
