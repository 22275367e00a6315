/**
 * The one declaration of the platform's processes: what each serves, where it listens and what it
 * keeps. Plain data with no generated code behind it, so deployment code and drift tests can read
 * it before (or without) codegen. `npm start`, the edge, compose, the Dockerfile and the AWS stack
 * all derive from it; adding a service process means one entry here plus its `services/<name>`
 * folder.
 */

/** Public services are routed by the edge; internal ones only other services call over gRPC. */
export type Visibility = "public" | "internal";

export interface ServiceDeclaration {
  /** Fully-qualified protobuf name, e.g. "warehouse.v1.WarehouseService". */
  readonly typeName: string;
  readonly visibility: Visibility;
}

export interface ProcessDeclaration<Name extends string = ProcessName> {
  /** Folder (`services/<name>`), container, Cloud Map and log name. */
  readonly name: Name;
  /** The gRPC port it listens on unless told otherwise. */
  readonly grpcPort: number;
  /** Its own Postgres schema, or null while it keeps no data. */
  readonly databaseSchema: string | null;
  readonly services: readonly ServiceDeclaration[];
}

const declared = [
  {
    name: "warehouse",
    grpcPort: 50051,
    databaseSchema: "warehouse",
    services: [{ typeName: "warehouse.v1.WarehouseService", visibility: "public" }],
  },
  {
    name: "inventory",
    grpcPort: 50052,
    databaseSchema: "inventory",
    services: [
      { typeName: "inventory.v1.ItemService", visibility: "public" },
      { typeName: "inventory.v1.StockService", visibility: "public" },
      { typeName: "inventory.v1.HoldService", visibility: "internal" },
      { typeName: "inventory.v1.StorageUsageService", visibility: "internal" },
      { typeName: "inventory.v1.TrackedUnitService", visibility: "public" },
      { typeName: "inventory.v1.ReportService", visibility: "public" },
    ],
  },
  {
    name: "reservation",
    grpcPort: 50053,
    databaseSchema: "reservation",
    services: [{ typeName: "reservation.v1.ReservationService", visibility: "public" }],
  },
  {
    name: "user",
    grpcPort: 50054,
    databaseSchema: "user",
    services: [
      { typeName: "user.v1.UserService", visibility: "public" },
      { typeName: "user.v1.TokenService", visibility: "internal" },
      { typeName: "user.v1.AuditRecordService", visibility: "internal" },
    ],
  },
] as const satisfies readonly ProcessDeclaration<string>[];

export type ProcessName = (typeof declared)[number]["name"];

/** Every service process, in the order `npm start` starts them. */
export const processes: readonly ProcessDeclaration[] = declared;

/** The HTTP edge: REST, Connect and gRPC-Web in front of every public service. */
export const edge = {
  name: "edge",
  httpPort: 8080,
  /** Answers 200 while the process runs: the container's and the load balancer's health check. */
  livenessPath: "/healthz",
  /** Answers 200 only while every upstream service answers SERVING. */
  readinessPath: "/readyz",
} as const;
