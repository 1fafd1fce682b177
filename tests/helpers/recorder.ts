/**
 * A recording receiver for outbox tests: plain `node:http` on 127.0.0.1. It serves minimal
 * Person actors (`/users/<name>`) whose inbox may point anywhere (another recorder, a
 * closed port), records every POSTed activity with its id, type and arrival time, and
 * answers each user's inbox as told: a status, after a delay, or never (a timeout).
 * It does not check signatures; it records whether the request carried one.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedActivity {
  id: string;
  type: string;
  /** The activity's object id, or the nested object's id (an Undo's Follow). */
  object: string | null;
  /** The inbox path it was POSTed to. */
  path: string;
  signed: boolean;
  /** When the request arrived and when it was answered (ms since epoch). */
  receivedAt: number;
  answeredAt: number | null;
  status: number | null;
}

export type InboxBehaviour = { status: number; delayMs?: number } | { hang: true };

export interface Recorder {
  readonly origin: string;
  readonly port: number;
  readonly received: readonly RecordedActivity[];
  actorUrl(name: string): string;
  inboxUrl(name: string): string;
  /** Where `name`'s actor document says its inbox is (default: here). */
  setInbox(name: string, url: string): void;
  behave(name: string, behaviour: InboxBehaviour): void;
  /** Activities received for `name`'s inbox, in arrival order. */
  inbox(name: string): RecordedActivity[];
  /** Stops listening (connections refused) and later listens again on the same port. */
  goDown(): Promise<void>;
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

export async function startRecorder(options: { port?: number } = {}): Promise<Recorder> {
  const received: RecordedActivity[] = [];
  const inboxes = new Map<string, string>();
  const behaviours = new Map<string, InboxBehaviour>();
  let origin = "";
  let server: http.Server;

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", origin);
    const actor = /^\/users\/([^/]+)$/.exec(url.pathname);
    if (req.method === "GET" && actor) {
      const name = actor[1]!;
      res.writeHead(200, { "content-type": "application/activity+json" });
      res.end(
        JSON.stringify({
          "@context": "https://www.w3.org/ns/activitystreams",
          id: `${origin}/users/${name}`,
          type: "Person",
          preferredUsername: name,
          inbox: inboxes.get(name) ?? `${origin}/users/${name}/inbox`,
        }),
      );
      return;
    }
    const inbox = /^\/users\/([^/]+)\/inbox$/.exec(url.pathname);
    if (req.method === "POST" && inbox) {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        let body: { id?: string; type?: string; object?: unknown } = {};
        try {
          body = JSON.parse(raw);
        } catch {
          // recorded with an empty id
        }
        const object = typeof body.object === "string" ? body.object : ((body.object as { id?: string } | undefined)?.id ?? null);
        const entry: RecordedActivity = {
          id: body.id ?? "",
          type: body.type ?? "",
          object,
          path: url.pathname,
          signed: req.headers["signature"] !== undefined || req.headers["signature-input"] !== undefined,
          receivedAt: Date.now(),
          answeredAt: null,
          status: null,
        };
        received.push(entry);
        const behaviour = behaviours.get(inbox[1]!) ?? { status: 202 };
        if ("hang" in behaviour) return;
        setTimeout(() => {
          entry.answeredAt = Date.now();
          entry.status = behaviour.status;
          if (!res.writableEnded) res.writeHead(behaviour.status).end();
        }, behaviour.delayMs ?? 0);
      });
      return;
    }
    res.writeHead(404).end();
  };

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = http.createServer(handler);
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });

  const port = await listen(options.port ?? 0);
  origin = `http://127.0.0.1:${port}`;
  let up = true;
  return {
    origin,
    port,
    received,
    actorUrl: (name) => `${origin}/users/${name}`,
    inboxUrl: (name) => `${origin}/users/${name}/inbox`,
    setInbox: (name, url) => void inboxes.set(name, url),
    behave: (name, behaviour) => void behaviours.set(name, behaviour),
    inbox: (name) => received.filter((r) => r.path === `/users/${name}/inbox`),
    async goDown() {
      if (!up) return;
      up = false;
      await stop();
    },
    async comeBack() {
      if (up) return;
      await listen(port);
      up = true;
    },
    async close() {
      if (up) await stop();
      up = false;
    },
  };
}
