import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useMutation, useQuery } from 'urql';
import { plainError, when } from './api';
import { atLeast, type Session } from './session';

const INSTANCES = `query Instances {
  appInstances {
    id name provider status statusMessage
    scans { kind state itemsScanned totalEstimate nextRunAt lastCompletedAt lastError }
    apiUsage { requestsLastHour throttledLastHour limitPerMinute headroomPercent }
  }
}`;

const CONNECTOR_TYPES = `query ConnectorTypes { connectorTypes { id name configFields { name label valueType secret required description } } }`;

interface Scan {
  kind: string;
  state: string;
  itemsScanned: number;
  totalEstimate: number | null;
  nextRunAt: string | null;
  lastCompletedAt: string | null;
  lastError: string | null;
}
interface Instance {
  id: string;
  name: string;
  provider: string;
  status: string;
  statusMessage: string | null;
  scans: Scan[];
  apiUsage: { requestsLastHour: number; throttledLastHour: number; limitPerMinute: number | null; headroomPercent: number };
}

const STEPS = ['CONNECTING', 'SCANNING_PERMISSIONS', 'INITIAL_SCAN', 'CONNECTED'] as const;
const STEP_LABELS: Record<string, string> = {
  CONNECTING: 'Stored',
  SCANNING_PERMISSIONS: 'Checking permissions',
  INITIAL_SCAN: 'Initial scan',
  CONNECTED: 'Connected',
};

/** The usage samples the console has seen, per instance, for the last hour (the API answers totals, the chart shows them over time). */
const samples = new Map<string, { t: number; requests: number; throttled: number }[]>();

export function Instances({ session }: { session: Session }) {
  const [{ data, error }, refresh] = useQuery<{ appInstances: Instance[] }>({ query: INSTANCES, requestPolicy: 'network-only' });
  useEffect(() => {
    const timer = setInterval(() => refresh({ requestPolicy: 'network-only' }), 2000);
    return () => clearInterval(timer);
  }, [refresh]);
  const admin = atLeast(session, 'admin');
  return (
    <section>
      <h1>Instances</h1>
      {error && (
        <p role="alert" className="error">
          {plainError(error)}
        </p>
      )}
      {admin && <ConnectForm onDone={() => refresh({ requestPolicy: 'network-only' })} />}
      {data?.appInstances.length === 0 && <p>No app instance yet.</p>}
      {data?.appInstances.map((instance) => (
        <InstanceCard key={instance.id} instance={instance} admin={admin} />
      ))}
    </section>
  );
}

function InstanceCard({ instance, admin }: { instance: Instance; admin: boolean }) {
  const [, disconnect] = useMutation(`mutation Disconnect($id: ID!) { disconnectApp(id: $id) { id status } }`);
  const [, reconnect] = useMutation(`mutation Reconnect($id: ID!) { reconnectApp(id: $id) { id status } }`);
  const [error, setError] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const stepIndex = STEPS.indexOf(instance.status as (typeof STEPS)[number]);
  return (
    <article className="card instance" data-testid="instance" data-status={instance.status} aria-labelledby={`i-${instance.id}`}>
      <header className="row">
        <h2 id={`i-${instance.id}`}>{instance.name}</h2>
        <span className={`badge status-${instance.status}`} data-testid="instance-status">
          {instance.status}
        </span>
        <span className="muted">{instance.provider}</span>
      </header>
      {instance.statusMessage && <p className="muted">{instance.statusMessage}</p>}
      <ol className="stepper" aria-label="Connect steps">
        {STEPS.map((step, i) => (
          <li
            key={step}
            className={
              stepIndex < 0 ? '' : i < stepIndex || (step === 'CONNECTED' && i === stepIndex) ? 'done' : i === stepIndex ? 'current' : ''
            }
            aria-current={i === stepIndex ? 'step' : undefined}
          >
            {STEP_LABELS[step]}
          </li>
        ))}
      </ol>
      <div className="scans">
        {instance.scans.map((scan) => {
          const max = Math.max(scan.totalEstimate ?? 0, scan.itemsScanned, 1);
          return (
            <div className="scan" key={scan.kind}>
              <label htmlFor={`p-${instance.id}-${scan.kind}`}>
                {scan.kind} <span className="muted">{scan.state}</span>
              </label>
              <progress id={`p-${instance.id}-${scan.kind}`} data-testid={`progress-${scan.kind}`} max={max} value={scan.itemsScanned} />
              <span className="muted small">
                {scan.itemsScanned} of {scan.totalEstimate ?? '?'} · next run {when(scan.nextRunAt)}
              </span>
              {scan.lastError && <span className="error small">{scan.lastError}</span>}
            </div>
          );
        })}
      </div>
      <UsageChart instance={instance} />
      {admin && (
        <div className="row">
          {['ERROR', 'DISCONNECTED', 'DEGRADED'].includes(instance.status) && (
            <button
              type="button"
              className="action"
              onClick={() => void reconnect({ id: instance.id }).then((a) => setError(plainError(a.error)))}
            >
              Reconnect
            </button>
          )}
          {instance.status !== 'DISCONNECTED' &&
            (confirming ? (
              <>
                <button
                  type="button"
                  className="action danger"
                  onClick={() => {
                    setConfirming(false);
                    void disconnect({ id: instance.id }).then((a) => setError(plainError(a.error)));
                  }}
                >
                  Confirm disconnect
                </button>
                <button type="button" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </>
            ) : (
              <button type="button" className="action" onClick={() => setConfirming(true)}>
                Disconnect
              </button>
            ))}
        </div>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </article>
  );
}

function UsageChart({ instance }: { instance: Instance }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const usage = instance.apiUsage;
  const limitPerHour = usage.limitPerMinute ? usage.limitPerMinute * 60 : null;
  useEffect(() => {
    const now = Date.now() / 1000;
    const list = samples.get(instance.id) ?? [];
    list.push({ t: now, requests: usage.requestsLastHour, throttled: usage.throttledLastHour });
    while (list.length && list[0]!.t < now - 3600) list.shift();
    samples.set(instance.id, list);
    const data: uPlot.AlignedData = [
      list.map((s) => s.t),
      list.map((s) => s.requests),
      list.map((s) => s.throttled),
      list.map(() => limitPerHour),
      list.map(() => (limitPerHour === null ? null : limitPerHour * (1 - usage.headroomPercent / 100))),
    ];
    if (!plot.current && box.current) {
      plot.current = new uPlot(
        {
          width: 520,
          height: 160,
          // The last hour, from 0 to above the limit (or the busiest sample).
          scales: {
            x: { time: true, range: () => [Date.now() / 1000 - 3600, Date.now() / 1000] },
            y: { range: (_u, _min, max) => [0, Math.max(max || 0, limitPerHour ?? 0, 10) * 1.1] },
          },
          axes: [{}, { size: 70 }],
          series: [
            {},
            { label: 'requests (last hour)', stroke: '#1d5fbf', width: 2 },
            { label: 'throttled', stroke: '#b3261e', width: 2, points: { show: true, size: 6 } },
            { label: 'limit', stroke: '#555', dash: [6, 4] },
            { label: 'limit less headroom', stroke: '#a15c00', dash: [2, 3] },
          ],
        },
        data,
        box.current,
      );
    } else plot.current?.setData(data);
  }, [instance.id, usage.requestsLastHour, usage.throttledLastHour, usage.headroomPercent, limitPerHour]);
  useEffect(() => () => plot.current?.destroy(), []);
  return (
    <figure className="usage">
      <figcaption>
        API usage: {usage.requestsLastHour} requests in the last hour
        {limitPerHour !== null ? ` of ${limitPerHour} allowed (${usage.limitPerMinute}/min)` : ''}, headroom {usage.headroomPercent}%
        {usage.throttledLastHour > 0 && <strong className="error"> · {usage.throttledLastHour} throttled</strong>}
      </figcaption>
      <div ref={box} aria-hidden="true" />
    </figure>
  );
}

interface ConfigField {
  name: string;
  label: string;
  valueType: 'STRING' | 'NUMBER' | 'JSON';
  secret: boolean;
  required: boolean;
  description: string;
}

/**
 * connectApp's `config` from the form's text: each field as its connector's type (a number as a
 * number, JSON parsed); empty fields left out. Throws naming the field whose text is not of its type.
 */
function configOf(fields: readonly ConfigField[], values: Readonly<Record<string, string>>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const field of fields) {
    const text = values[field.name]?.trim() ?? '';
    if (text === '') continue;
    switch (field.valueType) {
      case 'NUMBER': {
        const number = Number(text);
        if (!Number.isFinite(number)) throw new Error(`${field.label}: must be a number`);
        config[field.name] = number;
        break;
      }
      case 'JSON':
        try {
          config[field.name] = JSON.parse(text) as unknown;
        } catch {
          throw new Error(`${field.label}: must be JSON, e.g. ${field.description}`);
        }
        break;
      default:
        config[field.name] = values[field.name];
    }
  }
  return config;
}

function ConnectForm({ onDone }: { onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [{ data }] = useQuery<{ connectorTypes: { id: string; name: string; configFields: ConfigField[] }[] }>({
    query: CONNECTOR_TYPES,
    pause: !open,
  });
  const [provider, setProvider] = useState('');
  const [name, setName] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [{ fetching }, connect] = useMutation(`mutation Connect($input: ConnectAppInput!) { connectApp(input: $input) { id status } }`);
  const type = data?.connectorTypes.find((t) => t.id === provider) ?? data?.connectorTypes[0];
  if (!open) {
    return (
      <button type="button" className="action" onClick={() => setOpen(true)}>
        Connect an app
      </button>
    );
  }
  return (
    <form
      className="card connect"
      aria-label="Connect an app"
      onSubmit={(event) => {
        event.preventDefault();
        if (!type) return;
        let config: Record<string, unknown>;
        try {
          config = configOf(type.configFields, values);
        } catch (invalid) {
          setError((invalid as Error).message);
          return;
        }
        void connect({ input: { provider: type.id, name, config } }).then((answer) => {
          if (answer.error) setError(plainError(answer.error));
          else {
            setOpen(false);
            setValues({});
            onDone();
          }
        });
      }}
    >
      <h2>Connect an app</h2>
      <label htmlFor="connect-provider">Connector</label>
      <select id="connect-provider" value={type?.id ?? ''} onChange={(e) => setProvider(e.target.value)}>
        {data?.connectorTypes.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </select>
      <label htmlFor="connect-name">Name</label>
      <input id="connect-name" required value={name} onChange={(e) => setName(e.target.value)} />
      {type?.configFields.map((field) => (
        <div key={field.name} className="field">
          <label htmlFor={`cf-${field.name}`}>
            {field.label}
            {field.required ? ' *' : ''}
          </label>
          <input
            id={`cf-${field.name}`}
            type={field.secret ? 'password' : field.valueType === 'NUMBER' ? 'number' : 'text'}
            {...(field.valueType === 'NUMBER' ? { step: 'any' } : {})}
            autoComplete="off"
            required={field.required}
            value={values[field.name] ?? ''}
            aria-describedby={`cfd-${field.name}`}
            onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
          />
          <span id={`cfd-${field.name}`} className="muted small">
            {field.description}
          </span>
        </div>
      ))}
      <div className="row">
        <button type="submit" disabled={fetching}>
          Connect
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
