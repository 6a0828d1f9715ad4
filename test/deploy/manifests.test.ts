import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseServeArgs } from "../../src/cli/args.js";
import { parseDurationMs } from "../../src/config/duration.js";
import { createGateway } from "../../src/server/gateway.js";
import { checkConfig } from "../../src/server/load-table.js";
import { REPO } from "../helpers/process.js";

/**
 * deploy/kubernetes: every object valid for its API (kubernetes-models; the ServiceMonitor CRD by hand), and
 * consistent with what the gateway really accepts: the container args through the real CLI parser, the
 * ConfigMaps laid out as the volumes mount them and loaded as `serve` loads them, ports, probe paths, and
 * the shutdown times against the SIGTERM sequence.
 */

const DIR = join(REPO, "deploy", "kubernetes");
const MOUNT_ROOT = "/etc/protogate/";
/** server.shutdown defaults (issue #19's lifecycle): used unless the ConfigMap's protogate.yaml sets them. */
const DEFAULT_SHUTDOWN = { delay: "5s", drainTimeout: "30s" };

// biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below
type Obj = any;
const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
const objects: Obj[] = files.map((f) => parse(readFileSync(join(DIR, f), "utf8")));
const byKind = (kind: string): Obj[] => objects.filter((o) => o.kind === kind);
const one = (kind: string): Obj => {
  const found = byKind(kind);
  expect(found).toHaveLength(1);
  return found[0];
};
const configMap = (name: string): Obj => byKind("ConfigMap").find((c) => c.metadata.name === name);

const deployment = one("Deployment");
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const port = (name: string): number => container.ports.find((p: Obj) => p.name === name).containerPort;

/** The ConfigMaps written where the Deployment mounts them, under `root` instead of `/`. */
function materialise(root: string): void {
  for (const mount of container.volumeMounts) {
    const volume = pod.volumes.find((v: Obj) => v.name === mount.name);
    if (!volume.configMap) continue;
    const data: Record<string, string> = configMap(volume.configMap.name).data;
    const items: { key: string; path: string }[] =
      volume.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const { key, path } of items) {
      const file = join(root, mount.mountPath, path);
      mkdirSync(dirname(file), { recursive: true });
      // absolute paths inside the files (protogate.yaml's protos and mappings) move along
      writeFileSync(file, data[key]!.replaceAll(MOUNT_ROOT, join(root, MOUNT_ROOT)));
    }
  }
}

/** The ConfigMaps mounted under a temp root, and the options the container's args give there (as main.ts). */
function serveOptions(): { root: string; options: ReturnType<typeof parseServeArgs> } {
  const root = mkdtempSync(join(tmpdir(), "protogate-k8s-"));
  materialise(root);
  const [command, ...rest] = container.args.map((a: string) =>
    a.startsWith(MOUNT_ROOT) ? join(root, a) : a,
  );
  expect(command).toBe("serve");
  return { root, options: parseServeArgs(rest) };
}

const seconds = (duration: string): number => parseDurationMs(duration)! / 1000;

describe("deploy/kubernetes", () => {
  it("should list every manifest in kustomization.yaml", () => {
    const kustomization = parse(readFileSync(join(DIR, "kustomization.yaml"), "utf8"));
    expect([...kustomization.resources].sort()).toEqual([...files].sort());
  });

  it.each([
    ["Deployment", Deployment],
    ["Service", Service],
    ["ConfigMap", ConfigMap],
    ["PodDisruptionBudget", PodDisruptionBudget],
    ["HorizontalPodAutoscaler", HorizontalPodAutoscaler],
  ] as const)("should have valid %s objects", (kind, Model) => {
    const found = byKind(kind);
    expect(found.length).toBeGreaterThan(0);
    for (const o of found) expect(() => new Model(o).validate()).not.toThrow();
  });

  it("should have only kinds it validates", () => {
    expect(new Set(objects.map((o) => o.kind))).toEqual(
      new Set([
        "Deployment",
        "Service",
        "ConfigMap",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "ServiceMonitor",
      ]),
    );
  });

  it("should give container args that the CLI parser accepts, with the ports and paths the pod has", () => {
    const { root, options } = serveOptions();
    expect(options.host).toBe("0.0.0.0");
    expect(options.port).toBe(port("http"));
    expect(options.admin).toEqual({ host: "0.0.0.0", port: port("admin") });
    expect(options.watch).toBe(false);
    const mounts = container.volumeMounts.map((m: Obj) => join(root, m.mountPath));
    expect(mounts).toEqual(expect.arrayContaining([...options.protos, options.mappings]));
    // and what is mounted there loads as serve loads it
    const result = checkConfig(options);
    expect(result.errors).toEqual([]);
    expect(result.config!.table.routes.length).toBeGreaterThan(0);
  });

  it("should probe paths the admin listener serves", async () => {
    const { options } = serveOptions();
    const gateway = await createGateway({
      ...options,
      host: "127.0.0.1",
      port: 0,
      admin: { host: "127.0.0.1", port: 0 },
      logLevel: false,
    });
    try {
      await gateway.listen();
      const admin = gateway.admin!.listeningOrigin;
      for (const probe of [container.readinessProbe, container.livenessProbe]) {
        expect(probe.httpGet.port).toBe("admin");
        const res = await fetch(`${admin}${probe.httpGet.path}`);
        expect(res.status).toBe(200);
      }
      expect(container.readinessProbe.httpGet.path).toBe("/_protogate/ready");
      expect(container.livenessProbe.httpGet.path).toBe("/_protogate/live");
    } finally {
      await gateway.close();
    }
  });

  it("should give the shutdown sequence its time: preStop, the delay, the drain, within the grace period", () => {
    const config = parse(configMap("protogate-config").data["protogate.yaml"]);
    const shutdown = { ...DEFAULT_SHUTDOWN, ...config.server?.shutdown };
    const delay = seconds(shutdown.delay);
    const drain = seconds(shutdown.drainTimeout);
    const preStop = container.lifecycle.preStop;
    // either `sleep: {seconds}` (Kubernetes 1.30+) or `exec: sleep N`
    if (!preStop.sleep) expect(preStop.exec.command).toEqual(["sleep", expect.stringMatching(/^\d+$/)]);
    const sleep: number = preStop.sleep?.seconds ?? Number(preStop.exec.command[1]);
    expect(sleep).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(sleep + delay + drain);
    // the readiness probe sees the 503 before the listener closes
    const probe = container.readinessProbe;
    expect(probe.periodSeconds * probe.failureThreshold + probe.timeoutSeconds).toBeLessThanOrEqual(delay);
  });

  it("should select the pods from the Service, the PodDisruptionBudget and the ServiceMonitor", () => {
    const labels = deployment.spec.template.metadata.labels;
    const matches = (selector: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v);
    const service = one("Service");
    expect(matches(service.spec.selector)).toBe(true);
    expect(matches(one("PodDisruptionBudget").spec.selector.matchLabels)).toBe(true);
    expect(matches(deployment.spec.selector.matchLabels)).toBe(true);
    for (const p of service.spec.ports)
      expect(container.ports.map((c: Obj) => c.name)).toContain(p.targetPort);
    const hpa = one("HorizontalPodAutoscaler");
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2); // so that the PDB always leaves a pod serving
    expect(container.resources.requests.cpu).toBeDefined(); // CPU utilisation needs a request
  });

  it("should scrape /metrics on the admin port with a ServiceMonitor of the right shape", () => {
    const sm = one("ServiceMonitor");
    expect(sm.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(typeof sm.metadata.name).toBe("string");
    const service = one("Service");
    expect(
      Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => service.metadata.labels[k] === v),
    ).toBe(true);
    expect(sm.spec.endpoints).toHaveLength(1);
    const [endpoint] = sm.spec.endpoints;
    expect(Object.keys(endpoint).sort()).toEqual(["interval", "path", "port"]);
    expect(endpoint.path).toBe("/metrics");
    expect(endpoint.interval).toMatch(/^\d+[smh]$/);
    const servicePort = service.spec.ports.find((p: Obj) => p.name === endpoint.port);
    expect(servicePort.targetPort).toBe("admin");
  });
});

describe("deploy/Dockerfile", () => {
  const dockerfile = readFileSync(join(REPO, "deploy", "Dockerfile"), "utf8");
  const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));

  it("should build from node:22-slim in stages and run as a non-root user under tini", () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-slim$/m);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(
      /^ENTRYPOINT \["\/usr\/bin\/tini", "--", "\/opt\/protogate\/bin\/protogate\.js"\]$/m,
    );
  });

  it("should expose the ports of the Deployment, whose user is the image's", () => {
    const exposed = /^EXPOSE (.+)$/m.exec(runtime)![1]!.split(" ").map(Number);
    expect(exposed.sort()).toEqual([port("http"), port("admin")].sort());
    expect(pod.securityContext.runAsUser).toBe(1000); // `node` in the official Node images
  });

  it("should default to the config path the Deployment mounts", () => {
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(runtime)![1]!) as string[];
    expect(cmd.slice(0, 3)).toEqual(container.args.slice(0, 3));
  });
});
