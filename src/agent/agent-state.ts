/**
 * What an agent keeps across restarts in its state directory: its instance
 * token (so it is the same instance again, and its deployments' targets do not
 * change under it) and the client's cache of the last applied configs (so the
 * service gets its config while HotSwap is unreachable).
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readTokenClaims } from '../client/graphql-http.js';

const TOKEN_FILE = 'instance-token';
const CACHE_FILE = 'configs.json';

/** Seconds before its expiry a saved token is no longer worth trying: it would be refused, and the agent registers instead. */
const EXPIRY_MARGIN_SECONDS = 60;

export class AgentState {
  constructor(readonly dir: string) {}

  /** Creates the directory (0700: it holds a token) or checks it is writable. @throws with a one-line reason */
  async prepare(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const probe = path.join(this.dir, '.write-test');
      await writeFile(probe, '', { mode: 0o600 });
    } catch (error) {
      throw new Error(`state directory ${this.dir} is not writable: ${(error as Error).message}`, { cause: error });
    }
  }

  get cacheFile(): string {
    return path.join(this.dir, CACHE_FILE);
  }

  /** The saved instance token when it has not expired (give or take a minute); undefined otherwise. */
  async savedToken(now = Date.now()): Promise<string | undefined> {
    let token: string;
    try {
      token = (await readFile(path.join(this.dir, TOKEN_FILE), 'utf8')).trim();
    } catch {
      return undefined;
    }
    const exp = readTokenClaims(token)?.exp;
    return exp !== undefined && exp - EXPIRY_MARGIN_SECONDS > now / 1000 ? token : undefined;
  }

  /** Forgets the token of a deregistered instance: an ended instance cannot come back, the next start registers anew. */
  async forgetToken(): Promise<void> {
    await rm(path.join(this.dir, TOKEN_FILE), { force: true });
  }

  /** Saves the token atomically, readable by the agent's user only. */
  async saveToken(token: string): Promise<void> {
    const file = path.join(this.dir, TOKEN_FILE);
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, `${token}\n`, { mode: 0o600 });
    await rename(temp, file);
  }
}
