import { useState } from 'react';
import { useQuery } from 'urql';
import { ActOn } from './Act';
import { plainError, when } from './api';
import { Pager, usePages } from './pager';
import { atLeast, type Session } from './session';

const ACCOUNTS = `query Accounts($filter: AccountFilter, $after: String) {
  accounts(filter: $filter, first: 25, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id email displayName status isAdmin instance { name } updatedAt } }
  }
}`;
const FILES = `query Files($filter: FileFilter, $after: String) {
  files(filter: $filter, first: 25, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name path sharing quarantined trashed modifiedAt owner { email } sensitiveMatches { type count } } }
  }
}`;
const GRANTS = `query AppPermissions($filter: AppPermissionFilter, $after: String) {
  appPermissions(filter: $filter, first: 25, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id appName publisher permissionLevel scopes revoked grantedBy { email } lastUsedAt } }
  }
}`;

type Tab = 'accounts' | 'files' | 'appPermissions';

export function Explore({ session }: { session: Session }) {
  const [tab, setTab] = useState<Tab>('accounts');
  const responder = atLeast(session, 'responder');
  return (
    <section>
      <h1>Explore</h1>
      <div role="tablist" aria-label="What to explore" className="tabs">
        {(
          [
            ['accounts', 'Accounts'],
            ['files', 'Files'],
            ['appPermissions', 'App permissions'],
          ] as const
        ).map(([id, label]) => (
          <button key={id} type="button" role="tab" aria-selected={tab === id} onClick={() => setTab(id)}>
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" className="card">
        {tab === 'accounts' && <Accounts responder={responder} />}
        {tab === 'files' && <Files responder={responder} />}
        {tab === 'appPermissions' && <Grants responder={responder} />}
      </div>
    </section>
  );
}

interface Connection<T> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: T }[];
}

function useFilter() {
  const [filter, setFilter] = useState<Record<string, unknown>>({});
  const set = (key: string, value: unknown) => {
    const next = { ...filter };
    if (value === '' || value === undefined) delete next[key];
    else next[key] = value;
    setFilter(next);
  };
  return { filter, set };
}

function Select({ label, value, options, onChange }: { label: string; value: unknown; options: string[]; onChange: (v: string) => void }) {
  return (
    <label>
      {label}
      <select value={value === undefined ? '' : String(value)} onChange={(e) => onChange(e.target.value)}>
        <option value="">any</option>
        {options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    </label>
  );
}

const bool = (v: string) => (v === '' ? undefined : v === 'true');

function Accounts({ responder }: { responder: boolean }) {
  const { filter, set } = useFilter();
  const pages = usePages(JSON.stringify(filter));
  const [{ data, error }] = useQuery<{
    accounts: Connection<{
      id: string;
      email: string | null;
      displayName: string;
      status: string;
      isAdmin: boolean;
      instance: { name: string } | null;
      updatedAt: string;
    }>;
  }>({ query: ACCOUNTS, variables: { filter, after: pages.after } });
  return (
    <>
      <form className="filters" aria-label="Account filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" onChange={(e) => set('search', e.target.value)} />
        </label>
        <Select label="Status" value={filter.status} options={['ACTIVE', 'SUSPENDED', 'DISABLED']} onChange={(v) => set('status', v)} />
        <Select label="Admin" value={filter.isAdmin} options={['true', 'false']} onChange={(v) => set('isAdmin', bool(v))} />
      </form>
      {error && (
        <p role="alert" className="error">
          {plainError(error)}
        </p>
      )}
      <p className="muted small">{data?.accounts.totalCount ?? 0} accounts</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Status</th>
            <th scope="col">Admin</th>
            <th scope="col">Instance</th>
            {responder && <th scope="col">Act</th>}
          </tr>
        </thead>
        <tbody>
          {data?.accounts.edges.map(({ node }) => (
            <tr key={node.id}>
              <td>{node.displayName}</td>
              <td>{node.email}</td>
              <td>{node.status}</td>
              <td>{node.isAdmin ? 'yes' : 'no'}</td>
              <td>{node.instance?.name}</td>
              {responder && (
                <td>
                  <ActOn kind="account" targetId={node.id} targetName={node.email ?? node.displayName} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pages={pages} pageInfo={data?.accounts.pageInfo} />
    </>
  );
}

function Files({ responder }: { responder: boolean }) {
  const { filter, set } = useFilter();
  const pages = usePages(JSON.stringify(filter));
  const [{ data, error }] = useQuery<{
    files: Connection<{
      id: string;
      name: string;
      path: string;
      sharing: string;
      quarantined: boolean;
      trashed: boolean;
      modifiedAt: string;
      owner: { email: string | null } | null;
      sensitiveMatches: { type: string; count: number }[];
    }>;
  }>({ query: FILES, variables: { filter, after: pages.after } });
  return (
    <>
      <form className="filters" aria-label="File filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" onChange={(e) => set('search', e.target.value)} />
        </label>
        <Select
          label="Sharing"
          value={filter.sharing}
          options={['PRIVATE', 'INTERNAL', 'EXTERNAL', 'PUBLIC']}
          onChange={(v) => set('sharing', v)}
        />
        <Select label="Sensitive" value={filter.hasSensitive} options={['true', 'false']} onChange={(v) => set('hasSensitive', bool(v))} />
        <Select label="Quarantined" value={filter.quarantined} options={['true', 'false']} onChange={(v) => set('quarantined', bool(v))} />
      </form>
      {error && (
        <p role="alert" className="error">
          {plainError(error)}
        </p>
      )}
      <p className="muted small">{data?.files.totalCount ?? 0} files</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col">Sharing</th>
            <th scope="col">Owner</th>
            <th scope="col">Sensitive</th>
            <th scope="col">Modified</th>
            {responder && <th scope="col">Act</th>}
          </tr>
        </thead>
        <tbody>
          {data?.files.edges.map(({ node }) => (
            <tr key={node.id}>
              <td>
                {node.path}
                {node.quarantined ? ' (quarantined)' : ''}
                {node.trashed ? ' (trashed)' : ''}
              </td>
              <td>{node.sharing}</td>
              <td>{node.owner?.email}</td>
              <td>{node.sensitiveMatches.map((m) => `${m.type} ×${m.count}`).join(', ')}</td>
              <td>{when(node.modifiedAt)}</td>
              {responder && (
                <td>
                  <ActOn kind="file" targetId={node.id} targetName={node.name} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pages={pages} pageInfo={data?.files.pageInfo} />
    </>
  );
}

function Grants({ responder }: { responder: boolean }) {
  const { filter, set } = useFilter();
  const pages = usePages(JSON.stringify(filter));
  const [{ data, error }] = useQuery<{
    appPermissions: Connection<{
      id: string;
      appName: string;
      publisher: string | null;
      permissionLevel: string;
      scopes: string[];
      revoked: boolean;
      grantedBy: { email: string | null } | null;
      lastUsedAt: string | null;
    }>;
  }>({ query: GRANTS, variables: { filter, after: pages.after } });
  return (
    <>
      <form className="filters" aria-label="App permission filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          App name
          <input type="search" onChange={(e) => set('appName', e.target.value)} />
        </label>
        <Select
          label="Level"
          value={filter.permissionLevel}
          options={['LOW', 'MEDIUM', 'HIGH']}
          onChange={(v) => set('permissionLevel', v)}
        />
        <Select label="Revoked" value={filter.revoked} options={['true', 'false']} onChange={(v) => set('revoked', bool(v))} />
      </form>
      {error && (
        <p role="alert" className="error">
          {plainError(error)}
        </p>
      )}
      <p className="muted small">{data?.appPermissions.totalCount ?? 0} app permissions</p>
      <table>
        <thead>
          <tr>
            <th scope="col">App</th>
            <th scope="col">Level</th>
            <th scope="col">Scopes</th>
            <th scope="col">Granted by</th>
            <th scope="col">Last used</th>
            {responder && <th scope="col">Act</th>}
          </tr>
        </thead>
        <tbody>
          {data?.appPermissions.edges.map(({ node }) => (
            <tr key={node.id}>
              <td>
                {node.appName}
                {node.revoked ? ' (revoked)' : ''}
              </td>
              <td>{node.permissionLevel}</td>
              <td>{node.scopes.join(', ')}</td>
              <td>{node.grantedBy?.email}</td>
              <td>{when(node.lastUsedAt)}</td>
              {responder && (
                <td>
                  <ActOn kind="appPermission" targetId={node.id} targetName={node.appName} />
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pages={pages} pageInfo={data?.appPermissions.pageInfo} />
    </>
  );
}
