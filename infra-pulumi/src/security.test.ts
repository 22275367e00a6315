import { processes } from "@inv/service-catalog";
import { beforeAll, describe, expect, test } from "vitest";
import { ecsService } from "./testing/ecs.js";
import { runProgram, type CreatedResource, type MockCloud } from "./testing/mock-cloud.js";

const ingressRule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const egressRule = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const grpcPorts: Record<string, number> = Object.fromEntries(processes.map((p) => [p.name, p.grpcPort]));

describe("security groups of the dev stack", () => {
  let cloud: MockCloud;
  /** Security group id of each ECS service, by process name. */
  let groupOf: Record<string, string>;
  let serviceGroups: string[];
  let loadBalancerGroup: string;
  let databaseGroup: string;
  let cacheGroup: string;
  let migrateGroup: string;

  /** Ingress rules of a group as "source:port", the source being a group id or a CIDR. */
  const admitted = (groupId: string) =>
    cloud
      .ofType(ingressRule)
      .filter((r) => r.inputs["securityGroupId"] === groupId)
      .map((r) => `${r.inputs["referencedSecurityGroupId"] ?? r.inputs["cidrIpv4"]}:${r.inputs["fromPort"]}-${r.inputs["toPort"]}`)
      .sort();
  const only = (sources: string[], port: number) => sources.map((s) => `${s}:${port}-${port}`).sort();

  beforeAll(async () => {
    ({ cloud } = await runProgram("dev"));
    const groupsOf = (resource: CreatedResource) => resource.inputs["networkConfiguration"].securityGroups as string[];
    groupOf = Object.fromEntries(
      cloud.ofType(ecsService).map((s) => {
        const [group, ...more] = groupsOf(s);
        if (!group || more.length > 0) throw new Error(`${s.inputs["name"]} should have exactly one security group`);
        return [s.inputs["name"] as string, group];
      }),
    );
    serviceGroups = Object.keys(grpcPorts).map((name) => groupOf[name] ?? "");
    loadBalancerGroup = cloud.ofType("aws:lb/loadBalancer:LoadBalancer")[0]?.inputs["securityGroups"][0];
    databaseGroup = cloud.ofType("aws:rds/instance:Instance")[0]?.inputs["vpcSecurityGroupIds"][0];
    cacheGroup = cloud.ofType("aws:elasticache/replicationGroup:ReplicationGroup")[0]?.inputs["securityGroupIds"][0];
    migrateGroup = cloud.named("aws:ec2/securityGroup:SecurityGroup", "inventory-dev-migrate").id;
  });

  test("gives each process a group of its own", () => {
    const groups = Object.values(groupOf);
    expect(groups).toHaveLength(5);
    expect(new Set([...groups, loadBalancerGroup, databaseGroup, cacheGroup]).size).toBe(8);
  });

  test("opens only the load balancer to the internet, on 80 and 443", () => {
    const open = cloud.ofType(ingressRule).filter((r) => r.inputs["cidrIpv4"] !== undefined || r.inputs["cidrIpv6"] !== undefined);
    expect(open.map((r) => [r.inputs["securityGroupId"], r.inputs["cidrIpv4"], r.inputs["fromPort"]]).sort()).toEqual([
      [loadBalancerGroup, "0.0.0.0/0", 443],
      [loadBalancerGroup, "0.0.0.0/0", 80],
    ]);
    expect(admitted(loadBalancerGroup)).toEqual([...only(["0.0.0.0/0"], 443), ...only(["0.0.0.0/0"], 80)]);
  });

  test("admits the edge's HTTP port only from the load balancer", () => {
    expect(admitted(groupOf["edge"] ?? "")).toEqual(only([loadBalancerGroup], 8080));
  });

  test.each(Object.entries(grpcPorts))("admits %s's gRPC port %i only from the edge and the services", (name, port) => {
    expect(admitted(groupOf[name] ?? "")).toEqual(only([groupOf["edge"] ?? "", ...serviceGroups], port));
  });

  test("admits Postgres only from the services that keep data and the migration task", () => {
    const owners = processes.filter((p) => p.databaseSchema !== null).map((p) => groupOf[p.name] ?? "");
    expect(admitted(databaseGroup)).toEqual(only([...owners, migrateGroup], 5432));
    expect(admitted(databaseGroup)).not.toContainEqual(expect.stringContaining(groupOf["edge"] ?? "edge"));
  });

  test("runs the migration task in a group that admits nothing and sends only to Postgres and HTTPS", () => {
    const run = cloud.named("command:local:Command", "inventory-dev-migrate-run");
    expect(run.inputs["environment"]["SECURITY_GROUP"]).toBe(migrateGroup);
    expect(admitted(migrateGroup)).toEqual([]);
    const sends = cloud
      .ofType(egressRule)
      .filter((r) => r.inputs["securityGroupId"] === migrateGroup)
      .map((r) => `${r.inputs["referencedSecurityGroupId"] ?? r.inputs["cidrIpv4"]}:${r.inputs["fromPort"]}`);
    expect(sends).toEqual(expect.arrayContaining([`${databaseGroup}:5432`, "0.0.0.0/0:443"]));
    expect(sends.filter((s) => !s.endsWith(":443") && !s.endsWith(":5432"))).toEqual([]);
  });

  test("admits Redis only from the services and the edge", () => {
    expect(admitted(cacheGroup)).toEqual(only([...serviceGroups, groupOf["edge"] ?? ""], 6379));
  });

  test("admits HTTPS at the VPC interface endpoints only from the tasks: edge, services and the migration", () => {
    const endpoints = cloud.named("aws:ec2/securityGroup:SecurityGroup", "inventory-dev-endpoints").id;
    expect(admitted(endpoints)).toEqual(only([groupOf["edge"] ?? "", ...serviceGroups, migrateGroup], 443));
    expect(cloud.ofType(egressRule).filter((r) => r.inputs["securityGroupId"] === endpoints)).toEqual([]);
  });

  test("lets the load balancer send only to the edge, and the data stores send nothing", () => {
    const sends = (groupId: string) =>
      cloud
        .ofType(egressRule)
        .filter((r) => r.inputs["securityGroupId"] === groupId)
        .map((r) => [r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"]]);
    expect(sends(loadBalancerGroup)).toEqual([[groupOf["edge"], 8080]]);
    expect(sends(databaseGroup)).toEqual([]);
    expect(sends(cacheGroup)).toEqual([]);
  });

  test("declares no inline rules that could bypass the separate ones", () => {
    for (const group of cloud.ofType("aws:ec2/securityGroup:SecurityGroup")) {
      expect(group.inputs["ingress"] ?? []).toEqual([]);
      expect(group.inputs["egress"] ?? []).toEqual([]);
    }
  });
});
