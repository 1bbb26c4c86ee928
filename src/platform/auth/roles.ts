/**
 * Staff roles and the permissions they grant. The platform declares its own
 * permissions here; each module declares its own with definePermissions() from its
 * index.ts, naming which roles get them. An admin holds every permission.
 */
export const STAFF_ROLES = ['admin', 'officer', 'service', 'care', 'comms', 'viewer'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export const ROLE_DESCRIPTIONS: Record<StaffRole, string> = {
  admin: 'Manages staff accounts, API keys and settings; can do everything',
  officer: 'IoT and smart-places officer: estate, devices and rules',
  service: 'Service team (parking, waste, libraries, schools): dashboards, alarms and resident messages',
  care: 'Care and telecare team: alarms from homes, escalation, lone-worker check-ins',
  comms: 'Comms and digital team: templates, campaigns, feedback and reports',
  viewer: 'Can look at everything in the console that is not personal data, and change nothing',
};

const grants = new Map<string, { description: string; roles: Set<StaffRole> }>();

export function definePermissions(defs: Record<string, { description: string; roles: StaffRole[] }>): void {
  for (const [name, def] of Object.entries(defs)) {
    grants.set(name, { description: def.description, roles: new Set<StaffRole>(['admin', ...def.roles]) });
  }
}

definePermissions({
  'console:access': { description: 'Sign in to the staff console', roles: ['officer', 'service', 'care', 'comms', 'viewer'] },
  'account:manage': { description: 'Change your own password', roles: ['officer', 'service', 'care', 'comms', 'viewer'] },
  'audit:read': { description: 'Search the audit log', roles: [] },
  'users:manage': { description: 'Create, change and deactivate staff accounts', roles: [] },
  'keys:manage': { description: 'Create and revoke API keys', roles: [] },
  'metrics:read': { description: 'Read Prometheus metrics', roles: [] },
});

export function allPermissions(): string[] {
  return [...grants.keys()].sort();
}

export function permissionDescription(name: string): string | undefined {
  return grants.get(name)?.description;
}

export function isPermission(name: string): boolean {
  return grants.has(name);
}

/** Every permission the given roles hold together. */
export function permissionsOf(roles: Iterable<string>): Set<string> {
  const held = new Set<string>();
  for (const role of roles) {
    for (const [name, g] of grants) if (g.roles.has(role as StaffRole)) held.add(name);
  }
  return held;
}
