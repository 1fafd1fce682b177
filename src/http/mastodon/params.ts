/**
 * Query parameters as Mastodon reads them, and its error bodies. Every refusal is
 * `{"error": "…"}` with Mastodon's status: 404 for an unknown or malformed id, 422 for a
 * parameter that cannot be read, 401 for what needs a signed-in user.
 */
export class MastodonError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "MastodonError";
    this.status = status;
  }
}

export const notFound = () => new MastodonError(404, "Record not found");
export const needsToken = () => new MastodonError(401, "The access token is invalid");
export const unprocessable = (message: string) => new MastodonError(422, message);

export type Query = Record<string, unknown>;

/** The one value of a parameter; a repeated parameter is refused (except where lists are expected). */
function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw unprocessable(`${name} must be given once`);
  return String(value);
}

/** `limit`: default, clamped to 1..max (however many digits); anything but an integer is refused. */
export function limitParam(query: Query, fallback: number, max: number): number {
  const raw = single(query, "limit");
  if (raw === undefined || raw === "") return fallback;
  if (!/^-?[0-9]+$/.test(raw)) throw unprocessable("limit must be a whole number");
  return Math.min(Math.max(Number(raw), 1), max);
}

/** An id bound (max_id, since_id, min_id): digits only. */
export function idParam(query: Query, name: string): string | undefined {
  const raw = single(query, name);
  if (raw === undefined || raw === "") return undefined;
  if (!/^[0-9]{1,19}$/.test(raw)) throw unprocessable(`${name} must be a numeric id`);
  return raw;
}

const TRUE = new Set(["true", "1", "t", "on", "yes"]);
const FALSE = new Set(["false", "0", "f", "off", "no"]);

/** A boolean as Rails reads it (true/1/t/on, false/0/f/off); anything else is refused. */
export function boolParam(query: Query, name: string): boolean {
  const raw = single(query, name);
  if (raw === undefined || raw === "") return false;
  const v = raw.toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw unprocessable(`${name} must be true or false`);
}

export function stringParam(query: Query, name: string): string | undefined {
  return single(query, name);
}

/** `id[]=1&id[]=2` (or `id=1&id=2`): a list of ids, at most `max`. */
export function idListParam(query: Query, max: number): string[] {
  const raw = query["id[]"] ?? query.id;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
  if (list.length > max) throw unprocessable(`at most ${max} ids at once`);
  return list;
}

/** A path id: anything but digits names no record. */
export function pathId(value: string): string {
  if (!/^[0-9]{1,19}$/.test(value)) throw notFound();
  return value;
}

/**
 * Mastodon's Link header (api/pagination.rb): `next` pages older (max_id = the page's last
 * id), `prev` newer (min_id = its first id); the other query parameters are kept. Built on
 * the node's public origin, never on the request's Host. Nothing on an empty page.
 */
export function linkHeader(origin: URL, pathname: string, query: Query, ids: readonly string[]): string | null {
  if (ids.length === 0) return null;
  const keep = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (["max_id", "min_id", "since_id"].includes(key) || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) keep.append(key, String(v));
  }
  const link = (name: string, id: string) => {
    const params = new URLSearchParams(keep);
    params.set(name, id);
    const url = new URL(pathname, origin);
    url.search = params.toString();
    return url.href;
  };
  return `<${link("max_id", ids[ids.length - 1]!)}>; rel="next", <${link("min_id", ids[0]!)}>; rel="prev"`;
}
