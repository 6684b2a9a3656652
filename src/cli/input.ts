import { readFile } from 'node:fs/promises';
import { text as readStream } from 'node:stream/consumers';
import { parse as parseYaml } from 'yaml';
import { CliError, ExitCode } from './exit-codes.js';

/** Reads a JSON (or YAML: .yaml/.yml, or content that is not JSON) document from a file, or stdin for `-`. */
export async function readDocument(file: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStream(stdin) : await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError([`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`], ExitCode.REFUSED);
  }
  const yamlByName = /\.ya?ml$/i.test(file);
  if (!yamlByName) {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      if (file !== '-' && /\.json$/i.test(file)) throw new CliError([`${file} is not valid JSON: ${(error as Error).message}`], ExitCode.REFUSED);
    }
  }
  try {
    return parseYaml(text, { maxAliasCount: 100 }) as unknown;
  } catch (error) {
    throw new CliError([`${file === '-' ? 'stdin' : file} is neither valid JSON nor YAML: ${(error as Error).message.split('\n')[0]}`], ExitCode.REFUSED);
  }
}


