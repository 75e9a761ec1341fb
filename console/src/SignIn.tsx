import { useEffect, useState } from 'react';
import { consoleSettings, developmentSignIn, ROLES, sessionOf, type Role, type Session } from './session';

/** A token box and, outside production, a development sign-in that picks a role. */
export function SignIn({ session, onChange }: { session: Session | undefined; onChange: (token: string | undefined) => void }) {
  const [development, setDevelopment] = useState(false);
  const [role, setRole] = useState<Role>('analyst');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  useEffect(() => {
    void consoleSettings().then((s) => setDevelopment(s.developmentSignIn));
  }, []);
  if (session) {
    return (
      <div className="signin signed-in">
        <span data-testid="signed-in-as">
          Signed in as <strong>{session.subject}</strong> ({session.role})
        </span>
        <button type="button" onClick={() => onChange(undefined)}>
          Sign out
        </button>
      </div>
    );
  }
  return (
    <div className="signin">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (!sessionOf(token.trim())) {
            setError('That is not a Tenantwatch token (a JWT with a "roles" claim).');
            return;
          }
          setError(undefined);
          onChange(token.trim());
        }}
      >
        <label htmlFor="token-input">Token</label>
        <input
          id="token-input"
          type="password"
          autoComplete="off"
          placeholder="Paste a token (npm run token -- --role analyst)"
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
        <button type="submit">Use token</button>
      </form>
      {development && (
        <form
          className="dev-signin"
          onSubmit={(event) => {
            event.preventDefault();
            developmentSignIn(role).then(onChange, (e: Error) => setError(e.message));
          }}
        >
          <label htmlFor="dev-role">Development sign-in as</label>
          <select id="dev-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button type="submit">Sign in</button>
        </form>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
