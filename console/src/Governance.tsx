import { useEffect, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { plainError, when } from './api';
import { Pager, usePages } from './pager';
import { atLeast, type Session } from './session';

const LOG = `query GovernanceLog($filter: GovernanceFilter, $first: Int, $after: String) {
  governanceActions(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id type status requestedBy reason dryRun attempts error requestedAt completedAt
      instance { name } account { email displayName } file { name } appPermission { appName } } }
  }
}`;

const RESULTS = `subscription GovernanceResults { governanceResult { cursor action { id type status error } } }`;

const TYPES = [
  'SUSPEND_ACCOUNT',
  'UNSUSPEND_ACCOUNT',
  'REQUIRE_PASSWORD_RESET',
  'REVOKE_APP_PERMISSION',
  'QUARANTINE_FILE',
  'RESTORE_FILE',
  'TRASH_FILE',
  'REMOVE_EXTERNAL_SHARING',
  'OVERWRITE_FILE',
];

interface ActionRow {
  id: string;
  type: string;
  status: string;
  requestedBy: string;
  reason: string | null;
  dryRun: boolean;
  attempts: number;
  error: string | null;
  requestedAt: string;
  completedAt: string | null;
  instance: { name: string } | null;
  account: { email: string | null; displayName: string } | null;
  file: { name: string } | null;
  appPermission: { appName: string } | null;
}

/** The governance log with filters; results arrive live (analyst and above) and refresh it. */
export function Governance({ session }: { session: Session }) {
  const [filter, setFilter] = useState<Record<string, string>>({});
  const pages = usePages(JSON.stringify(filter));
  const [{ data, error }, refresh] = useQuery<{
    governanceActions: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: ActionRow }[] };
  }>({ query: LOG, variables: { filter, first: 25, after: pages.after }, requestPolicy: 'network-only' });
  const live = atLeast(session, 'analyst');
  const [{ data: last }] = useSubscription<{ governanceResult: { cursor: string; action: { id: string; status: string } } }>({
    query: RESULTS,
    pause: !live,
  });
  useEffect(() => {
    if (last) refresh({ requestPolicy: 'network-only' });
  }, [last, refresh]);
  useEffect(() => {
    const timer = setInterval(() => refresh({ requestPolicy: 'network-only' }), live ? 15000 : 5000);
    return () => clearInterval(timer);
  }, [live, refresh]);
  const set = (key: string, value: string) => {
    const next = { ...filter };
    if (value) next[key] = value;
    else delete next[key];
    setFilter(next);
  };
  return (
    <section>
      <h1>Governance log</h1>
      <form className="filters" aria-label="Governance filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Type
          <select value={filter.type ?? ''} onChange={(e) => set('type', e.target.value)}>
            <option value="">any</option>
            {TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={filter.status ?? ''} onChange={(e) => set('status', e.target.value)}>
            <option value="">any</option>
            {['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </form>
      {error && (
        <p role="alert" className="error">
          {plainError(error)}
        </p>
      )}
      <div className="card">
        <p className="muted small">
          {data?.governanceActions.totalCount ?? 0} actions. Responders act from an account, file or app permission (Detections or Explore).
        </p>
        <table data-testid="governance-log">
          <thead>
            <tr>
              <th scope="col">Requested</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col">Target</th>
              <th scope="col">Instance</th>
              <th scope="col">By</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {data?.governanceActions.edges.map(({ node }) => (
              <tr key={node.id} data-testid="governance-row" data-status={node.status} data-type={node.type}>
                <td>{when(node.requestedAt)}</td>
                <td>
                  {node.type}
                  {node.dryRun ? ' (dry run)' : ''}
                </td>
                <td>
                  <span className={`badge gov-${node.status}`}>{node.status}</span>
                  {node.error && <span className="error small"> {node.error}</span>}
                </td>
                <td>{node.account?.email ?? node.account?.displayName ?? node.file?.name ?? node.appPermission?.appName ?? '—'}</td>
                <td>{node.instance?.name}</td>
                <td>{node.requestedBy}</td>
                <td>{node.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Pager pages={pages} pageInfo={data?.governanceActions.pageInfo} />
      </div>
    </section>
  );
}
