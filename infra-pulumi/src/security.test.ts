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

  test("admits Postgres only from the service groups", () => {
    expect(admitted(databaseGroup)).toEqual(only(serviceGroups, 5432));
  });

  test("admits Redis only from the services and the edge", () => {
    expect(admitted(cacheGroup)).toEqual(only([...serviceGroups, groupOf["edge"] ?? ""], 6379));
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
