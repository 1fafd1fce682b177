/**
 * Transfers between pods (FEP-3264 EconomicEvent, `context` = the Agreement). (Stub:
 * filled in by the transfers work.)
 */
import type { OutboundEvent, ServiceDeps } from "../services/ports.ts";
import type { PublishEnv, PublishResult } from "./publish.ts";

/** Our side of a transfer as an EconomicEvent, served at its id (congress-route.ts). */
export async function transferDocument(_deps: ServiceDeps, _slug: string, _transferId: string): Promise<Record<string, unknown> | null> {
  return null;
}

export async function publishTransferEvent(_env: PublishEnv, _event: Extract<OutboundEvent, { kind: "transfer_event" }>): Promise<PublishResult> {
  return { dropped: "not implemented yet" };
}

export async function publishTransferFlag(_env: PublishEnv, _event: Extract<OutboundEvent, { kind: "transfer_flag" }>): Promise<PublishResult> {
  return { dropped: "not implemented yet" };
}
