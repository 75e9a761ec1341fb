// A minimal WebSocket client (RFC 6455) on a plain TCP socket, for the subscription benchmark's light
// subscribers: the benchmark measures the server, and on the same two cores as the server every
// microsecond a client spends per message is taken from it. `ws` costs ~6 µs a message on the
// client side (a stream write per chunk, a Buffer per message, UTF-8 validation, an event per
// message); here a chunk is read into one buffer shared by every socket of the thread (net's
// `onread`, no stream), its frames are found in place and each text message is handed on as a view
// of that buffer with the chunk's receipt time. Only what the benchmark's server sends is read:
// unmasked frames, text (fragmented or not), ping, pong and close; anything else fails the socket.
import crypto from 'node:crypto';
import net from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Every socket of a thread reads into this buffer; a callback consumes a chunk before the next read. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

export interface RawWebSocketHandlers {
  /** The upgrade was accepted with the requested subprotocol. */
  open(): void;
  /** A text message: `data[start, end)`, valid only during the call; `at` is when its chunk was read. */
  message(data: Buffer, start: number, end: number, at: number): void;
  /** The socket closed: the close frame's code and reason, or what went wrong. */
  closed(how: string): void;
}

export class RawWebSocket {
  private readonly socket: net.Socket;
  private readonly key = crypto.randomBytes(16).toString('base64');
  private upgraded = false;
  /** Bytes of an incomplete frame (or of the upgrade response) carried to the next chunk. */
  private pending: Buffer | null = null;
  /** Fragments of a text message whose last frame has not come yet. */
  private fragments: Buffer[] | null = null;
  private closeSent = false;
  private ended = false;

  constructor(
    url: string,
    private readonly protocol: string,
    private readonly handlers: RawWebSocketHandlers,
    private readonly now: () => number,
  ) {
    const { hostname, port, pathname, search, host } = new URL(url);
    this.socket = net.connect({
      host: hostname,
      port: Number(port),
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (length) => this.read(length) },
    });
    this.socket.once('connect', () =>
      this.socket.write(
        [
          `GET ${pathname}${search} HTTP/1.1`,
          `Host: ${host}`,
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Key: ${this.key}`,
          'Sec-WebSocket-Version: 13',
          `Sec-WebSocket-Protocol: ${protocol}`,
          '',
          '',
        ].join('\r\n'),
      ),
    );
    this.socket.on('error', (error) => this.end(`socket error: ${error.message}`));
    this.socket.on('close', () => this.end('socket closed without a close frame'));
  }

  /** Sends a text message (masked, as every client frame must be). */
  send(text: string): void {
    if (this.ended || this.closeSent) return;
    this.socket.write(frame(0x1, Buffer.from(text)));
  }

  /** Starts the closing handshake; `closed` is called when the server has answered and the socket ended. */
  close(code = 1000, reason = ''): void {
    if (this.ended) return;
    if (this.closeSent) return;
    this.closeSent = true;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.socket.write(frame(0x8, payload));
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private read(length: number): boolean {
    const at = this.now();
    let data = READ_BUFFER.subarray(0, length);
    if (this.pending) {
      data = Buffer.concat([this.pending, data]);
      this.pending = null;
    }
    try {
      const used = this.upgraded ? this.frames(data, at) : this.upgrade(data, at);
      if (used < data.length) this.pending = Buffer.from(data.subarray(used));
    } catch (error) {
      this.socket.destroy();
      this.end(`protocol error: ${(error as Error).message}`);
    }
    return true;
  }

  /** Reads the upgrade response; answers how many bytes it took (0 while it is incomplete). */
  private upgrade(data: Buffer, at: number): number {
    const headEnd = data.indexOf('\r\n\r\n');
    if (headEnd < 0) {
      if (data.length > 16_384) throw new Error('upgrade response headers over 16 KiB');
      return 0;
    }
    const [status = '', ...lines] = data.toString('latin1', 0, headEnd).split('\r\n');
    if (!/^HTTP\/1\.1 101 /.test(status)) throw new Error(`upgrade refused: ${status}`);
    const headers = new Map(
      lines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    const accept = crypto
      .createHash('sha1')
      .update(this.key + GUID)
      .digest('base64');
    if (headers.get('sec-websocket-accept') !== accept) throw new Error('upgrade answered with a wrong Sec-WebSocket-Accept');
    if (headers.get('sec-websocket-protocol') !== this.protocol)
      throw new Error(`upgrade answered with subprotocol ${headers.get('sec-websocket-protocol') ?? '(none)'}`);
    this.upgraded = true;
    this.handlers.open();
    const start = headEnd + 4;
    return start + this.frames(data.subarray(start), at);
  }

  /** Reads every complete frame of `data`; answers how many bytes they took. */
  private frames(data: Buffer, at: number): number {
    let offset = 0;
    while (data.length - offset >= 2) {
      const first = data[offset]!;
      const second = data[offset + 1]!;
      if (second & 0x80) throw new Error('the server sent a masked frame');
      if (first & 0x70) throw new Error('a frame with reserved bits set (no extension was negotiated)');
      let length = second & 0x7f;
      let start = offset + 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        start += 2;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        length = data.readUInt32BE(offset + 2) * 2 ** 32 + data.readUInt32BE(offset + 6);
        start += 8;
      }
      const end = start + length;
      if (end > data.length) break;
      this.frame(first & 0x80, first & 0x0f, data, start, end, at);
      offset = end;
    }
    return offset;
  }

  private frame(fin: number, opcode: number, data: Buffer, start: number, end: number, at: number): void {
    switch (opcode) {
      case 0x1:
        if (this.fragments) throw new Error('a text frame inside a fragmented message');
        if (fin) this.handlers.message(data, start, end, at);
        else this.fragments = [Buffer.from(data.subarray(start, end))];
        return;
      case 0x0: {
        if (!this.fragments) throw new Error('a continuation frame outside a fragmented message');
        this.fragments.push(Buffer.from(data.subarray(start, end)));
        if (!fin) return;
        const message = Buffer.concat(this.fragments);
        this.fragments = null;
        this.handlers.message(message, 0, message.length, at);
        return;
      }
      case 0x9:
        if (!this.closeSent) this.socket.write(frame(0xa, data.subarray(start, end)));
        return;
      case 0xa:
        return;
      case 0x8: {
        const code = end - start >= 2 ? data.readUInt16BE(start) : 1005;
        const reason = end - start > 2 ? data.toString('utf8', start + 2, end) : '';
        if (!this.closeSent) {
          this.closeSent = true;
          this.socket.write(frame(0x8, data.subarray(start, Math.min(end, start + 2))));
        }
        this.socket.end();
        this.end(`close ${code}${reason ? ` "${reason}"` : ''}`);
        return;
      }
      default:
        throw new Error(`a frame with opcode ${opcode}`);
    }
  }

  private end(how: string): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.closed(how);
  }
}

/** A masked client frame (RFC 6455, 5.2-5.3), FIN set. */
function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const out = Buffer.allocUnsafe(2 + lengthBytes + 4 + length);
  out[0] = 0x80 | opcode;
  if (lengthBytes === 0) out[1] = 0x80 | length;
  else if (lengthBytes === 2) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    out.writeUInt32BE(length >>> 0, 6);
  }
  const maskAt = 2 + lengthBytes;
  crypto.randomFillSync(out, maskAt, 4);
  for (let i = 0; i < length; i++) out[maskAt + 4 + i] = payload[i]! ^ out[maskAt + (i & 3)]!;
  return out;
}
