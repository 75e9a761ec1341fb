import { useEffect, useMemo, useState } from 'react';
import { Provider } from 'urql';
import { clientFor, WsContext } from './api';
import { Detections } from './Detections';
import { Explore } from './Explore';
import { Governance } from './Governance';
import { Instances } from './Instances';
import { storedSession, storeToken, type Session } from './session';
import { SignIn } from './SignIn';

const PAGES = [
  { path: '/instances', label: 'Instances' },
  { path: '/detections', label: 'Detections' },
  { path: '/governance', label: 'Governance' },
  { path: '/explore', label: 'Explore' },
] as const;

function currentPath(): string {
  return PAGES.some((p) => p.path === location.pathname) ? location.pathname : '/instances';
}

export function App() {
  const [session, setSession] = useState<Session | undefined>(storedSession);
  const [path, setPath] = useState(currentPath);
  const { client, ws } = useMemo(() => clientFor(session), [session]);
  useEffect(() => () => void ws.dispose(), [ws]);
  useEffect(() => {
    const onPop = () => setPath(currentPath());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const go = (to: string) => {
    history.pushState(null, '', to);
    setPath(to);
  };
  return (
    <Provider value={client}>
      <WsContext.Provider value={ws}>
        <header className="top">
          <div className="brand">Tenantwatch</div>
          <nav aria-label="Pages">
            <ul>
              {PAGES.map((p) => (
                <li key={p.path}>
                  <a
                    href={p.path}
                    aria-current={path === p.path ? 'page' : undefined}
                    onClick={(e) => {
                      e.preventDefault();
                      go(p.path);
                    }}
                  >
                    {p.label}
                  </a>
                </li>
              ))}
              <li>
                <a href="/graphql">GraphiQL</a>
              </li>
            </ul>
          </nav>
          <SignIn
            session={session}
            onChange={(token) => {
              storeToken(token);
              setSession(storedSession());
            }}
          />
        </header>
        <main id="main">
          {!session ? (
            <section className="card">
              <h1>Sign in</h1>
              <p>Paste a token above (`npm run token -- --role analyst`), or use the development sign-in outside production.</p>
            </section>
          ) : path === '/detections' ? (
            <Detections key={session.token} session={session} />
          ) : path === '/governance' ? (
            <Governance key={session.token} session={session} />
          ) : path === '/explore' ? (
            <Explore key={session.token} session={session} />
          ) : (
            <Instances key={session.token} session={session} />
          )}
        </main>
      </WsContext.Provider>
    </Provider>
  );
}
