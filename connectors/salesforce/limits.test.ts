import { describe, expect, it } from 'vitest';
import { apiUsageOf, parseSalesforceThrottle } from './limits.js';
import { OUTBOUND_ACK, verifyOutboundMessage } from './outbound-message.js';

const head = (status: number, headers: Record<string, string> = {}, body?: unknown) => ({
  status,
  headers: new Headers(headers),
  ...(body !== undefined ? { bytes: Buffer.from(JSON.stringify(body)) } : {}),
});

describe('Salesforce’s limit signals', () => {
  it('reads the daily quota from Sforce-Limit-Info on every answer', () => {
    expect(apiUsageOf('api-usage=18/15000')).toEqual({ used: 18, limit: 15000 });
    expect(apiUsageOf('per-app-api-usage=17/250(appName=sample-app), api-usage=25/5000')).toEqual({ used: 25, limit: 5000 });
    expect(apiUsageOf('per-app-api-usage=17/250(appName=x)')).toBeUndefined();
    expect(apiUsageOf(null)).toBeUndefined();
    expect(parseSalesforceThrottle(head(200, { 'Sforce-Limit-Info': 'api-usage=120/15000' }), 15000)).toEqual({
      throttled: false,
      daily: { used: 120, limit: 15000 },
    });
  });

  it('sees a spent daily quota in a 403 REQUEST_LIMIT_EXCEEDED body: used = limit, which pauses the instance', () => {
    const spent = [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }];
    expect(parseSalesforceThrottle(head(403, { 'Sforce-Limit-Info': 'api-usage=5003/5000' }, spent), 15000)).toEqual({
      throttled: true,
      retryAfterMs: 60_000,
      daily: { used: 5003, limit: 5000 },
    });
    // Without the header, the limit last known.
    expect(parseSalesforceThrottle(head(403, {}, spent), 7000).daily).toEqual({ used: 7000, limit: 7000 });
  });

  it('waits a few seconds on the concurrent request limit, and leaves other 403s to the client', () => {
    const concurrent = [{ message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }];
    expect(parseSalesforceThrottle(head(403, {}, concurrent), 15000)).toEqual({ throttled: true, retryAfterMs: 5000 });
    // Its Sforce-Limit-Info is not a spent quota: a throttled signal with `daily` would pause the org for hours.
    expect(parseSalesforceThrottle(head(403, { 'Sforce-Limit-Info': 'api-usage=120/15000' }, concurrent), 15000)).toEqual({
      throttled: true,
      retryAfterMs: 5000,
    });
    expect(parseSalesforceThrottle(head(403, {}, [{ message: 'no', errorCode: 'INSUFFICIENT_ACCESS' }]), 15000).throttled).toBe(false);
    expect(parseSalesforceThrottle({ status: 403, headers: new Headers(), bytes: Buffer.from('<html>') }, 15000).throttled).toBe(false);
    expect(parseSalesforceThrottle(head(429, { 'Retry-After': '3' }), 15000)).toEqual({ throttled: true, retryAfterMs: 3000 });
    expect(parseSalesforceThrottle(head(503), 15000).throttled).toBe(false);
  });
});

const ORG = '00D000000000001AAA';
const message = (org: string, notifications: string) =>
  Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>${org}</OrganizationId>
   <ActionId>04k000000000001AAA</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/${org.slice(0, 15)}</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/${org.slice(0, 15)}</PartnerUrl>
   ${notifications}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`);
const notification = (id: string, document: string) =>
  `<Notification><Id>${id}</Id><sObject xsi:type="sf:ContentVersion" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>068000000000001AAA</sf:Id><sf:ContentDocumentId>${document}</sf:ContentDocumentId></sObject></Notification>`;

describe('Salesforce outbound messages', () => {
  it('names the changed files of the configured org, with a delivery id that Salesforce’s retries repeat', () => {
    const now = new Date('2026-12-05T10:00:00Z');
    const body = message(
      ORG,
      notification('04l000000000001AAA', '069000000000001AAA') + notification('04l000000000002AAA', '069000000000002AAA'),
    );
    const verified = verifyOutboundMessage(ORG.slice(0, 15), { headers: new Headers(), rawBody: body }, now);
    expect(verified.notices).toEqual([
      { kind: 'file.changed', externalId: '069000000000001AAA' },
      { kind: 'file.changed', externalId: '069000000000002AAA' },
    ]);
    expect(verified.expiresAt.toISOString()).toBe('2026-12-06T10:00:00.000Z');
    expect(verifyOutboundMessage(ORG, { headers: new Headers(), rawBody: body }).deliveryId).toBe(verified.deliveryId);
    expect(verified.reply).toEqual({ contentType: 'text/xml; charset=utf-8', body: OUTBOUND_ACK });
    expect(OUTBOUND_ACK).toContain('<Ack>true</Ack>');
  });

  it('refuses another org’s message, a body that is none, and an instance without an organizationId', () => {
    const body = message('00D000000000009AAA', notification('04l000000000001AAA', '069000000000001AAA'));
    expect(() => verifyOutboundMessage(ORG, { headers: new Headers(), rawBody: body })).toThrow(/another org/);
    expect(() => verifyOutboundMessage(ORG, { headers: new Headers(), rawBody: Buffer.from('{"x":1}') })).toThrow(
      /not an outbound message/,
    );
    expect(() => verifyOutboundMessage(ORG, { headers: new Headers(), rawBody: message(ORG, '') })).toThrow(/no notification/);
    expect(() => verifyOutboundMessage(undefined, { headers: new Headers(), rawBody: body })).toThrow(/no organizationId/);
  });
});
