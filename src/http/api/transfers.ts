/** Steward API routes of the congress: transfers. (Stub: filled in by the transfers work.) */
import type { ServiceDeps } from "../../services/ports.ts";
import type { RouteTable } from "./route.ts";

export function addTransferRoutes(_table: RouteTable, _deps: ServiceDeps): void {}
