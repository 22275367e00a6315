import { lookup } from "node:dns/promises";
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import { connect as connectSocket, isIP } from "node:net";
import { status } from "@grpc/grpc-js";

/**
 * The client half of gRPC over HTTP/2 (unary and server-streaming calls), on node:http2 alone.
 *
 * Every call between processes goes through it: the edge to the services, the services to each
 * other, the audit relay to the user service. It replaces grpc-js's client, which spent about
 * twice the CPU per call (147 against 79 µs a call in a loop on the development VM, and its
 * call objects were most of what the edge promoted to its old generation). The servers stay on
 * grpc-js. docs/decisions explains the choice; what a client must do is all here:
 *
 * - **Names.** `dns:///host:port` (or `host:port`) is resolved to every address DNS returns
 *   (Cloud Map answers one per task) and calls go round robin over the connected ones. DNS is
 *   asked again when a connection ends, never on a timer: servers close connections after an age
 *   (CONNECTION_AGE in server.ts), so new tasks get traffic within that age.
 * - **Connections.** One HTTP/2 connection per address, opened to every address as soon as the
 *   channel is used. A connection that cannot be opened is tried again after a backoff (1 s,
 *   ×1.6, up to 30 s, jittered). While no address is connected, calls wait for the first one to
 *   connect; while every address is backing off, calls fail at once with UNAVAILABLE (grpc-js's
 *   "fail fast").
 * - **GOAWAY.** A connection that receives GOAWAY takes no new calls; its calls in flight finish
 *   on it. A call the server refused without seeing it (REFUSED_STREAM, or a connection that was
 *   going away when the call was sent) is sent again once, on another connection, whatever the
 *   method: the server never ran it.
 * - **Deadlines and cancellation.** The deadline travels as `grpc-timeout` and is also enforced
 *   here; a call past it, or cancelled, is reset (RST_STREAM CANCEL) so the server's handler sees
 *   its signal abort. A call past its deadline also sends its connection a PING: a connection
 *   that does not answer within 5 s is closed (a peer that vanished without closing it would
 *   otherwise keep taking calls until TCP gave up, many minutes later).
 * - **Status.** From the trailers, or the headers of a trailers-only answer; `grpc-message` is
 *   percent-decoded, `grpc-status-details-bin` handed on as bytes. An answer without a status is
 *   mapped from its HTTP status or reset code as the gRPC spec says.
 *
 * Not supported, because nothing here needs them: TLS, compression (requests are sent
 * uncompressed and the servers do not compress), client or bidi streaming, pings on idle connections.
 */

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** Finds the addresses behind a name; resolveByDns unless a test stands in. */
export type Resolve = (host: string, port: number) => Promise<readonly Address[]>;

/** Every A and AAAA record of the name (an IP address resolves to itself). */
export const resolveByDns: Resolve = async (host, port) =>
  isIP(host) ? [{ host, port }] : (await lookup(host, { all: true })).map((a) => ({ host: a.address, port }));

/** How a call ended when it did not end well: a gRPC status code, its message and its details. */
export class CallFailure extends Error {
  constructor(
    readonly code: status,
    message: string,
    /** `grpc-status-details-bin`: a google.rpc.Status, when the server sent one. */
    readonly details?: Buffer,
  ) {
    super(message);
  }
}

export interface CallSpec {
  /** Request metadata: lower-case names, printable ASCII values. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Epoch ms; Infinity for none. */
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
  readonly cancelWith?: ((cancel: () => void) => void) | undefined;
}

/** What servers see as this client's user-agent. */
export const USER_AGENT = "inventory-platform-grpc/1";
/** The largest response message taken, as grpc-js's default. */
export const MAX_RECEIVE_BYTES = 4 * 1024 * 1024;
const BACKOFF = { initialMs: 1_000, multiplier: 1.6, maxMs: 30_000, jitter: 0.2 } as const;
const CONNECT_TIMEOUT_MS = 20_000;
const PING_TIMEOUT_MS = 5_000;
/** The least time between two DNS lookups of one channel. */
const MIN_RESOLVE_INTERVAL_MS = 1_000;
const HEADER_BYTES = 5;

/** "dns:///host:port", "dns://resolver/host:port" or "host:port" (port 443 when none, as gRPC's default). */
export function parseTarget(target: string): Address {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target)?.[1];
  if (scheme && scheme !== "dns" && target.startsWith(`${scheme}://`)) throw new Error(`gRPC target ${target}: only dns:/// targets are supported`);
  const rest = target.replace(/^dns:\/\/[^/]*\//, "");
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 443) };
  const colon = rest.lastIndexOf(":");
  if (colon < 0) return { host: rest, port: 443 };
  const port = Number(rest.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) throw new Error(`gRPC target ${target}: "${rest.slice(colon + 1)}" is no port`);
  return { host: rest.slice(0, colon), port };
}

const hostPort = ({ host, port }: Address) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

/** One HTTP/2 connection and the calls open on it: the session keeps the process alive only while it has some. */
class Connection {
  private active = 0;
  private probing = false;
  constructor(
    readonly session: ClientHttp2Session,
    private readonly pingTimeoutMs: number,
  ) {}

  /**
   * Asks the peer for a PING (after a call on this connection ran out of time): a peer that does
   * not answer within pingTimeoutMs is taken for gone (a task that died without closing its
   * connections, a network that drops everything) and the connection is closed, so its calls fail
   * UNAVAILABLE and new ones go elsewhere, instead of each waiting out its deadline on it.
   */
  probe() {
    if (this.probing || this.session.destroyed || this.session.closed) return;
    this.probing = true;
    const timer = setTimeout(() => this.session.destroy(new Error(`no answer to a PING within ${this.pingTimeoutMs} ms`)), this.pingTimeoutMs);
    timer.unref();
    const sent = this.session.ping(() => {
      clearTimeout(timer);
      this.probing = false;
    });
    if (!sent) {
      clearTimeout(timer);
      this.probing = false;
    }
  }

  open(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const stream = this.session.request(headers);
    if (this.active++ === 0) this.session.ref();
    return stream;
  }

  done() {
    if (--this.active === 0) this.session.unref();
  }
}

/** The connection to one address, reopened as needed. */
class Subchannel {
  /** Set while the connection takes new calls. */
  connection: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  private retryAt = 0;
  private backoffMs: number = BACKOFF.initialMs;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastError = "";
  private closed = false;

  constructor(
    readonly address: Address,
    private readonly authority: string,
    /** Told when a connection ends or fails: the channel asks DNS again and reconnects. */
    private readonly ended: (subchannel: Subchannel, failed: boolean) => void,
    private readonly pingTimeoutMs: number,
  ) {}

  get backingOff() {
    return Date.now() < this.retryAt;
  }

  connect(): Promise<Connection> {
    if (this.connection) return Promise.resolve(this.connection);
    if (this.connecting) return this.connecting;
    if (this.closed || this.backingOff) return Promise.reject(this.unavailable());
    this.connecting = new Promise((resolve, reject) => {
      const session = connect(`http://${this.authority}`, {
        createConnection: () => connectSocket({ host: this.address.host, port: this.address.port, noDelay: true }),
        settings: { enablePush: false },
        // As grpc-js: node's default limit (10 MB of buffered frames per session) stalls busy connections.
        maxSessionMemory: Number.MAX_SAFE_INTEGER,
      });
      session.unref();
      const timeout = setTimeout(() => session.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      timeout.unref();
      let connection: Connection | undefined;
      let spokeHttp2 = false;
      session.once("remoteSettings", () => {
        spokeHttp2 = true;
      });
      session.once("connect", () => {
        clearTimeout(timeout);
        this.connecting = undefined;
        this.backoffMs = BACKOFF.initialMs;
        this.retryAt = 0;
        if (this.closed) {
          session.close();
          reject(this.unavailable());
          return;
        }
        connection = new Connection(session, this.pingTimeoutMs);
        this.connection = connection;
        resolve(connection);
      });
      session.on("error", (err) => {
        this.lastError = err.message;
      });
      // After GOAWAY node closes the session once its streams are done; no new call goes on it.
      session.once("goaway", () => this.retire(connection));
      session.once("close", () => {
        clearTimeout(timeout);
        if (connection) return this.retire(connection, !spokeHttp2);
        this.connecting = undefined;
        this.backOff();
        reject(this.unavailable());
        this.ended(this, true);
      });
    });
    return this.connecting;
  }

  /**
   * No new calls on this connection (it is going away, or refused a call). `failed`: it ended
   * before the peer said a word of HTTP/2 (something at that address accepts connections but
   * speaks no HTTP/2): that counts as a failed attempt, backed off, not reconnected in a loop.
   */
  retire(connection: Connection | undefined, failed = false) {
    if (!connection || this.connection !== connection) return;
    this.connection = undefined;
    if (failed) this.backOff();
    this.ended(this, failed);
  }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.connection?.session.close();
    this.connection = undefined;
  }

  private backOff() {
    const jitter = 1 + BACKOFF.jitter * (Math.random() * 2 - 1);
    this.retryAt = Date.now() + this.backoffMs * jitter;
    this.backoffMs = Math.min(this.backoffMs * BACKOFF.multiplier, BACKOFF.maxMs);
  }

  /** Tries again once the backoff is over (for a channel in use). */
  reconnectLater() {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        if (!this.closed && !this.connection) this.connect().catch(() => {});
      },
      Math.max(0, this.retryAt - Date.now()),
    );
    this.retryTimer.unref();
  }

  private unavailable() {
    const why = this.closed ? "the channel is closed" : this.lastError || "the connection closed";
    return new CallFailure(status.UNAVAILABLE, `cannot reach ${hostPort(this.address)}: ${why}`);
  }
}

export interface TransportOptions {
  /** How the target's name becomes addresses (resolveByDns). */
  resolve?: Resolve | undefined;
  /** How long a connection whose call ran out of time has to answer a PING (5 s). */
  pingTimeoutMs?: number | undefined;
}

/** Calls to one target, spread round robin over its addresses (see above). */
export class Http2Transport {
  private readonly name: Address;
  private readonly authority: string;
  private subchannels: Subchannel[] = [];
  private next = 0;
  private resolving: Promise<void> | undefined;
  private resolvedAt = Number.NEGATIVE_INFINITY;
  private resolveError: string | undefined;
  private resolveTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private readonly resolve: Resolve;
  private readonly pingTimeoutMs: number;

  constructor(target: string, opts: TransportOptions = {}) {
    this.resolve = opts.resolve ?? resolveByDns;
    this.pingTimeoutMs = opts.pingTimeoutMs ?? PING_TIMEOUT_MS;
    this.name = parseTarget(target);
    this.authority = hostPort(this.name);
  }

  /** A unary call: the response message's bytes, or a CallFailure. */
  unary(path: string, request: Uint8Array, spec: CallSpec): Promise<Buffer> {
    return new Promise((resolve, reject) => new UnaryCall(this, this.headers(path, spec), frame(request), spec, resolve, reject).start());
  }

  /** A server-streaming call: each response message's bytes, then a CallFailure if it did not end OK. */
  async *serverStream(path: string, request: Uint8Array, spec: CallSpec): AsyncGenerator<Buffer> {
    const call = new StreamCall(this, this.headers(path, spec), frame(request), spec);
    try {
      yield* call.messages();
    } finally {
      call.cancel(status.CANCELLED, "the caller stopped reading");
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.resolveTimer);
    for (const s of this.subchannels) s.close();
    this.subchannels = [];
  }

  /** A connection for a new call: the next connected one round robin, else the first to connect. */
  connection(): Connection | Promise<Connection> {
    const n = this.subchannels.length;
    for (let i = 0; i < n; i++) {
      const subchannel = this.subchannels[(this.next + i) % n]!;
      if (subchannel.connection) {
        this.next = (this.next + i + 1) % n;
        return subchannel.connection;
      }
    }
    return this.connectAny();
  }

  /** The connection will not take the call it was given: find another. */
  retire(connection: Connection) {
    for (const s of this.subchannels) s.retire(connection);
  }

  private async connectAny(): Promise<Connection> {
    if (this.closed) throw new CallFailure(status.UNAVAILABLE, `the channel to ${this.authority} is closed`);
    // A name that did not resolve a moment ago fails at once: every call does not ask DNS again.
    const recentlyFailed = this.resolveError !== undefined && Date.now() - this.resolvedAt < MIN_RESOLVE_INTERVAL_MS;
    if (this.subchannels.length === 0 && !recentlyFailed) await this.refresh();
    if (this.subchannels.length === 0) throw new CallFailure(status.UNAVAILABLE, `cannot resolve ${this.name.host}: ${this.resolveError ?? "no address"}`);
    try {
      return await Promise.any(this.subchannels.map((s) => s.connect()));
    } catch (err) {
      throw (err as AggregateError).errors?.[0] ?? err;
    }
  }

  private headers(path: string, spec: CallSpec): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = { ...spec.metadata };
    headers[constants.HTTP2_HEADER_METHOD] = "POST";
    headers[constants.HTTP2_HEADER_PATH] = path;
    headers[constants.HTTP2_HEADER_CONTENT_TYPE] = "application/grpc";
    headers[constants.HTTP2_HEADER_TE] = "trailers";
    headers[constants.HTTP2_HEADER_USER_AGENT] = USER_AGENT;
    return headers;
  }

  /** Asks DNS (once at a time), and opens connections to new addresses and closes those to gone ones. */
  private refresh(): Promise<void> {
    this.resolving ??= this.resolve(this.name.host, this.name.port)
      .then(
        (addresses) => {
          this.resolveError = addresses.length === 0 ? "no address" : undefined;
          if (!this.closed && addresses.length > 0) this.update(addresses);
        },
        (err: unknown) => {
          this.resolveError = err instanceof Error ? err.message : String(err);
        },
      )
      .finally(() => {
        this.resolving = undefined;
        this.resolvedAt = Date.now();
      });
    return this.resolving;
  }

  private update(addresses: readonly Address[]) {
    const known = new Map(this.subchannels.map((s) => [hostPort(s.address), s]));
    this.subchannels = [...new Map(addresses.map((a) => [hostPort(a), a])).entries()].map(([key, address]) => {
      const subchannel = known.get(key) ?? new Subchannel(address, this.authority, (s, failed) => this.ended(s, failed), this.pingTimeoutMs);
      known.delete(key);
      return subchannel;
    });
    for (const gone of known.values()) gone.close();
    this.next = 0;
    // round robin: every address gets a connection, not only the first to answer.
    for (const s of this.subchannels) if (!s.connection && !s.backingOff) s.connect().catch(() => {});
  }

  /** A connection ended (or could not be made): reconnect, and ask DNS again, at most once a second. */
  private ended(subchannel: Subchannel, failed: boolean) {
    if (this.closed) return;
    if (failed) subchannel.reconnectLater();
    else subchannel.connect().catch(() => {});
    if (this.resolveTimer || this.resolving) return;
    this.resolveTimer = setTimeout(
      () => {
        this.resolveTimer = undefined;
        if (!this.closed) void this.refresh();
      },
      Math.max(0, this.resolvedAt + MIN_RESOLVE_INTERVAL_MS - Date.now()),
    );
    this.resolveTimer.unref();
  }
}

/** The five-byte gRPC frame header, then the message. */
function frame(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(HEADER_BYTES + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, HEADER_BYTES);
  return framed;
}

/** `grpc-timeout`: at most eight digits, in milliseconds while they fit, else seconds. */
function grpcTimeout(ms: number): string {
  const rounded = Math.max(1, Math.ceil(ms));
  return rounded < 1e8 ? `${rounded}m` : `${Math.min(99_999_999, Math.ceil(rounded / 1000))}S`;
}

interface Outcome {
  code: status;
  message: string;
  details?: Buffer | undefined;
}

/** The status of an answer that carries one (trailers, or the headers of a trailers-only answer). */
function statusOf(headers: IncomingHttpHeaders): Outcome | undefined {
  const raw = headers["grpc-status"];
  if (raw === undefined) return undefined;
  const code = Number(raw);
  const details = headers["grpc-status-details-bin"];
  return {
    code: Number.isInteger(code) && code >= 0 && code <= 16 ? code : status.UNKNOWN,
    message: percentDecoded(String(headers["grpc-message"] ?? "")),
    details: typeof details === "string" ? Buffer.from(details, "base64") : undefined,
  };
}

function percentDecoded(message: string): string {
  if (!message.includes("%")) return message;
  try {
    return decodeURIComponent(message);
  } catch {
    return message;
  }
}

/** The gRPC code of a non-gRPC answer's HTTP status, as the gRPC spec maps them (UNKNOWN for any other). */
const HTTP_STATUS_CODES: Readonly<Record<number, status>> = {
  400: status.INTERNAL,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.UNIMPLEMENTED,
  429: status.UNAVAILABLE,
  502: status.UNAVAILABLE,
  503: status.UNAVAILABLE,
  504: status.UNAVAILABLE,
};

const httpStatusOutcome = (httpStatus: number): Outcome => ({
  code: HTTP_STATUS_CODES[httpStatus] ?? status.UNKNOWN,
  message: `the server answered HTTP ${httpStatus}, not gRPC`,
});

/**
 * How a stream that ended without a status ended, as grpc-js maps reset codes. A stream whose
 * connection went away is UNAVAILABLE whatever node set as its code (it sets CANCEL).
 */
function resetOutcome(stream: ClientHttp2Stream, error: Error | undefined, connection: Connection | undefined): Outcome {
  if (connection && (connection.session.destroyed || connection.session.closed))
    return { code: status.UNAVAILABLE, message: `the connection ended before the answer did${error ? `: ${error.message}` : ""}` };
  switch (stream.rstCode) {
    case constants.NGHTTP2_REFUSED_STREAM:
      return { code: status.UNAVAILABLE, message: "the server refused the call (REFUSED_STREAM)" };
    case constants.NGHTTP2_CANCEL:
      return { code: status.CANCELLED, message: "the server cancelled the call" };
    case constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return { code: status.RESOURCE_EXHAUSTED, message: "the server is overloaded (ENHANCE_YOUR_CALM)" };
    case constants.NGHTTP2_INADEQUATE_SECURITY:
      return { code: status.PERMISSION_DENIED, message: "the connection's security is inadequate" };
    case undefined:
    case constants.NGHTTP2_NO_ERROR:
      return { code: status.UNAVAILABLE, message: `the connection ended before the answer did${error ? `: ${error.message}` : ""}` };
    default:
      return { code: status.INTERNAL, message: `the call was reset with HTTP/2 code ${stream.rstCode}` };
  }
}

/** A call's life, shared by both kinds: deadline, cancellation, sending, and the answer's status. */
abstract class Call {
  protected stream: ClientHttp2Stream | undefined;
  protected connection: Connection | undefined;
  /** Set once the call's outcome is decided here (deadline, cancel, a bad frame) rather than by the server. */
  protected local: Outcome | undefined;
  protected outcome: Outcome | undefined;
  protected gotHeaders = false;
  private error: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private resent = false;
  private readonly onAbort = () => this.cancel(status.CANCELLED, "cancelled by the caller");

  constructor(
    private readonly transport: Http2Transport,
    private readonly headers: OutgoingHttpHeaders,
    private readonly request: Buffer,
    private readonly spec: CallSpec,
  ) {}

  start() {
    const { signal, deadline } = this.spec;
    if (signal?.aborted) return this.cancel(status.CANCELLED, "cancelled by the caller");
    if (deadline !== Number.POSITIVE_INFINITY) {
      const left = deadline - Date.now();
      if (left <= 0) return this.cancel(status.DEADLINE_EXCEEDED, "the deadline had passed before the call started");
      this.timer = setTimeout(() => this.cancel(status.DEADLINE_EXCEEDED, `deadline exceeded (${Math.round(left)} ms)`), left);
    }
    signal?.addEventListener("abort", this.onAbort, { once: true });
    this.spec.cancelWith?.(() => this.cancel(status.CANCELLED, "cancelled by the caller"));
    this.send();
  }

  /** Ends the call here with this outcome (unless it has one), resetting its stream. */
  cancel(code: status, message: string) {
    if (this.local || this.finished) return;
    this.local = { code, message };
    // No answer in time: is anyone still there?
    if (code === status.DEADLINE_EXCEEDED) this.connection?.probe();
    if (this.stream && !this.stream.closed) this.stream.close(constants.NGHTTP2_CANCEL);
    else if (!this.stream) this.settle();
  }

  protected abstract get finished(): boolean;
  protected abstract onData(chunk: Buffer): void;
  /** The call is over: local, outcome or neither (then the stream's reset code says why). */
  protected abstract onEnd(): void;

  protected settle() {
    clearTimeout(this.timer);
    this.spec.signal?.removeEventListener("abort", this.onAbort);
    this.onEnd();
  }

  /** The outcome once the stream has closed: ours, the server's, or the stream's end. */
  protected final(): Outcome {
    if (this.local) return this.local;
    if (this.outcome) return this.outcome;
    return this.stream ? resetOutcome(this.stream, this.error, this.connection) : { code: status.UNAVAILABLE, message: "the call was never sent" };
  }

  private send() {
    const connection = this.transport.connection();
    if (connection instanceof Connection) this.open(connection);
    else
      connection.then(
        (c) => this.open(c),
        (err: unknown) => {
          if (this.local) return;
          this.local = err instanceof CallFailure ? err : { code: status.UNAVAILABLE, message: String(err) };
          this.settle();
        },
      );
  }

  private open(connection: Connection) {
    if (this.local) return; // cancelled while connecting: already settled
    // The time left when the call is sent, not when it was made: it may have waited for a connection.
    if (this.spec.deadline !== Number.POSITIVE_INFINITY) this.headers["grpc-timeout"] = grpcTimeout(this.spec.deadline - Date.now());
    let stream: ClientHttp2Stream;
    try {
      stream = connection.open(this.headers);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code === "ERR_HTTP2_GOAWAY_SESSION" || code === "ERR_HTTP2_INVALID_SESSION") && !this.resent) {
        // The connection was going away as the call was made: the server never saw it.
        this.resent = true;
        this.transport.retire(connection);
        return this.send();
      }
      this.local = { code: status.INTERNAL, message: `cannot send the call: ${(err as Error).message}` };
      return this.settle();
    }
    this.stream = stream;
    this.connection = connection;
    stream.on("response", (headers) => {
      this.gotHeaders = true;
      const httpStatus = Number(headers[constants.HTTP2_HEADER_STATUS]);
      this.outcome = statusOf(headers) ?? (httpStatus === 200 ? undefined : httpStatusOutcome(httpStatus));
    });
    stream.on("trailers", (trailers) => {
      this.outcome ??= statusOf(trailers);
    });
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("error", (err) => {
      this.error = err;
    });
    stream.on("close", () => {
      connection.done();
      if (!this.local && !this.outcome && !this.gotHeaders && stream.rstCode === constants.NGHTTP2_REFUSED_STREAM && !this.resent) {
        this.resent = true;
        this.stream = undefined;
        this.transport.retire(connection);
        return this.send();
      }
      this.settle();
    });
    stream.end(this.request);
  }
}

/** One request, one answer. */
class UnaryCall extends Call {
  private chunks: Buffer[] = [];
  private received = 0;
  private done = false;

  constructor(
    transport: Http2Transport,
    headers: OutgoingHttpHeaders,
    request: Buffer,
    spec: CallSpec,
    private readonly resolve: (message: Buffer) => void,
    private readonly reject: (failure: CallFailure) => void,
  ) {
    super(transport, headers, request, spec);
  }

  protected get finished() {
    return this.done;
  }

  protected onData(chunk: Buffer) {
    this.received += chunk.length;
    if (this.received > MAX_RECEIVE_BYTES + HEADER_BYTES) return this.cancel(status.RESOURCE_EXHAUSTED, `the answer is larger than ${MAX_RECEIVE_BYTES} bytes`);
    this.chunks.push(chunk);
  }

  protected onEnd() {
    if (this.done) return;
    this.done = true;
    const outcome = this.final();
    if (outcome.code !== status.OK) return this.reject(new CallFailure(outcome.code, outcome.message, outcome.details));
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    if (body.length < HEADER_BYTES) return this.reject(new CallFailure(status.INTERNAL, "the server answered OK without a message"));
    if (body[0] !== 0) return this.reject(new CallFailure(status.INTERNAL, "the server sent a compressed message, which was not asked for"));
    const length = body.readUInt32BE(1);
    if (body.length !== HEADER_BYTES + length) return this.reject(new CallFailure(status.INTERNAL, "the server's answer is not one whole message"));
    this.resolve(body.subarray(HEADER_BYTES));
  }
}

/** One request, any number of answers, read as the caller asks for them (the stream's flow control holds the rest). */
class StreamCall extends Call {
  private pending: Buffer = Buffer.alloc(0);
  private readonly messagesReady: Buffer[] = [];
  private done = false;
  private wake: (() => void) | undefined;

  protected get finished() {
    return this.done;
  }

  async *messages(): AsyncGenerator<Buffer> {
    this.start();
    for (;;) {
      const next = this.messagesReady.shift();
      if (next) {
        if (this.messagesReady.length === 0) this.stream?.resume();
        yield next;
        continue;
      }
      if (this.done) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    const outcome = this.final();
    if (outcome.code !== status.OK) throw new CallFailure(outcome.code, outcome.message, outcome.details);
    if (this.pending.length > 0) throw new CallFailure(status.INTERNAL, "the server's stream ended inside a message");
  }

  protected onData(chunk: Buffer) {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER_BYTES) {
      if (this.pending[0] !== 0) return this.cancel(status.INTERNAL, "the server sent a compressed message, which was not asked for");
      const length = this.pending.readUInt32BE(1);
      if (length > MAX_RECEIVE_BYTES) return this.cancel(status.RESOURCE_EXHAUSTED, `a message is larger than ${MAX_RECEIVE_BYTES} bytes`);
      if (this.pending.length < HEADER_BYTES + length) break;
      this.messagesReady.push(this.pending.subarray(HEADER_BYTES, HEADER_BYTES + length));
      this.pending = this.pending.subarray(HEADER_BYTES + length);
    }
    // Backpressure: stop reading until the caller has taken what is here.
    if (this.messagesReady.length > 0) this.stream?.pause();
    this.wakeReader();
  }

  protected onEnd() {
    this.done = true;
    this.wakeReader();
  }

  private wakeReader() {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
