/**
 * Helpers that both tests and the benchmark use; nothing here imports vitest.
 */
import net from "node:net";
import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * A port for a server that must know its URL before it listens. Ports come from below
 * the kernel's ephemeral range (32768+ on Linux), which outgoing connections draw from:
 * a port picked there can be taken by some client socket before our server binds it.
 */
const PORT_RANGE = { from: 20_000, to: 32_000 };
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (await canBind(port)) return port;
  }
  throw new Error("No free port found below the ephemeral range");
}

export const POSTGRES_ADMIN_URL = process.env.HYPHAE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A fresh, empty PostgreSQL database on the server of `adminUrl`; returns its URL and a dropper. */
export async function createPostgresDatabase(adminUrl: string = POSTGRES_ADMIN_URL): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `hyphae_t_${randomBytes(8).toString("hex")}`;
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) };
}
