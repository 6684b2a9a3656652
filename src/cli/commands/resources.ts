import type { Command } from 'commander';
import { registerInstanceCommands } from './instances.js';
import { registerProfileCommands } from './profile.js';
import { registerSchemaCommands } from './schema.js';
import { registerVersionCommands } from './version.js';

/** `hotswap profile|version|schema|instances …`. */
export function registerResourceCommands(program: Command, env: NodeJS.ProcessEnv): void {
  registerProfileCommands(program, env);
  registerVersionCommands(program, env);
  registerSchemaCommands(program, env);
  registerInstanceCommands(program, env);
}
