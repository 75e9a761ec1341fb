import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { GraphQLError, Kind, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { StrictMode, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { EXAMPLES } from './examples';
import { storedSession, storeToken, websocketUrl, type Session } from './session';
import { SignIn } from './SignIn';
import './graphiql-page.css';

/** Before sign-in nothing is sent (the gateway would answer 401): GraphiQL shows how to sign in. */
const signedOut: Fetcher = () =>
  Promise.resolve({ errors: [new GraphQLError('Sign in first: paste a token above, or use the development sign-in outside production.')] });

/** GraphiQL's editors are CodeMirror textareas without a label: name them for screen readers. */
function labelEditors(): void {
  const names: [string, string][] = [
    ['.graphiql-query-editor textarea', 'Query editor'],
    ['.graphiql-editor-tool .graphiql-editor:nth-child(1) textarea', 'Variables editor'],
    ['.graphiql-editor-tool .graphiql-editor:nth-child(2) textarea', 'Headers editor'],
    ['.result-window textarea', 'Response'],
  ];
  for (const [selector, name] of names) {
    document.querySelectorAll(selector).forEach((element) => {
      if (!element.getAttribute('aria-label')) element.setAttribute('aria-label', name);
    });
  }
  document.querySelectorAll('.graphiql-container textarea:not([aria-label])').forEach((element) => {
    element.setAttribute('aria-label', 'Editor');
  });
}
new MutationObserver(labelEditors).observe(document.body, { childList: true, subtree: true });

function parsed(query: string): DocumentNode | undefined {
  try {
    return parse(query);
  } catch {
    return undefined;
  }
}

function fetcherFor(session: Session | undefined): { fetcher: Fetcher; ws: Client } {
  const authorization = session ? `Bearer ${session.token}` : undefined;
  const ws = createClient({
    url: websocketUrl(),
    lazy: true,
    connectionParams: authorization ? { authorization } : {},
  });
  const inner = !session
    ? signedOut
    : createGraphiQLFetcher({
        url: '/graphql',
        wsClient: ws,
        headers: authorization ? { authorization } : ({} as Record<string, string>),
      });
  // Subscriptions go over graphql-ws here, whatever GraphiQL passes along: the toolkit's own test needs
  // a parsed document and an operation name, which GraphiQL does not always give it.
  const fetcher: Fetcher = (params, opts) => {
    // Parsed from the text sent: GraphiQL's own document can still be the previous tab's right after a switch.
    const documentAST = parsed(params.query);
    const operations = (documentAST?.definitions ?? []).filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const operation = params.operationName ? operations.find((o) => o.name?.value === params.operationName) : operations[0];
    if (session && operation?.operation === 'subscription') {
      return ws.iterate({
        query: params.query,
        variables: params.variables ?? undefined,
        operationName: params.operationName ?? undefined,
      }) as unknown as ReturnType<Fetcher>;
    }
    return inner(params, opts);
  };
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
        <GraphiQL fetcher={fetcher} defaultTabs={EXAMPLES} defaultEditorToolsVisibility="variables" shouldPersistHeaders={false} />
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Page />
  </StrictMode>,
);
