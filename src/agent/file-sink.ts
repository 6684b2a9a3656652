/**
 * Writes each profile's config to the file the service reads, so that a
 * reader at any moment sees either the previous file or the new one, whole.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigUpdate } from '../client/types.js';
import type { FileSink } from './agent-types.js';
import { type ConfigFormat, parseTemplate, renderConfig } from './formats.js';

export interface AtomicFileSinkOptions {
  /**
   * The file to write. `{profile}` expands to the profile's name, and may
   * appear only in the file's name: its directory must exist before the agent
   * starts (it is not created, so a typo fails at start-up, not at the first
   * deployment). Relative paths resolve against the working directory at
   * construction.
   * @example '/config/{profile}.json'
   */
  pathPattern: string;
  format: ConfigFormat;
  /** Permission bits of the file, applied whatever the umask. @default 0o644 */
  mode?: number;
  /** The template's text; required with format `template`, refused with any other. */
  template?: string;
}

/** A file the sink cannot write, or options it cannot work with; the message is one line. */
export class FileSinkError extends Error {
  override readonly name = 'FileSinkError';
}

const PROFILE = '{profile}';

/**
 * Renders a config and replaces the file with it atomically: the new content
 * goes to a temporary file in the same directory (`.<name>.<random>.tmp`),
 * which is fsynced, renamed over the target (atomic on one file system), and
 * then the directory is fsynced so the rename survives a crash. A config that
 * fails to render never touches the file, so the last good one stays.
 *
 * Writes to one file are carried out in the order `write` was called. The
 * rename replaces the path itself: a symlink there is replaced by a file.
 *
 * @example
 * const sink = new AtomicFileSink({ pathPattern: '/config/{profile}.env', format: 'env' });
 * await sink.checkWritable(); // before connecting
 * await sink.write(update); // '/config/orders-api.env'
 */
export class AtomicFileSink implements FileSink {
  private readonly directory: string;
  private readonly fileName: string;
  private readonly format: ConfigFormat;
  private readonly mode: number;
  private readonly template: string | undefined;
  /** The last write to each file, so the next waits for it. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Without `{profile}`, the one profile that owns the file. */
  private owner: string | undefined;

  /** @throws FileSinkError for a bad pattern, mode or template option; ConfigRenderError for a template with a syntax error */
  constructor(options: AtomicFileSinkOptions) {
    const resolved = path.resolve(options.pathPattern);
    this.directory = path.dirname(resolved);
    this.fileName = path.basename(resolved);
    if (options.pathPattern.trim() === '' || options.pathPattern.endsWith('/')) throw new FileSinkError(`the file path must name a file, got ${JSON.stringify(options.pathPattern)}`);
    if (this.directory.includes(PROFILE)) throw new FileSinkError(`${PROFILE} may appear only in the file's name, not in its directory: ${options.pathPattern}`);
    this.format = options.format;
    this.mode = options.mode ?? 0o644;
    if (!Number.isInteger(this.mode) || this.mode < 0 || this.mode > 0o7777) throw new FileSinkError(`the file mode must be permission bits such as 0o640, got ${String(options.mode)}`);
    if ((options.format === 'template') !== (options.template !== undefined)) {
      throw new FileSinkError(options.format === 'template' ? 'the template format needs a template' : `a template goes with the template format, not ${options.format}`);
    }
    if (options.template !== undefined) parseTemplate(options.template);
    this.template = options.template;
  }

  /**
   * The file a profile's config goes to.
   * @throws FileSinkError for a profile name that could leave the directory (`/`, `\`, `.`, `..`, NUL, empty)
   */
  pathFor(profileName: string): string {
    if (profileName === '' || profileName === '.' || profileName === '..' || /[/\\\0]/.test(profileName)) {
      throw new FileSinkError(`refusing to write the profile ${JSON.stringify(profileName)}: its name could leave ${this.directory}`);
    }
    return path.join(this.directory, this.fileName.replaceAll(PROFILE, profileName));
  }

  /**
   * Checks the directory exists and a file can be created in it (a real
   * temporary file, so permissions, ACLs and read-only mounts all show), for
   * the agent to call before connecting.
   * @throws FileSinkError in one line, naming the directory and what is wrong
   */
  async checkWritable(): Promise<void> {
    const where = `cannot write config files in ${this.directory}`;
    try {
      if (!(await stat(this.directory)).isDirectory()) throw new FileSinkError(`${where}: it is not a directory`);
    } catch (error) {
      if (error instanceof FileSinkError) throw error;
      throw new FileSinkError(`${where}: ${describe(error)}`);
    }
    if (!this.fileName.includes(PROFILE) && (await isDirectory(path.join(this.directory, this.fileName)))) {
      throw new FileSinkError(`cannot write ${path.join(this.directory, this.fileName)}: it is a directory`);
    }
    const probe = path.join(this.directory, `.hotswap-probe.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await (await open(probe, 'wx', 0o600)).close();
    } catch (error) {
      throw new FileSinkError(`${where}: ${describe(error)}`);
    }
    await rm(probe, { force: true });
  }

  /**
   * Renders the config, then replaces its file.
   * @returns the path written
   * @throws ConfigRenderError (the file untouched) or FileSinkError
   */
  async write(update: ConfigUpdate): Promise<string> {
    const target = this.pathFor(update.profileName);
    if (!this.fileName.includes(PROFILE)) {
      this.owner ??= update.profileName;
      if (this.owner !== update.profileName) {
        throw new FileSinkError(`${target} already holds the profile ${this.owner}; put ${PROFILE} in the file path to write ${update.profileName} too`);
      }
    }
    const content = renderConfig(this.format, update, this.template);
    const previous = this.queues.get(target) ?? Promise.resolve();
    const done = previous.then(() => this.replace(target, content));
    const settled = done.catch(() => undefined);
    this.queues.set(target, settled);
    try {
      await done;
    } finally {
      if (this.queues.get(target) === settled) this.queues.delete(target);
    }
    return target;
  }

  private async replace(target: string, content: string): Promise<void> {
    const temp = path.join(this.directory, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, 'wx', this.mode);
      await handle.writeFile(content, 'utf8');
      await handle.chmod(this.mode);
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temp, target);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await rm(temp, { force: true }).catch(() => undefined);
      throw new FileSinkError(`cannot write ${target}: ${describe(error)}`);
    }
    await syncDirectory(this.directory);
  }
}

/** Makes a rename in `directory` durable. Platforms that cannot open a directory for fsync (Windows) skip it. */
async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}

/** A file-system error in words, without the temporary file's name. */
function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'the directory does not exist (the agent does not create it)';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
