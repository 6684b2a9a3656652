import { createServer } from 'node:net';

/** The HTTP port cannot be listened on; the message is one line naming the port and the variable to change. */
export class PortUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PortUnavailableError';
  }
}

/**
 * Listens on `host:port` for a moment and lets go, so a taken port stops the
 * start at once rather than after the database has started and migrated.
 * Port 0 (any free port) always succeeds. Another process may still take the
 * port between this check and the real listen; that start then fails as before.
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(describe(error, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function describe(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const options = { cause: error };
  switch (error.code) {
    case 'EADDRINUSE':
      return new PortUnavailableError(`port ${port} on ${host} is already in use (PORT=${port}); stop what listens there, or set PORT to a free port`, options);
    case 'EACCES':
      return new PortUnavailableError(`not allowed to listen on port ${port} (PORT=${port}); use a port above 1023, or grant the privilege`, options);
    case 'EADDRNOTAVAIL':
      return new PortUnavailableError(`${host} is not an address of this machine (HOST=${host}); set HOST to one of its addresses, or 0.0.0.0`, options);
    default:
      return error;
  }
}
