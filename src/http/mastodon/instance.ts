/** The instance (v1, v2), and the start-up endpoints clients call before anything else. */
import type { FastifyInstance } from "fastify";
import { listPodAccounts, countPublicPosts } from "../../services/posts.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { accountEntity, instanceV1, instanceV2 } from "./entities.ts";
import { limitParam, unprocessable, type Query } from "./params.ts";

/** The oldest pod stands as the node's contact account. */
async function contactOf(deps: ServiceDeps) {
  const accounts = await listPodAccounts(deps);
  return { accounts, contact: accounts[0] ? accountEntity(deps, accounts[0]) : null };
}

export function registerInstanceV2Routes(v2: FastifyInstance, deps: ServiceDeps): void {
  v2.get("/instance", async () => {
    const { accounts, contact } = await contactOf(deps);
    return instanceV2(deps, { pods: accounts.length, contact });
  });
}

export function registerInstanceRoutes(v1: FastifyInstance, deps: ServiceDeps): void {
  const contact = () => contactOf(deps);
  v1.get("/instance", async () => {
    const [{ accounts, contact: account }, posts] = await Promise.all([contact(), countPublicPosts(deps)]);
    return instanceV1(deps, { pods: accounts.length, posts, domains: 0, contact: account });
  });

  // Nothing to list, in the shapes clients expect.
  for (const path of ["/instance/peers", "/instance/rules", "/instance/activity", "/instance/domain_blocks", "/custom_emojis", "/trends", "/trends/tags", "/trends/statuses", "/trends/links"]) {
    v1.get(path, async () => []);
  }
  v1.get("/instance/extended_description", async () => ({ updated_at: null, content: "" }));

  // The profile directory: this node's pods (all local).
  v1.get("/directory", async (request) => {
    const query = request.query as Query;
    const limit = limitParam(query, 40, 80);
    const offsetRaw = query.offset === undefined ? "0" : String(query.offset);
    if (!/^[0-9]{1,9}$/.test(offsetRaw)) throw unprocessable("offset must be a whole number");
    const accounts = await listPodAccounts(deps);
    return accounts.slice(Number(offsetRaw), Number(offsetRaw) + limit).map((a) => accountEntity(deps, a));
  });
}
