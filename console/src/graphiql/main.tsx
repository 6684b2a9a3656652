import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './page.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { currentToken } from '../auth/session';

/**
 * GraphiQL, bundled and served by the service at /graphql for browsers: it
 * works offline, and it sends the console session's token (same tab origin,
 * sessionStorage) so queries run as the signed-in caller.
 */
const token = currentToken();
const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
const wsUrl = new URL('/graphql', window.location.href);
wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
const fetcher = createGraphiQLFetcher({ url: '/graphql', subscriptionUrl: wsUrl.toString(), headers, wsConnectionParams: headers });

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultHeaders={token ? undefined : JSON.stringify({ authorization: 'Bearer <token>' }, null, 2)} />
  </StrictMode>,
);
