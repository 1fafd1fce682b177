/** Steward API routes of the open books: resources, members, ledger entries, import and export. */
import type { ServiceDeps } from "../../services/ports.ts";
import type { RouteTable } from "./route.ts";

export function addBookRoutes(_table: RouteTable, _deps: ServiceDeps): void {}
