import { createHmac } from 'node:crypto';
import type { Detection, DetectionChange } from './detection.entity.js';
import { AlertFormat } from './alert-sink.entity.js';
import { Severity } from './policy.entity.js';

/** What one event to a sink carries. */
export interface AlertEvent {
  readonly deliveryId: string;
  readonly cursor: string;
  readonly change: DetectionChange;
  readonly detection: Detection;
}

/** CEF severity (0–10) of each detection severity. */
const CEF_SEVERITY: Readonly<Record<Severity, number>> = {
  [Severity.INFORMATIONAL]: 1,
  [Severity.LOW]: 3,
  [Severity.MEDIUM]: 5,
  [Severity.HIGH]: 8,
};

/** A CEF header field: `\` and `|` escaped (ArcSight CEF, "Header information"). */
const header = (value: string) =>
  value
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ');
/** A CEF extension value: `\`, `=` and line breaks escaped (ArcSight CEF, "Extension"). */
const extension = (value: string) => value.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r?\n/g, '\\n');

/** The body and content type of an event in the sink's format. */
export function alertBody(format: AlertFormat, event: AlertEvent): { readonly contentType: string; readonly body: string } {
  const d = event.detection;
  if (format === AlertFormat.JSON)
    return {
      contentType: 'application/json',
      body: JSON.stringify({
        deliveryId: event.deliveryId,
        cursor: event.cursor,
        change: event.change,
        detection: {
          id: d.id,
          title: d.title,
          description: d.description,
          severity: d.severity,
          status: d.status,
          assignee: d.assignee,
          policyId: d.policyId,
          instanceId: d.instanceId,
          accountId: d.accountId,
          fileId: d.fileId,
          appPermissionId: d.appPermissionId,
          detectedAt: d.detectedAt.toISOString(),
          evidence: d.evidence,
        },
      }),
    };
  const fields: [string, string | null][] = [
    ['rt', String(d.detectedAt.getTime())],
    ['externalId', d.id],
    ['act', event.change],
    ['outcome', d.status],
    ['cs1Label', 'instanceId'],
    ['cs1', d.instanceId],
    ['cs2Label', 'accountId'],
    ['cs2', d.accountId],
    ['cs3Label', 'fileId'],
    ['cs3', d.fileId],
    ['cs4Label', 'appPermissionId'],
    ['cs4', d.appPermissionId],
    ['cs5Label', 'deliveryId'],
    ['cs5', event.deliveryId],
    ['msg', d.description],
  ];
  const ext = fields
    .filter((f): f is [string, string] => f[1] !== null)
    .map(([k, v]) => `${k}=${extension(v)}`)
    .join(' ');
  return {
    contentType: 'text/plain; charset=utf-8',
    body: `CEF:0|Tenantwatch|Tenantwatch|0.1.0|${header(d.policyId)}|${header(d.title)}|${CEF_SEVERITY[d.severity]}|${ext}`,
  };
}

/** The `Tenantwatch-Signature` of a delivery: `v1=` hex HMAC-SHA256 over `<timestamp>.<deliveryId>.<body>`. */
export function alertSignature(secret: string, timestamp: number, deliveryId: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${deliveryId}.${body}`).digest('hex')}`;
}
