/** Who is acting: a principal from an API key (or later an OIDC token), or the system itself. */
export interface Actor {
  id: string;
  name: string;
  roles: string[];
  /** Agency or unit code the principal acts for, if any. */
  agency: string | null;
  requestId?: string;
}

export const SYSTEM_TIMER: Actor = { id: 'system:timer', name: 'Job executor', roles: ['system'], agency: null };
