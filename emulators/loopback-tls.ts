import { generate } from 'selfsigned';

/** A key and a self-signed certificate for 127.0.0.1 and localhost: what an emulator serves HTTPS with, and what its client trusts. */
export interface LoopbackTls {
  readonly key: string;
  readonly cert: string;
}

/**
 * Makes a fresh P-256 key and a self-signed certificate for 127.0.0.1, ::1 and localhost, valid for a
 * day (made at every start: nothing to keep, nothing committed). Its client trusts the certificate
 * itself (CONNECTOR_CA_FILE, or a test's dispatcher).
 */
export async function loopbackTls(): Promise<LoopbackTls> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 24 * 3_600_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
