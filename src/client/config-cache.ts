import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClientLogger } from './types.js';

/** One profile's last applied config, as kept on disk. */
export interface CachedConfig {
  profileName: string;
  version: number;
  hash: string;
  data: Record<string, unknown>;
  /** How long applying it took when it came from HotSwap. */
  reloadMs: number | null;
}

/** The file's content. `format` changes when the layout does; other formats are ignored. */
interface CacheFileContent {
  format: 1;
  service: string;
  environment: string;
  savedAt: string;
  profiles: CachedConfig[];
}

const FORMAT = 1;

/**
 * The last applied config of each profile in one JSON file, so a restarting
 * instance can run its last known config while HotSwap is unreachable. Writes
 * are atomic (a temporary file in the same directory, then rename), so a crash
 * leaves either the old file or the new one.
 */
export class ConfigCache {
  constructor(
    readonly file: string,
    private readonly scope: { service: string; environment: string },
    private readonly logger: ClientLogger,
  ) {}

  /** The cached configs; none when the file is missing, and none (with a warning) when it is unreadable, corrupt, or another service's. */
  async read(): Promise<CachedConfig[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn('config cache unreadable; ignored', { file: this.file, error: (error as Error).message });
      }
      return [];
    }
    let content: unknown;
    try {
      content = JSON.parse(text);
    } catch (error) {
      this.logger.warn('config cache is not valid JSON; ignored', { file: this.file, error: (error as Error).message });
      return [];
    }
    if (!isCacheContent(content)) {
      this.logger.warn('config cache has an unexpected layout; ignored', { file: this.file });
      return [];
    }
    if (content.service !== this.scope.service || content.environment !== this.scope.environment) {
      this.logger.warn('config cache belongs to another service or environment; ignored', {
        file: this.file,
        cached: `${content.service}/${content.environment}`,
      });
      return [];
    }
    return content.profiles;
  }

  async write(configs: CachedConfig[]): Promise<void> {
    const content: CacheFileContent = {
      format: FORMAT,
      service: this.scope.service,
      environment: this.scope.environment,
      savedAt: new Date().toISOString(),
      profiles: configs,
    };
    const dir = path.dirname(this.file);
    const temp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    await mkdir(dir, { recursive: true });
    try {
      await writeFile(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCachedConfig(v: unknown): v is CachedConfig {
  return (
    isObject(v) &&
    typeof v.profileName === 'string' &&
    Number.isInteger(v.version) &&
    typeof v.hash === 'string' &&
    isObject(v.data) &&
    (v.reloadMs === null || (typeof v.reloadMs === 'number' && Number.isFinite(v.reloadMs)))
  );
}

function isCacheContent(v: unknown): v is CacheFileContent {
  return (
    isObject(v) &&
    v.format === FORMAT &&
    typeof v.service === 'string' &&
    typeof v.environment === 'string' &&
    Array.isArray(v.profiles) &&
    v.profiles.every(isCachedConfig)
  );
}
