import type { DescService } from "@bufbuild/protobuf";
import { AUTHENTICATED, PUBLIC, requiredPermission } from "@inv/platform";

/**
 * What each permission allows, in one sentence, for ListPermissions and the admin UI. A test
 * fails when a contract declares a permission missing here, so a new permission cannot ship
 * undocumented.
 */
export const PERMISSION_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "apikey.manage": "Create, read, list and revoke API keys.",
  "audit.read": "Read the audit trail of every service.",
  "audit.write": "Store audit records shipped by the platform's services (platform services only).",
  "item.read": "Read item types and items.",
  "item.write": "Create, change and delete item types and items.",
  "report.read": "Run and export inventory, movement and low-stock reports.",
  "reservation.manage": "Reserve stock and confirm, cancel, fulfil or extend reservations.",
  "reservation.read": "Read reservations.",
  "stock.hold": "Place, commit and release stock holds (platform services only).",
  "stock.read": "Read stock levels, availability and movements, and watch stock changes.",
  "stock.write": "Receive, adjust, transfer and set stock.",
  "storage.usage": "Read how much stock a warehouse or location stores (platform services only).",
  "token.introspect": "Check credentials and read the current rights behind them (platform services only).",
  "unit.read": "Read tracked units with their moves and assignments.",
  "unit.write": "Create, change, delete, move and assign tracked units.",
  "user.admin": "Create, change and delete users and roles, assign roles and reset passwords.",
  "user.read": "Read users, roles and the list of permissions.",
  "warehouse.read": "Read warehouses, location types and locations.",
  "warehouse.write": "Create, change and delete warehouses, location types and locations.",
};

export interface KnownPermission {
  readonly name: string;
  readonly description: string;
  /** Full RPC names, "inventory.v1.StockService.AdjustStock", sorted. */
  readonly methods: readonly string[];
}

/** The permissions the contracts declare, read once from the service descriptors. */
export class PermissionCatalog {
  readonly permissions: readonly KnownPermission[];
  readonly #names: ReadonlySet<string>;
  readonly #domains: ReadonlySet<string>;

  constructor(services: readonly DescService[]) {
    const methods = new Map<string, string[]>();
    for (const service of services) {
      for (const method of service.methods) {
        const permission = requiredPermission(method);
        if (permission === undefined || permission === PUBLIC || permission === AUTHENTICATED) continue;
        methods.set(permission, [...(methods.get(permission) ?? []), `${service.typeName}.${method.name}`]);
      }
    }
    this.permissions = [...methods.keys()].sort().map((name) => ({
      name,
      description: PERMISSION_DESCRIPTIONS[name] ?? "",
      methods: [...new Set(methods.get(name))].sort(),
    }));
    this.#names = new Set(methods.keys());
    this.#domains = new Set([...methods.keys()].map(domainOf));
  }

  /** The permissions of one domain ("stock"), or all of them. */
  list(domain?: string): readonly KnownPermission[] {
    return domain ? this.permissions.filter((p) => domainOf(p.name) === domain) : this.permissions;
  }

  /** Whether a role may grant this: a declared permission, "*", or "<declared domain>.*". */
  isGrantable(permission: string): boolean {
    if (permission === "*" || this.#names.has(permission)) return true;
    return permission.endsWith(".*") && this.#domains.has(permission.slice(0, -2));
  }
}

const domainOf = (permission: string) => permission.slice(0, permission.indexOf("."));
