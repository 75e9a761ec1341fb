import { randomBytes } from 'node:crypto';
import { checksumSuffix } from './ids.js';
import type { Row } from './store.js';

/**
 * Outbound messages (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_understanding.htm):
 * a SOAP `notifications` message per new ContentVersion to the endpoint URL, sent again with growing
 * intervals (at most 2 hours apart) until the endpoint answers a `notificationsResponse` with Ack true,
 * for 24 hours. The message follows the outbound message WSDL
 * (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_wsdl.htm).
 */

export interface Delivery {
  readonly notificationId: string;
  readonly versionId: string;
  readonly documentId: string;
  readonly url: string;
  attempts: number;
  acked: boolean;
  readonly firstAt: number;
}

const MAX_INTERVAL_MS = 2 * 3_600_000;
const GIVE_UP_MS = 24 * 3_600_000;
const ACK = /<(?:\w+:)?Ack>\s*true\s*<\/(?:\w+:)?Ack>/i;

const sfId = (prefix: string) => {
  const id15 = `${prefix}${randomBytes(9).toString('base64url').replace(/[-_]/g, '0').slice(0, 12)}`;
  return id15 + checksumSuffix(id15);
};
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export class OutboundMessages {
  readonly deliveries: Delivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly actionId = sfId('04k');
  private stopped = false;

  constructor(
    private readonly organizationId: string,
    private readonly instanceUrl: string,
    private readonly retryMs: () => number,
    private readonly clock: () => number,
  ) {}

  envelope(delivery: Delivery): string {
    const org = this.organizationId;
    return [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
      '<soapenv:Body>',
      '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">',
      `<OrganizationId>${org}</OrganizationId>`,
      `<ActionId>${this.actionId}</ActionId>`,
      '<SessionId xsi:nil="true"/>',
      `<EnterpriseUrl>${escape(`${this.instanceUrl}/services/Soap/c/62.0/${org.slice(0, 15)}`)}</EnterpriseUrl>`,
      `<PartnerUrl>${escape(`${this.instanceUrl}/services/Soap/u/62.0/${org.slice(0, 15)}`)}</PartnerUrl>`,
      '<Notification>',
      `<Id>${delivery.notificationId}</Id>`,
      '<sObject xsi:type="sf:ContentVersion" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">',
      `<sf:Id>${delivery.versionId}</sf:Id>`,
      `<sf:ContentDocumentId>${delivery.documentId}</sf:ContentDocumentId>`,
      '</sObject>',
      '</Notification>',
      '</notifications>',
      '</soapenv:Body>',
      '</soapenv:Envelope>',
    ].join('');
  }

  /** Queues the message for a new ContentVersion to `url`. */
  send(url: string, version: Row): void {
    const delivery: Delivery = {
      notificationId: sfId('04l'),
      versionId: version.Id,
      documentId: String(version.ContentDocumentId),
      url,
      attempts: 0,
      acked: false,
      firstAt: this.clock(),
    };
    this.deliveries.push(delivery);
    void this.attempt(delivery);
  }

  private async attempt(delivery: Delivery): Promise<void> {
    if (this.stopped) return;
    delivery.attempts++;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' },
        body: this.envelope(delivery),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      if (response.ok && ACK.test(text)) {
        delivery.acked = true;
        return;
      }
    } catch {
      // Not delivered: try again later.
    }
    if (this.stopped || this.clock() - delivery.firstAt > GIVE_UP_MS) return;
    const wait = Math.min(MAX_INTERVAL_MS, this.retryMs() * 2 ** (delivery.attempts - 1));
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(delivery);
    }, wait);
    timer.unref();
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
