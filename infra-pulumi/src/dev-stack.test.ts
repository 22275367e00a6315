import { edge, processes } from "@inv/service-catalog";
import { beforeAll, describe, expect, test } from "vitest";
import { acceptsTags } from "./testing/aws-schema.js";
import { containersOf, ecsService, processOn } from "./testing/ecs.js";
import { runProgram, testImage, type MockCloud } from "./testing/mock-cloud.js";

const services = processes.map((p) => ({ name: p.name, port: p.grpcPort }));

describe("the dev stack", () => {
  let cloud: MockCloud;
  let outputs: Record<string, unknown>;

  beforeAll(async () => {
    ({ cloud, outputs } = await runProgram("dev"));
  });

  test("runs one Fargate service per process plus the edge, each registered in Cloud Map", () => {
    const running = cloud.ofType(ecsService);
    expect(running.map((s) => s.inputs["name"]).sort()).toEqual([edge.name, ...services.map((s) => s.name)].sort());
    const namespace = cloud.ofType("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace");
    expect(namespace.map((n) => n.inputs["name"])).toEqual(["inventory.internal"]);
    for (const service of running) {
      expect(service.inputs).toMatchObject({ launchType: "FARGATE", networkConfiguration: { assignPublicIp: false } });
      const registry = cloud.referredTo(service.inputs["serviceRegistries"].registryArn);
      expect(registry.inputs).toMatchObject({
        name: service.inputs["name"],
        dnsConfig: { namespaceId: namespace[0]?.id, routingPolicy: "MULTIVALUE", dnsRecords: [{ type: "A" }] },
      });
    }
  });

  test("runs the services in the private subnets", () => {
    for (const service of cloud.ofType(ecsService)) {
      const subnets = (service.inputs["networkConfiguration"].subnets as string[]).map((id) => cloud.referredTo(id).name);
      expect(subnets.sort()).toEqual(["inventory-dev-private-1", "inventory-dev-private-2"]);
    }
  });

  test.each(services)("starts $name from the shared image on its gRPC port, health-checked over grpc.health.v1", ({ name, port }) => {
    const { container, environment } = processOn(cloud, name);
    expect(container.image).toBe(testImage);
    expect(container.command).toEqual(["node", "--import", "tsx", `services/${name}/src/main.ts`]);
    expect(container.portMappings).toEqual([expect.objectContaining({ containerPort: port })]);
    expect(environment).toMatchObject({ GRPC_PORT: String(port), GRPC_HOST: "0.0.0.0" });
    expect(container.healthCheck.command).toEqual(["CMD", "node", "--import", "tsx", "scripts/grpc-health.ts", `127.0.0.1:${port}`]);
  });

  test("points the edge at every service through its Cloud Map name", () => {
    const { container, environment } = processOn(cloud, "edge");
    expect(container.command).toEqual(["node", "--import", "tsx", "edge/src/main.ts"]);
    expect(environment).toMatchObject({
      HTTP_PORT: "8080",
      WAREHOUSE_GRPC_TARGET: "dns:///warehouse.inventory.internal:50051",
      INVENTORY_GRPC_TARGET: "dns:///inventory.inventory.internal:50052",
      RESERVATION_GRPC_TARGET: "dns:///reservation.inventory.internal:50053",
      USER_GRPC_TARGET: "dns:///user.inventory.internal:50054",
    });
    expect(container.healthCheck.command.join(" ")).toContain("http://127.0.0.1:8080/readyz");
  });

  test("puts the edge behind the load balancer's ip target group, health-checked on /readyz", () => {
    const { service } = processOn(cloud, "edge");
    const [registration, ...more] = service.inputs["loadBalancers"] as { targetGroupArn: string; containerName: string; containerPort: number }[];
    expect(more).toEqual([]);
    expect(registration).toMatchObject({ containerName: "edge", containerPort: 8080 });
    const targetGroup = cloud.referredTo(registration?.targetGroupArn ?? "");
    expect(targetGroup.inputs).toMatchObject({
      targetType: "ip",
      port: 8080,
      protocol: "HTTP",
      healthCheck: { path: "/readyz", matcher: "200" },
    });
    const [listener] = cloud.ofType("aws:lb/listener:Listener");
    expect(listener?.inputs).toMatchObject({ port: 80, protocol: "HTTP", defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }] });
    const loadBalancer = cloud.referredTo(listener?.inputs["loadBalancerArn"]);
    expect(loadBalancer.inputs).toMatchObject({ loadBalancerType: "application", internal: false });
    for (const other of cloud.ofType(ecsService).filter((s) => s !== service)) expect(other.inputs["loadBalancers"] ?? []).toEqual([]);
  });

  test("scales every service between its bounds on 70 % average CPU", () => {
    const targets = cloud.ofType("aws:appautoscaling/target:Target");
    expect(targets.map((t) => t.inputs["resourceId"]).sort()).toEqual(
      ["edge", "inventory", "reservation", "user", "warehouse"].map((s) => `service/inventory-dev/${s}`),
    );
    for (const target of targets) expect(target.inputs).toMatchObject({ minCapacity: 1, maxCapacity: 2, scalableDimension: "ecs:service:DesiredCount" });
    const policies = cloud.ofType("aws:appautoscaling/policy:Policy");
    expect(policies).toHaveLength(targets.length);
    for (const policy of policies) {
      expect(policy.inputs).toMatchObject({
        policyType: "TargetTrackingScaling",
        targetTrackingScalingPolicyConfiguration: {
          targetValue: 70,
          predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
        },
      });
    }
  });

  test("hands DATABASE_URL and REDIS_URL to the tasks only as Secrets Manager secrets", () => {
    const secretArns = cloud.ofType("aws:secretsmanager/secretVersion:SecretVersion").map((v) => v.arn);
    for (const { name } of services) {
      const { container } = processOn(cloud, name);
      expect(container.secrets.map((s) => s.name).sort()).toEqual(["DATABASE_URL", "REDIS_URL"]);
      for (const secret of container.secrets) expect(secretArns).toContain(secret.valueFrom);
    }
    expect(processOn(cloud, "edge").container.secrets.map((s) => s.name)).toEqual(["REDIS_URL"]);
  });

  test("puts no plain-text credential in any task definition", () => {
    const generated = cloud.generatedSecrets();
    expect(generated).toHaveLength(2);
    for (const taskDefinition of cloud.ofType("aws:ecs/taskDefinition:TaskDefinition")) {
      const [container] = containersOf(taskDefinition);
      const names = container?.environment.map((e) => e.name) ?? [];
      expect(names).not.toContain("DATABASE_URL");
      expect(names).not.toContain("REDIS_URL");
      const text = taskDefinition.inputs["containerDefinitions"] as string;
      expect(text).not.toMatch(/postgres(ql)?:\/\/|rediss?:\/\//);
      for (const secret of generated) expect(text).not.toContain(secret);
    }
  });

  test("lets each task's execution role read only its own secrets and logs", () => {
    const { taskDefinition, container } = processOn(cloud, "edge");
    const role = cloud.referredTo(taskDefinition.inputs["executionRoleArn"]);
    const [policy] = cloud.ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs["role"] === role.id);
    const statements = JSON.parse(policy?.inputs["policy"] as string).Statement as { Action: string[]; Resource: unknown }[];
    const secretsStatement = statements.find((s) => s.Action.includes("secretsmanager:GetSecretValue"));
    expect(secretsStatement?.Resource).toEqual(container.secrets.map((s) => s.valueFrom));
    expect(taskDefinition.inputs["taskRoleArn"]).toBeUndefined();
  });

  test("sends every container's output to its own CloudWatch log group", () => {
    for (const taskDefinition of cloud.ofType("aws:ecs/taskDefinition:TaskDefinition")) {
      const [container] = containersOf(taskDefinition);
      expect(container?.logConfiguration).toMatchObject({
        logDriver: "awslogs",
        options: { "awslogs-group": `/ecs/inventory-dev/${container?.name}`, "awslogs-region": "eu-central-1" },
      });
    }
    const groups = cloud.ofType("aws:cloudwatch/logGroup:LogGroup");
    expect(groups).toHaveLength(5);
    for (const group of groups) expect(group.inputs["retentionInDays"]).toBe(7);
  });

  test("runs a single-AZ database and a single NAT gateway", () => {
    expect(cloud.ofType("aws:rds/instance:Instance").map((db) => db.inputs["multiAz"])).toEqual([false]);
    expect(cloud.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(1);
  });

  test("tags every taggable resource with the product and the environment", () => {
    const taggable = cloud.resources.filter((r) => acceptsTags(r.type));
    expect(taggable.length).toBeGreaterThan(100);
    for (const resource of taggable) {
      expect({ resource: `${resource.type} ${resource.name}`, tags: resource.inputs["tags"] }).toMatchObject({
        tags: { product: "inventory-management", environment: "dev" },
      });
    }
  });

  test("exports the load balancer's URL", () => {
    expect(outputs["url"]).toBe("http://inventory-dev-edge.eu-central-1.elb.amazonaws.test");
  });
});
