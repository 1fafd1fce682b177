/** Steward API routes of the congress: proposals. (Stub: filled in by the proposals work.) */
import type { ServiceDeps } from "../../services/ports.ts";
import type { RouteTable } from "./route.ts";

export function addProposalRoutes(_table: RouteTable, _deps: ServiceDeps): void {}
