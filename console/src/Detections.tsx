import { useContext, useEffect, useRef, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { ActOn } from './Act';
import { plainError, SEVERITIES, when, WsContext } from './api';
import { Pager, usePages } from './pager';
import { atLeast, type Session } from './session';

const FEED = `subscription Feed($after: String) {
  detectionRaised(after: $after) {
    cursor change
    detection { id title severity status detectedAt instance { name } account { email displayName } }
  }
}`;

const LIST = `query Detections($filter: DetectionFilter, $first: Int, $after: String) {
  detections(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id title severity status detectedAt policy { name } instance { name } } }
  }
}`;

const DETAIL = `query Detection($id: ID!) {
  detection(id: $id) {
    id title description severity status statusComment assignee detectedAt evidence
    policy { id name kind }
    instance { id name }
    account { id email displayName status }
    file { id name path sharing }
    appPermission { id appName permissionLevel scopes revoked }
    activities { id action occurredAt country ipAddress }
  }
}`;

const FILTER_OPTIONS = `query DetectionFilterOptions { appInstances { id name } policies { id name } }`;

interface RaisedEvent {
  cursor: string;
  change: string;
  detection: {
    id: string;
    title: string;
    severity: string;
    status: string;
    detectedAt: string;
    instance: { name: string } | null;
    account: { email: string | null; displayName: string } | null;
  };
}

export interface FeedEvent {
  cursor: string;
  change: string;
  id: string;
  title: string;
  severity: string;
  status: string;
  instance: string;
  account: string | null;
  detectedAt: string;
}

/** The feed is kept per signed-in subject in localStorage: after a reload it resumes from its last cursor. */
function feedKey(session: Session): string {
  return `tenantwatch.feed.${session.subject}`;
}
const FEED_KEPT = 200;

function loadFeed(session: Session): { cursor?: string; events: FeedEvent[] } {
  try {
    return JSON.parse(localStorage.getItem(feedKey(session)) ?? '') as { cursor?: string; events: FeedEvent[] };
  } catch {
    return { events: [] };
  }
}

function isAfter(cursor: string, last: string | undefined): boolean {
  return last === undefined || BigInt(cursor) > BigInt(last);
}

export function Detections({ session }: { session: Session }) {
  const [selected, setSelected] = useState<string>();
  const [filter, setFilter] = useState<Record<string, string>>({});
  const [bump, setBump] = useState(0);
  const live = atLeast(session, 'analyst');
  return (
    <section>
      <h1>Detections</h1>
      {live ? (
        <LiveFeed session={session} onEvent={() => setBump((n) => n + 1)} onSelect={setSelected} />
      ) : (
        <p className="muted">The live feed needs the analyst role or above; the list below refreshes on its own.</p>
      )}
      <DetectionFilters filter={filter} onChange={setFilter} />
      <DetectionList filter={filter} bump={bump} onSelect={setSelected} live={live} />
      {selected && <DetectionDetail key={selected} id={selected} bump={bump} session={session} onClose={() => setSelected(undefined)} />}
    </section>
  );
}

function LiveFeed({ session, onEvent, onSelect }: { session: Session; onEvent: () => void; onSelect: (id: string) => void }) {
  const ws = useContext(WsContext);
  const [initial] = useState(() => loadFeed(session));
  const state = useRef(initial);
  const [events, setEvents] = useState(initial.events);
  const [error, setError] = useState<string>();
  const notify = useRef(onEvent);
  notify.current = onEvent;
  useEffect(() => {
    if (!ws) return;
    // graphql-ws sends this payload again on every reconnection: `after` always holds the last cursor
    // seen, so a dropped connection resumes where it stopped (and a reload from localStorage).
    const payload = { query: FEED, variables: { after: state.current.cursor ?? null } };
    return ws.subscribe<{ detectionRaised: RaisedEvent }>(payload, {
      next: (result) => {
        if (result.errors?.length) {
          setError(plainError(result.errors as unknown as { message: string; extensions?: Record<string, unknown> }[]));
          return;
        }
        const event = result.data?.detectionRaised;
        if (!event || !isAfter(event.cursor, state.current.cursor)) return;
        setError(undefined);
        const d = event.detection;
        const item: FeedEvent = {
          cursor: event.cursor,
          change: event.change,
          id: d.id,
          title: d.title,
          severity: d.severity,
          status: d.status,
          instance: d.instance?.name ?? '',
          account: d.account ? (d.account.email ?? d.account.displayName) : null,
          detectedAt: d.detectedAt,
        };
        const next = { cursor: event.cursor, events: [item, ...state.current.events].slice(0, FEED_KEPT) };
        state.current = next;
        payload.variables.after = event.cursor;
        localStorage.setItem(feedKey(session), JSON.stringify(next));
        setEvents(next.events);
        notify.current();
      },
      error: (e: unknown) =>
        setError(
          Array.isArray(e)
            ? plainError(e as { message: string }[])
            : e instanceof Error
              ? plainError(e)
              : `The live feed's connection closed (${(e as CloseEvent).code ?? '?'}): ${(e as CloseEvent).reason || 'no reason given'}`,
        ),
      complete: () => undefined,
    });
  }, [ws, session]);
  return (
    <div className="card feed">
      <h2>
        Live feed <span className="live-dot" aria-hidden="true" />
      </h2>
      <p className="muted small" data-testid="feed-cursor">
        {initial.cursor ? `Resumed after event ${initial.cursor}` : 'Live events from now on'}; last event{' '}
        {state.current.cursor ?? 'none yet'}
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <ol className="feed-list" aria-live="polite" data-testid="feed">
        {events.map((e) => (
          <li key={e.cursor} data-testid="feed-event" data-cursor={e.cursor}>
            <span className={`badge sev-${e.severity}`}>{e.severity}</span> <span className="badge">{e.change}</span>{' '}
            <button type="button" className="link" onClick={() => onSelect(e.id)}>
              {e.title}
            </button>{' '}
            <span className="muted small">
              {e.instance}
              {e.account ? ` · ${e.account}` : ''} · {when(e.detectedAt)}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}

function DetectionFilters({ filter, onChange }: { filter: Record<string, string>; onChange: (f: Record<string, string>) => void }) {
  const [{ data }] = useQuery<{ appInstances: { id: string; name: string }[]; policies: { id: string; name: string }[] }>({
    query: FILTER_OPTIONS,
  });
  const set = (key: string, value: string) => {
    const next = { ...filter };
    if (value) next[key] = value;
    else delete next[key];
    onChange(next);
  };
  return (
    <form className="filters" aria-label="Detection filters" onSubmit={(e) => e.preventDefault()}>
      <label>
        Severity at least
        <select value={filter.severityAtLeast ?? ''} onChange={(e) => set('severityAtLeast', e.target.value)}>
          <option value="">any</option>
          {SEVERITIES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <label>
        Status
        <select value={filter.status ?? ''} onChange={(e) => set('status', e.target.value)}>
          <option value="">any</option>
          {['OPEN', 'DISMISSED', 'RESOLVED'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <label>
        Instance
        <select value={filter.instanceId ?? ''} onChange={(e) => set('instanceId', e.target.value)}>
          <option value="">any</option>
          {data?.appInstances.map((i) => (
            <option key={i.id} value={i.id}>
              {i.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Policy
        <select value={filter.policyId ?? ''} onChange={(e) => set('policyId', e.target.value)}>
          <option value="">any</option>
          {data?.policies.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
    </form>
  );
}

interface DetectionRow {
  id: string;
  title: string;
  severity: string;
  status: string;
  detectedAt: string;
  policy: { name: string } | null;
  instance: { name: string } | null;
}

function DetectionList({
  filter,
  bump,
  onSelect,
  live,
}: {
  filter: Record<string, string>;
  bump: number;
  onSelect: (id: string) => void;
  live: boolean;
}) {
  const pages = usePages(JSON.stringify(filter));
  const [{ data, error }, refresh] = useQuery<{
    detections: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: DetectionRow }[] };
  }>({ query: LIST, variables: { filter, first: 20, after: pages.after } });
  useEffect(() => {
    if (bump) refresh({ requestPolicy: 'network-only' });
  }, [bump, refresh]);
  useEffect(() => {
    if (live) return;
    const timer = setInterval(() => refresh({ requestPolicy: 'network-only' }), 5000);
    return () => clearInterval(timer);
  }, [live, refresh]);
  return (
    <div className="card">
      <h2>All detections {data && <span className="muted">({data.detections.totalCount})</span>}</h2>
      {error && (
        <p role="alert" className="error">
          {plainError(error)}
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col">Title</th>
            <th scope="col">Status</th>
            <th scope="col">Policy</th>
            <th scope="col">Instance</th>
            <th scope="col">Detected</th>
          </tr>
        </thead>
        <tbody>
          {data?.detections.edges.map(({ node }) => (
            <tr key={node.id}>
              <td>
                <span className={`badge sev-${node.severity}`}>{node.severity}</span>
              </td>
              <td>
                <button type="button" className="link" onClick={() => onSelect(node.id)}>
                  {node.title}
                </button>
              </td>
              <td>{node.status}</td>
              <td>{node.policy?.name}</td>
              <td>{node.instance?.name}</td>
              <td>{when(node.detectedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pages={pages} pageInfo={data?.detections.pageInfo} />
    </div>
  );
}

interface DetectionView {
  id: string;
  title: string;
  description: string;
  severity: string;
  status: string;
  statusComment: string | null;
  assignee: string | null;
  detectedAt: string;
  evidence: unknown;
  policy: { id: string; name: string; kind: string } | null;
  instance: { id: string; name: string } | null;
  account: { id: string; email: string | null; displayName: string; status: string } | null;
  file: { id: string; name: string; path: string; sharing: string } | null;
  appPermission: { id: string; appName: string; permissionLevel: string; scopes: string[]; revoked: boolean } | null;
  activities: { id: string; action: string; occurredAt: string; country: string | null; ipAddress: string | null }[];
}

function DetectionDetail({ id, bump, session, onClose }: { id: string; bump: number; session: Session; onClose: () => void }) {
  const [{ data, error }, refresh] = useQuery<{ detection: DetectionView | null }>({
    query: DETAIL,
    variables: { id },
    requestPolicy: 'network-only',
  });
  // Fresh data when a live event arrives (a form being filled in stays as it is).
  useEffect(() => {
    if (bump) refresh({ requestPolicy: 'network-only' });
  }, [bump, refresh]);
  const [status, setStatus] = useState('RESOLVED');
  const [comment, setComment] = useState('');
  const [assignee, setAssignee] = useState('');
  const [message, setMessage] = useState<string>();
  const [, setDetectionStatus] = useMutation(
    `mutation Triage($id: ID!, $status: DetectionStatus!, $comment: String) { setDetectionStatus(id: $id, status: $status, comment: $comment) { id status } }`,
  );
  const [, assign] = useMutation(
    `mutation Assign($id: ID!, $assignee: String, $comment: String) { assignDetection(id: $id, assignee: $assignee, comment: $comment) { id assignee } }`,
  );
  const d = data?.detection;
  const analyst = atLeast(session, 'analyst');
  const responder = atLeast(session, 'responder');
  return (
    <aside className="card detail" aria-labelledby="detail-title" data-testid="detection-detail">
      <div className="row">
        <h2 id="detail-title">{d?.title ?? 'Detection'}</h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {error && (
        <p role="alert" className="error">
          {plainError(error)}
        </p>
      )}
      {d && (
        <>
          <p>
            <span className={`badge sev-${d.severity}`}>{d.severity}</span> <span className="badge">{d.status}</span>{' '}
            {d.assignee && <span className="muted">assigned to {d.assignee}</span>}
          </p>
          <p>{d.description}</p>
          <p className="muted small">
            Policy {d.policy?.name} · {d.instance?.name} · {when(d.detectedAt)}
          </p>
          <h3>Evidence</h3>
          <pre className="evidence">{JSON.stringify(d.evidence, null, 2)}</pre>
          {d.activities.length > 0 && (
            <>
              <h3>Activities</h3>
              <ul>
                {d.activities.map((a) => (
                  <li key={a.id}>
                    {a.action} · {when(a.occurredAt)} · {a.country ?? ''} {a.ipAddress ?? ''}
                  </li>
                ))}
              </ul>
            </>
          )}
          {d.account && (
            <div className="linked" data-testid="linked-account">
              <h3>Account</h3>
              <p>
                {d.account.displayName} {d.account.email && `<${d.account.email}>`} ·{' '}
                <span className="badge" data-testid="account-status">
                  {d.account.status}
                </span>
              </p>
              {responder && <ActOn kind="account" targetId={d.account.id} targetName={d.account.email ?? d.account.displayName} />}
            </div>
          )}
          {d.file && (
            <div className="linked">
              <h3>File</h3>
              <p>
                {d.file.path} · {d.file.sharing}
              </p>
              {responder && <ActOn kind="file" targetId={d.file.id} targetName={d.file.name} />}
            </div>
          )}
          {d.appPermission && (
            <div className="linked">
              <h3>App permission</h3>
              <p>
                {d.appPermission.appName} · {d.appPermission.permissionLevel} · {d.appPermission.scopes.join(', ')}
                {d.appPermission.revoked ? ' · revoked' : ''}
              </p>
              {responder && <ActOn kind="appPermission" targetId={d.appPermission.id} targetName={d.appPermission.appName} />}
            </div>
          )}
          {analyst && (
            <form
              className="triage"
              aria-label="Triage"
              onSubmit={(event) => {
                event.preventDefault();
                void setDetectionStatus({ id: d.id, status, comment: comment || undefined }).then((a) => {
                  setMessage(a.error ? plainError(a.error) : `Status set to ${status}.`);
                  refresh({ requestPolicy: 'network-only' });
                });
              }}
            >
              <h3>Triage</h3>
              <label htmlFor="triage-status">Status</label>
              <select id="triage-status" value={status} onChange={(e) => setStatus(e.target.value)}>
                {['OPEN', 'DISMISSED', 'RESOLVED'].map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </select>
              <label htmlFor="triage-comment">Comment</label>
              <input id="triage-comment" value={comment} onChange={(e) => setComment(e.target.value)} />
              <button type="submit" className="action">
                Set status
              </button>
              <label htmlFor="triage-assignee">Assignee</label>
              <input id="triage-assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)} />
              <button
                type="button"
                className="action"
                onClick={() =>
                  void assign({ id: d.id, assignee: assignee || null, comment: comment || undefined }).then((a) => {
                    setMessage(a.error ? plainError(a.error) : assignee ? `Assigned to ${assignee}.` : 'Unassigned.');
                    refresh({ requestPolicy: 'network-only' });
                  })
                }
              >
                Assign
              </button>
              {message && <p role="status">{message}</p>}
            </form>
          )}
        </>
      )}
    </aside>
  );
}
