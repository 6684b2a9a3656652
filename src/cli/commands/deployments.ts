import type { Command } from 'commander';
import { registerDeployCommand } from './deploy.js';
import { registerDeploymentCommand } from './deployment.js';

/** `hotswap deploy` and `hotswap deployment show|list|follow|pause|resume|rollback`. */
export function registerDeploymentCommands(program: Command, env: NodeJS.ProcessEnv): void {
  registerDeployCommand(program, env);
  registerDeploymentCommand(program, env);
}
