import type { LoadError } from "../config/load-error.js";
import type { GatewayOptions } from "../config/options.js";
import {
  checkConfig,
  type DescriptorSource,
  type LoadedConfig,
  loadConfig,
  type RouteBinder,
} from "./load-table.js";

export interface ReloadProblem {
  readonly code: string;
  readonly where: string;
  readonly message: string;
}

/** What `GET /_protogate/status` shows. */
export interface ConfigStatus {
  /** 1 for the configuration loaded at start, +1 for each successful reload. */
  readonly generation: number;
  readonly loadedAt: string;
  readonly routes: number;
  /** The last reload that failed, if no reload has succeeded since: the running config is older. */
  readonly lastFailure: { readonly at: string; readonly errors: readonly ReloadProblem[] } | undefined;
}

/**
 * Holds the configuration in force and replaces it as a whole. A reload compiles everything anew, beside
 * the running one; only if it has no error is it swapped in, with one assignment, so a request sees
 * either the old table or the new one, never a mix. A failed reload leaves the running config alone.
 */
export class Reloader {
  private current: LoadedConfig;
  private generation = 1;
  private loadedAt = new Date().toISOString();
  private lastFailure: ConfigStatus["lastFailure"];

  constructor(
    private options: GatewayOptions,
    private readonly reflected: () => readonly DescriptorSource[] = () => [],
    private bind?: RouteBinder,
  ) {
    this.current = loadConfig(options, reflected(), bind);
  }

  readonly config = (): LoadedConfig => this.current;

  reload(): ReloadResult {
    return this.load(this.options, this.bind);
  }

  /**
   * A reload from new options (the config file read again) and a new route binder (new interceptors):
   * if it has no error, both stay in force for the reloads that follow; else nothing changes.
   */
  reconfigure(options: GatewayOptions, bind?: RouteBinder): ReloadResult {
    const result = this.load(options, bind);
    if (result.ok) {
      this.options = options;
      this.bind = bind;
    }
    return result;
  }

  private load(options: GatewayOptions, bind: RouteBinder | undefined): ReloadResult {
    const { config, errors } = checkConfig(options, this.reflected(), bind);
    if (errors.length > 0 || !config) {
      this.lastFailure = { at: new Date().toISOString(), errors: errors.map(problem) };
      return { ok: false, errors };
    }
    this.current = config;
    this.generation++;
    this.loadedAt = new Date().toISOString();
    this.lastFailure = undefined;
    return { ok: true, config };
  }

  status(): ConfigStatus {
    return {
      generation: this.generation,
      loadedAt: this.loadedAt,
      routes: this.current.table.routes.length,
      lastFailure: this.lastFailure,
    };
  }
}

/** A reload's outcome: the configuration now in force, or why the running one stays. */
export type ReloadResult = { ok: true; config: LoadedConfig } | { ok: false; errors: readonly LoadError[] };

const problem = (e: LoadError): ReloadProblem => ({ code: e.code, where: e.where, message: e.message });
