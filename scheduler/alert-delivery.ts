import pg from 'pg';
import type { Dispatcher } from 'undici';
import type { Config } from '../platform/config.js';
import { logger } from '../platform/logger.js';
import { outboundRefusalOf } from '../platform/outbound.js';
import { sleep } from '../platform/retry.js';
import {
  alertBody,
  alertSignature,
  AlertDeliveryStatus,
  AlertSinkService,
  changeOf,
  DetectionService,
  EVENT_LOG_CHANNEL,
  SEVERITY_ORDER,
  type AlertSink,
  type Severity,
  type SinkForDelivery,
} from '../subgraphs/activities/public.js';
import type { Database } from '../platform/database.js';
import { withAdvisoryLock } from './scan-lock.js';

/** Sinks delivered to at once by one scheduler process (each holds a lock connection while it does). */
const PARALLEL_SINKS = 8;
/** Events read from the log per round. */
const BATCH = 100;
/** The longest wait between two attempts of one event. */
const MAX_RETRY_MS = 300_000;

export interface AlertDeliveryOptions {
  readonly config: Config;
  readonly databaseUrl: string;
  /** The activities module's database: sinks, their delivery log, the event log, detections. */
  readonly activities: Database;
  readonly credentialsKey: Buffer;
  /** The outbound policy's connection pool (private addresses refused unless CONNECTOR_ALLOW_PRIVATE). */
  readonly dispatcher?: Dispatcher;
  /** Wakes on NOTIFY and at least this often (default 2 s). */
  readonly pollMs?: number;
}

/**
 * Alert export: each enabled sink receives the detection events its filter selects, in event-log
 * order, at least once. One scheduler delivers to a sink at a time (an advisory lock per sink); a
 * sink's next event waits until the current one is delivered (2xx) or has been refused for
 * ALERT_DELIVERY_EXPIRY_HOURS (then recorded EXPIRED). Every attempt is signed (`Tenantwatch-Signature`)
 * and carries the same `Tenantwatch-Delivery` id; the sink's cursor is saved after each event, so a
 * restart resumes right after the last one delivered (the one in flight is sent again: at least once).
 */
export class AlertDelivery {
  private listener?: pg.Client;
  private timer?: NodeJS.Timeout;
  private readonly locks: pg.Pool;
  private readonly running = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(private readonly options: AlertDeliveryOptions) {
    this.locks = new pg.Pool({ connectionString: options.databaseUrl, max: PARALLEL_SINKS });
    this.locks.on('error', (error) => logger.warn({ err: error }, 'alert-sink lock connection lost'));
  }

  private get sinks(): AlertSinkService {
    return new AlertSinkService(this.options.activities.knex(), this.options.credentialsKey);
  }

  async start(): Promise<void> {
    this.listener = new pg.Client({ connectionString: this.options.databaseUrl });
    this.listener.on('error', (error) => logger.warn({ err: error }, 'alert delivery notification connection failed; polling continues'));
    await this.listener.connect();
    this.listener.on('notification', () => this.wake(false));
    await this.listener.query(`listen ${EVENT_LOG_CHANNEL}`);
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 2_000);
    this.timer.unref();
    this.wake();
  }

  /** The sinks are being read for a wake-up; `again`: another came meanwhile, read once more after. */
  private reading = false;
  private again = false;
  /** The enabled sinks as last read, and when (`performance.now()`). */
  private known?: { readonly sinks: readonly SinkForDelivery[]; readonly at: number };

  /**
   * Starts a round for every enabled sink not already being delivered to by this process. An event's
   * wake-up (`fresh` false) goes by the sinks read within the poll interval, if any: a governance
   * burst appends an event per action, and reading the sinks for each was a statement per action; a
   * sink created or enabled meanwhile is read at the next poll and starts from its own cursor, so it
   * misses nothing. Wake-ups that come while the sinks are read are served by one more read after it.
   */
  wake(fresh = true): void {
    if (this.stopping.signal.aborted) return;
    if (!fresh && this.known && performance.now() - this.known.at < (this.options.pollMs ?? 2_000)) {
      this.startRounds(this.known.sinks);
      return;
    }
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    const at = performance.now();
    void this.sinks
      .enabledForDelivery()
      .finally(() => {
        this.reading = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      })
      .then((sinks) => {
        this.known = { sinks, at };
        this.startRounds(sinks);
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'alert sinks not read'));
  }

  private startRounds(sinks: readonly SinkForDelivery[]): void {
    for (const { sink } of sinks) {
      if (this.running.has(sink.id) || this.running.size >= PARALLEL_SINKS) continue;
      const round = withAdvisoryLock(this.locks, `alert-sink:${sink.id}`, () => this.deliver(sink.id))
        .then(() => undefined)
        .catch((error: unknown) => {
          if (!this.stopping.signal.aborted) logger.warn({ err: error, sinkId: sink.id }, 'alert delivery round failed');
        })
        .finally(() => this.running.delete(sink.id));
      this.running.set(sink.id, round);
    }
  }

  /** Delivers the sink's pending events in order until none is left (or the scheduler stops). */
  private async deliver(sinkId: string): Promise<void> {
    const { activities } = this.options;
    for (;;) {
      const current = await this.sinks.enabledForDeliveryById(sinkId);
      if (!current || this.stopping.signal.aborted) return;
      const events = await this.sinks.eventsAfter(current.sink.cursor, BATCH);
      if (events.length === 0) return;
      const detections = new Map(
        (await new DetectionService(activities.fork()).byIds([...new Set(events.map((e) => e.entityId))])).map((d) => [d.id, d]),
      );
      for (const event of events) {
        if (this.stopping.signal.aborted) return;
        const detection = detections.get(event.entityId);
        const change = changeOf(event);
        if (!detection || !matches(current.sink, event, change)) {
          await this.sinks.skipTo(sinkId, event.cursor);
          continue;
        }
        const ended = await this.deliverOne(current, { cursor: event.cursor, deliveryId: `${sinkId}.${event.cursor}`, change, detection });
        if (!ended) return;
      }
    }
  }

  /** Sends one event until delivered or expired; answers false when the scheduler stopped first. */
  private async deliverOne(
    target: SinkForDelivery,
    event: {
      cursor: string;
      deliveryId: string;
      change: ReturnType<typeof changeOf>;
      detection: Parameters<typeof alertBody>[1]['detection'];
    },
  ): Promise<boolean> {
    const { config } = this.options;
    const record = { cursor: event.cursor, deliveryId: event.deliveryId, detectionId: event.detection.id, change: event.change };
    for (let attempt = 1; ; attempt++) {
      const { sink, secret } = target;
      const { contentType, body } = alertBody(sink.format, event);
      const timestamp = Math.floor(Date.now() / 1000);
      let statusCode: number | null = null;
      let error: string | null = null;
      try {
        const response = await fetch(sink.url, {
          method: 'POST',
          dispatcher: this.options.dispatcher,
          redirect: 'manual',
          headers: {
            'content-type': contentType,
            'user-agent': 'Tenantwatch-Alerts/1',
            'tenantwatch-delivery': event.deliveryId,
            'tenantwatch-timestamp': String(timestamp),
            'tenantwatch-signature': alertSignature(secret, timestamp, event.deliveryId, body),
          },
          body,
          signal: AbortSignal.any([AbortSignal.timeout(config.ALERT_DELIVERY_TIMEOUT_MS), this.stopping.signal]),
        });
        await response.body?.cancel().catch(() => undefined);
        statusCode = response.status;
        if (response.ok) {
          await this.sinks.recordAttempt(sink.id, record, { status: AlertDeliveryStatus.DELIVERED, statusCode, error: null });
          return true;
        }
        error = `The sink answered HTTP ${response.status}`;
      } catch (failure) {
        if (this.stopping.signal.aborted) return false;
        const refusal = outboundRefusalOf(failure);
        error = refusal
          ? `The sink's address is refused: ${refusal.message}`
          : (failure as Error).name === 'TimeoutError'
            ? `The sink did not answer within ${config.ALERT_DELIVERY_TIMEOUT_MS} ms`
            : `The sink could not be reached (${String((failure as { cause?: { code?: unknown } }).cause?.code ?? (failure as Error).message)})`;
      }
      const first = (await this.sinks.firstAttemptAt(sink.id, event.cursor)) ?? new Date();
      const expired = Date.now() - first.getTime() >= config.ALERT_DELIVERY_EXPIRY_HOURS * 3_600_000;
      await this.sinks.recordAttempt(sink.id, record, {
        status: expired ? AlertDeliveryStatus.EXPIRED : AlertDeliveryStatus.RETRYING,
        statusCode,
        error,
      });
      if (expired) {
        logger.warn({ sinkId: sink.id, deliveryId: event.deliveryId, attempts: attempt }, 'alert delivery given up (expired)');
        return true;
      }
      const wait = Math.min(MAX_RETRY_MS, config.ALERT_DELIVERY_RETRY_MS * 2 ** Math.min(attempt - 1, 20)) * (0.8 + Math.random() * 0.4);
      try {
        await sleep(wait, this.stopping.signal);
      } catch {
        return false;
      }
      // A sink changed (url, secret) or disabled meanwhile: the next attempt uses what it is now.
      const now = await this.sinks.enabledForDeliveryById(sink.id);
      if (!now) return false;
      target = now;
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.timer);
    await Promise.allSettled([...this.running.values()]);
    await this.listener?.end().catch(() => undefined);
    await this.locks.end();
  }
}

/** Whether the sink's filter selects the event (severity, status, policy, instance, change as logged). */
function matches(sink: AlertSink, event: { instanceId: string; attributes: Record<string, unknown> }, change: string): boolean {
  const { filter } = sink;
  if (filter.changes.length > 0 && !filter.changes.includes(change as never)) return false;
  if (filter.instanceId && event.instanceId !== filter.instanceId) return false;
  if (filter.policyId && event.attributes.policyId !== filter.policyId) return false;
  if (!filter.severityAtLeast) return true;
  return SEVERITY_ORDER.indexOf(event.attributes.severity as Severity) >= SEVERITY_ORDER.indexOf(filter.severityAtLeast);
}
