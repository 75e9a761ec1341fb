import { createHash } from 'node:crypto';
import { WebhookRejectedError, type VerifiedWebhook, type WebhookDelivery, type WebhookNotice } from '../contract.js';

/**
 * How long a delivery's id is remembered: Salesforce retries an outbound message it got no
 * acknowledgement for during 24 hours (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_understanding.htm).
 */
const RETRIES_FOR_MS = 24 * 3_600_000;

/** The 15-character form of an id (the 18-character form adds a case-safe suffix). */
const short = (id: string) => id.slice(0, 15);

/** The text of the first `<name>` element (any namespace prefix) in `xml`. */
function element(xml: string, name: string): string | null {
  const m = new RegExp(`<(?:[A-Za-z0-9_]+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:[A-Za-z0-9_]+:)?${name}>`).exec(xml);
  return m ? m[1]!.trim() : null;
}

/** Every `<Notification>` element's content. */
function notifications(xml: string): string[] {
  return [...xml.matchAll(/<(?:[A-Za-z0-9_]+:)?Notification(?:\s[^>]*)?>([\s\S]*?)<\/(?:[A-Za-z0-9_]+:)?Notification>/g)].map((m) => m[1]!);
}

/**
 * An outbound message (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_wsdl.htm):
 * a SOAP `notifications` envelope of up to 100 notifications, each with its own id and the record's
 * selected fields. Salesforce signs nothing: a message is taken as the org's when its OrganizationId
 * is the configured one (an org id is no secret; the documented protections are TLS with
 * Salesforce's client certificate and its IP ranges, at the proxy in front of the receiver), and all
 * a forged one can do is make Tenantwatch read a file again. ContentVersion and ContentDocument
 * notifications name the file (`ContentDocumentId`, or the document's own id). The delivery id is
 * the digest of the notification ids, which Salesforce keeps on its retries.
 */
export function verifyOutboundMessage(
  organizationId: string | undefined,
  delivery: WebhookDelivery,
  now: Date = new Date(),
): VerifiedWebhook {
  if (!organizationId) throw new WebhookRejectedError('the instance has no organizationId configured: outbound messages cannot be checked');
  if (delivery.rawBody.length === 0) throw new WebhookRejectedError('the body is empty');
  const xml = delivery.rawBody.toString('utf8');
  if (!/<(?:[A-Za-z0-9_]+:)?notifications[\s>]/.test(xml))
    throw new WebhookRejectedError('the body is not an outbound message (no notifications element)');
  const org = element(xml, 'OrganizationId');
  if (!org || short(org) !== short(organizationId)) throw new WebhookRejectedError('the outbound message is from another org');
  const entries = notifications(xml);
  if (entries.length === 0) throw new WebhookRejectedError('the outbound message holds no notification');
  const ids: string[] = [];
  const files = new Set<string>();
  for (const entry of entries) {
    const id = element(entry, 'Id');
    if (!id) throw new WebhookRejectedError('a notification has no Id');
    ids.push(id);
    const sobject = /<(?:[A-Za-z0-9_]+:)?sObject(?:\s[^>]*)?>([\s\S]*?)<\/(?:[A-Za-z0-9_]+:)?sObject>/.exec(entry)?.[1] ?? '';
    const document = element(sobject, 'ContentDocumentId') ?? (element(sobject, 'Id')?.startsWith('069') ? element(sobject, 'Id') : null);
    if (document && /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(document)) files.add(document);
  }
  const notices: WebhookNotice[] = [...files].map((externalId) => ({ kind: 'file.changed', externalId }));
  return {
    deliveryId: `om:${createHash('sha256').update(ids.sort().join(',')).digest('hex')}`,
    expiresAt: new Date(now.getTime() + RETRIES_FOR_MS),
    notices,
    reply: { contentType: 'text/xml; charset=utf-8', body: OUTBOUND_ACK },
  };
}

/** The acknowledgement Salesforce waits for, without which it sends the message again (the WSDL's notificationsResponse). */
export const OUTBOUND_ACK =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>';
