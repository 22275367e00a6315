import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { edgeProcess, type ProcessName, type ServiceProcess, serviceProcesses } from "./processes.js";

export const postgresPort = 5432;
export const redisPort = 6379;
const https = 443;
const anywhere = "0.0.0.0/0";

export interface SecurityGroupsArgs {
  vpcId: pulumi.Input<string>;
  /** The service processes (default: the catalog's); those with a `databaseSchema` reach Postgres. */
  processes?: readonly ServiceProcess[];
}

type Group = aws.ec2.SecurityGroup;

/**
 * Who may talk to whom, in one place. Every group starts closed (the provider drops AWS's default allow-all
 * egress) and each rule names the group it admits, so only the load balancer is reachable from the internet:
 *
 *   internet ─80/443─▶ alb ─8080─▶ edge ─gRPC─▶ services ─5432─▶ database ◀─5432─ migrate
 *                                    └──────────┴──6379──▶ cache
 *
 * Only the services that keep data (a `databaseSchema` in the catalog) and the migration task reach Postgres.
 * Tasks reach AWS APIs (ECR, CloudWatch Logs, Secrets Manager) on 443 at the VPC interface endpoints, whose group
 * admits the tasks alone; S3 (ECR's image layers) through its gateway endpoint, anything else through NAT.
 */
export class SecurityGroups extends pulumi.ComponentResource {
  readonly loadBalancer: Group;
  readonly edge: Group;
  readonly services: Record<ProcessName, Group>;
  /** The one-off migration task: Postgres and AWS APIs out, nothing in. */
  readonly migrate: Group;
  readonly database: Group;
  readonly cache: Group;
  /** The VPC interface endpoints (ECR, CloudWatch Logs, Secrets Manager): HTTPS from the tasks only. */
  readonly endpoints: Group;

  constructor(name: string, args: SecurityGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:SecurityGroups", name, {}, opts);
    const roles = new Map<Group, string>();
    const group = (role: string, description: string) => {
      const created = new aws.ec2.SecurityGroup(
        `${name}-${role}`,
        {
          vpcId: args.vpcId,
          description,
          tags: { Name: `${name}-${role}` },
        },
        { parent: this },
      );
      roles.set(created, role);
      return created;
    };

    this.loadBalancer = group("alb", "Public HTTP(S) into the edge load balancer");
    this.edge = group("edge", "Edge tasks: HTTP from the load balancer only");
    const processes = args.processes ?? serviceProcesses;
    this.services = Object.fromEntries(
      processes.map((p) => [p.name, group(p.name, `${p.name} tasks: gRPC ${p.grpcPort} from the edge and the services`)]),
    ) as Record<ProcessName, Group>;
    this.migrate = group("migrate", "Migration task: Postgres and AWS APIs out, nothing in");
    this.database = group("database", `Postgres ${postgresPort} from the services that keep data and the migration task only`);
    this.cache = group("cache", `Redis ${redisPort} from the services and the edge only`);
    this.endpoints = group("endpoints", "VPC interface endpoints: HTTPS from the tasks only");
    const serviceGroups = processes.map((p) => ({ process: p, group: this.services[p.name] }));

    const allow = new Rules(name, (g) => roles.get(g) ?? "unknown", this);
    for (const port of [80, https]) allow.fromCidr(this.loadBalancer, anywhere, port);
    allow.between(this.loadBalancer, this.edge, edgeProcess.httpPort);

    for (const target of serviceGroups) {
      allow.between(this.edge, target.group, target.process.grpcPort);
      for (const caller of serviceGroups) allow.between(caller.group, target.group, target.process.grpcPort);
    }
    const dataOwners = serviceGroups.filter((s) => s.process.databaseSchema !== null).map((s) => s.group);
    for (const caller of [...dataOwners, this.migrate]) allow.between(caller, this.database, postgresPort);
    for (const caller of [this.edge, ...serviceGroups.map((s) => s.group)]) allow.between(caller, this.cache, redisPort);
    const tasks = [this.edge, ...serviceGroups.map((s) => s.group), this.migrate];
    for (const task of tasks) allow.between(task, this.endpoints, https);
    // S3 (image layers, through the gateway endpoint) has no group to name, and NAT is the way to anything else.
    for (const task of tasks) allow.toCidr(task, anywhere, https);

    this.registerOutputs({});
  }
}

/** Creates matching ingress and egress rules, named after the groups they join. */
class Rules {
  constructor(
    private readonly prefix: string,
    private readonly role: (group: Group) => string,
    private readonly parent: pulumi.Resource,
  ) {}

  between(from: Group, to: Group, port: number): void {
    const name = `${this.prefix}-${this.role(from)}-to-${this.role(to)}-${port}`;
    new aws.vpc.SecurityGroupIngressRule(
      name,
      {
        securityGroupId: to.id,
        referencedSecurityGroupId: from.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
      },
      { parent: this.parent },
    );
    new aws.vpc.SecurityGroupEgressRule(
      name,
      {
        securityGroupId: from.id,
        referencedSecurityGroupId: to.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
      },
      { parent: this.parent },
    );
  }

  fromCidr(to: Group, cidrIpv4: string, port: number): void {
    new aws.vpc.SecurityGroupIngressRule(
      `${this.prefix}-internet-to-${this.role(to)}-${port}`,
      {
        securityGroupId: to.id,
        cidrIpv4,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
      },
      { parent: this.parent },
    );
  }

  toCidr(from: Group, cidrIpv4: string, port: number): void {
    new aws.vpc.SecurityGroupEgressRule(
      `${this.prefix}-${this.role(from)}-to-internet-${port}`,
      {
        securityGroupId: from.id,
        cidrIpv4,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
      },
      { parent: this.parent },
    );
  }
}
