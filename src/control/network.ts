// Guest networking, as seen by the lifecycle. The foundation knows two modes: the host's network
// (no interfaces/, util-vserver's behaviour) and an own namespace with loopback only (spaces/net),
// which the runtime creates with the guest. Addresses (interfaces/) plug in here.

import type { GuestConfig } from "../pure/config/guest-config";
import type { Env } from "./env";

export interface GuestNetwork {
  /** A network namespace path for the spec, when one was prepared before start. */
  netnsPath?: string;
}

export async function setupGuestNetwork(_env: Env, _g: GuestConfig): Promise<GuestNetwork> {
  return {};
}

/** After the guest's PID 1 exists (for modes that move links into its namespace). */
export async function attachGuestNetwork(_env: Env, _g: GuestConfig, _pid: number, _net: GuestNetwork): Promise<void> {}

export function teardownGuestNetwork(_env: Env, _name: string): void {}
