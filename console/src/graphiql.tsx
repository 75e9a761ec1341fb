import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { createClient, type Client } from 'graphql-ws';
import { StrictMode, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { EXAMPLES } from './examples';
import { storedSession, storeToken, websocketUrl, type Session } from './session';
import { SignIn } from './SignIn';
import './graphiql-page.css';

function fetcherFor(session: Session | undefined): { fetcher: Fetcher; ws: Client } {
  const authorization = session ? `Bearer ${session.token}` : undefined;
  const ws = createClient({
    url: websocketUrl(),
    lazy: true,
    connectionParams: authorization ? { authorization } : {},
  });
  const fetcher = createGraphiQLFetcher({
    url: '/graphql',
    wsClient: ws,
    headers: authorization ? { authorization } : ({} as Record<string, string>),
  });
  return { fetcher, ws };
}

function Page() {
  const [session, setSession] = useState(storedSession);
  const { fetcher } = useMemo(() => fetcherFor(session), [session]);
  return (
    <div className="graphiql-page">
      <header className="graphiql-bar">
        <h1>
          <a href="/">Tenantwatch</a> GraphiQL
        </h1>
        <SignIn
          session={session}
          onChange={(token) => {
            storeToken(token);
            setSession(storedSession());
          }}
        />
      </header>
      <main className="graphiql-main">
        <GraphiQL
          key={session?.token ?? 'anonymous'}
          fetcher={fetcher}
          defaultTabs={EXAMPLES}
          defaultEditorToolsVisibility="variables"
          shouldPersistHeaders={false}
        />
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Page />
  </StrictMode>,
);
