import { beforeAll, describe, expect, test } from "vitest";
import { settled, startMockCloud, zones, type MockCloud } from "./testing/mock-cloud.js";

const subnet = "aws:ec2/subnet:Subnet";
const routeTable = "aws:ec2/routeTable:RouteTable";

describe("Network", () => {
  let cloud: MockCloud;

  beforeAll(async () => {
    cloud = await startMockCloud({});
    const { Network } = await import("./network.js");
    new Network("shared", { natGatewayPerZone: false, availabilityZones: zones.slice(0, 2) });
    new Network("zonal", { natGatewayPerZone: true, availabilityZones: zones.slice(0, 2) });
    await settled();
  });

  const of = (type: string, network: string) => cloud.ofType(type).filter((r) => r.name.startsWith(`${network}-`) || r.name === network);

  test("creates one VPC 10.0.0.0/16 with DNS hostnames for Cloud Map and the databases", () => {
    const vpc = cloud.named("aws:ec2/vpc:Vpc", "shared");
    expect(vpc.inputs).toMatchObject({ cidrBlock: "10.0.0.0/16", enableDnsHostnames: true, enableDnsSupport: true });
  });

  test("lays six subnets, public, private and database, over two zones", () => {
    const subnets = of(subnet, "shared").map((s) => [s.name, s.inputs["cidrBlock"], s.inputs["availabilityZone"]]);
    expect(subnets).toEqual(
      expect.arrayContaining([
        ["shared-public-1", "10.0.1.0/24", zones[0]],
        ["shared-public-2", "10.0.2.0/24", zones[1]],
        ["shared-private-1", "10.0.10.0/24", zones[0]],
        ["shared-private-2", "10.0.11.0/24", zones[1]],
        ["shared-database-1", "10.0.20.0/24", zones[0]],
        ["shared-database-2", "10.0.21.0/24", zones[1]],
      ]),
    );
    expect(subnets).toHaveLength(6);
    expect(new Set(subnets.map(([, , zone]) => zone))).toEqual(new Set([zones[0], zones[1]]));
  });

  test("routes public subnets to the internet gateway and private subnets through NAT", () => {
    expect(cloud.named(routeTable, "shared-public").inputs["routes"]).toEqual([{ cidrBlock: "0.0.0.0/0", gatewayId: "InternetGateway-shared" }]);
    for (const zone of [1, 2]) {
      expect(cloud.named(routeTable, `shared-private-${zone}`).inputs["routes"]).toEqual([{ cidrBlock: "0.0.0.0/0", natGatewayId: "NatGateway-shared-nat-1" }]);
    }
  });

  test("gives the database subnets no route out of the VPC", () => {
    const table = cloud.named(routeTable, "shared-database");
    expect(table.inputs["routes"] ?? []).toEqual([]);
    const associated = cloud
      .ofType("aws:ec2/routeTableAssociation:RouteTableAssociation")
      .filter((a) => a.inputs["routeTableId"] === table.id)
      .map((a) => cloud.referredTo(a.inputs["subnetId"]).name);
    expect(associated.sort()).toEqual(["shared-database-1", "shared-database-2"]);
  });

  test("associates every subnet with exactly one route table", () => {
    const associations = of("aws:ec2/routeTableAssociation:RouteTableAssociation", "shared");
    const subnetIds = of(subnet, "shared")
      .map((s) => s.id)
      .sort();
    expect(associations.map((a) => a.inputs["subnetId"]).sort()).toEqual(subnetIds);
  });

  test("shares one NAT gateway, or puts one in each zone's public subnet when asked", () => {
    expect(of("aws:ec2/natGateway:NatGateway", "shared")).toHaveLength(1);
    const zonal = of("aws:ec2/natGateway:NatGateway", "zonal").map((n) => cloud.referredTo(n.inputs["subnetId"]).name);
    expect(zonal.sort()).toEqual(["zonal-public-1", "zonal-public-2"]);
    expect(cloud.named(routeTable, "zonal-private-2").inputs["routes"]).toEqual([{ cidrBlock: "0.0.0.0/0", natGatewayId: "NatGateway-zonal-nat-2" }]);
  });
});
