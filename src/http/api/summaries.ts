/** Steward API routes of period summaries and sovereignty indicators. */
import type { ServiceDeps } from "../../services/ports.ts";
import type { RouteTable } from "./route.ts";

export function addSummaryRoutes(_table: RouteTable, _deps: ServiceDeps): void {}
