/** Request/reply as an application uses it. */
import type { CodecOption } from './codec.ts';

/** Answers one request. Throwing sends a RemoteError to the requester. */
export type RequestHandler<Req, Res> = (request: Req) => Res | Promise<Res>;

/** Options of `serve`. */
export interface ServeOptions<Req, Res> {
  /** Codec of requests and replies. Default `json`. */
  codec?: CodecOption<Req | Res>;
}

/** Options of `request`. */
export interface RequestOptions<Req, Res> {
  /** Default 5000. */
  timeoutMs?: number;
  codec?: CodecOption<Req | Res>;
}

/** Options of `gather`. */
export interface GatherOptions<Req, Res> {
  /** How long to collect replies, in ms. Default 1000. */
  timeoutMs?: number;
  /** Return as soon as this many replies arrived. */
  expected?: number;
  codec?: CodecOption<Req | Res>;
}

/** One reply of a gather. */
export type GatherReply<Res> =
  | { ok: true; data: Res }
  | { ok: false; error: Error };

/** A running server of a subject. */
export interface Server {
  readonly subject: string;
  close(): Promise<void>;
}
