import { useCallback, useEffect, useRef, useState } from 'react';
import type { GqlError } from '../../api/graphql';
import { onLiveConnection, subscribe } from '../../api/live';
import { useQuery } from '../../api/use-query';
import { DEPLOYMENT, type DeploymentDetail, DEPLOYMENT_EVENTS, FINISHED, type LiveEvent } from './queries';

/** How often the targets are read again while acks may arrive (acks are not events). */
const POLL_MS = 1500;

export interface LiveDeploymentState {
  deployment: DeploymentDetail | null | undefined;
  /** The read failed (the last good state stays shown). */
  error: GqlError | undefined;
  /** The subscription was refused. */
  streamError: GqlError | undefined;
  loading: boolean;
  /** null before the websocket said anything; false while it reconnects. */
  connected: boolean | null;
  /** How many times the page caught up after the websocket came back. */
  catchUps: number;
  /** The newest event the stream delivered. */
  lastEvent: LiveEvent | undefined;
  reload(): void;
}

/**
 * A deployment kept current: read once, read again on each `deploymentEvents`
 * event (the first is CURRENT_STATE), polled while it runs so acks show, and
 * read again and re-subscribed whenever the websocket comes back, so what
 * happened while it was away (a server restart) is caught up.
 */
export function useLiveDeployment(id: string): LiveDeploymentState {
  const q = useQuery<{ deployment: DeploymentDetail | null }>(DEPLOYMENT, { id });
  const { reload } = q;
  const [connected, setConnected] = useState<boolean | null>(null);
  const [generation, setGeneration] = useState(0);
  const [streamError, setStreamError] = useState<GqlError>();
  const [lastEvent, setLastEvent] = useState<LiveEvent>();
  const timer = useRef<number | undefined>(undefined);

  const reloadSoon = useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(reload, 120);
  }, [reload]);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  useEffect(
    () =>
      subscribe<{ deploymentEvents: LiveEvent }>(
        DEPLOYMENT_EVENTS,
        { id },
        {
          next: (data) => {
            // An event is proof the socket is up (it may have connected before this page listened).
            setConnected(true);
            setStreamError(undefined);
            setLastEvent(data.deploymentEvents);
            reloadSoon();
          },
          error: setStreamError,
        },
      ),
    [id, generation, reloadSoon],
  );

  useEffect(() => {
    let dropped = false;
    return onLiveConnection((state) => {
      // Idle: the socket closed normally because no subscription needs it (this deployment's feed ended).
      if (state === 'idle') return;
      const up = state === 'connected';
      setConnected(up);
      if (!up) {
        dropped = true;
      } else if (dropped) {
        dropped = false;
        // Catch up: read the deployment again, and subscribe anew in case the old stream ended with the server.
        setGeneration((g) => g + 1);
        reload();
      }
    });
  }, [reload]);

  const status = q.data?.deployment?.status ?? lastEvent?.status;
  const active = status !== undefined && !FINISHED.includes(status) && status !== 'PAUSED';
  useEffect(() => {
    if (!active) return;
    const t = window.setInterval(reload, POLL_MS);
    return () => window.clearInterval(t);
  }, [active, reload]);

  return {
    deployment: q.data?.deployment,
    error: q.error,
    streamError,
    loading: q.loading,
    connected,
    catchUps: generation,
    lastEvent,
    reload,
  };
}
